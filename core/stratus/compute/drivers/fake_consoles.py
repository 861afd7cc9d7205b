"""The fake hypervisor's consoles: a TCP listener on 127.0.0.1 per server and protocol, made when
first asked for and closed when the guest stops or goes, so the console proxy has something real
to relay. ``serial`` sends the guest's console log, then echoes what it receives (as a terminal
with echo on would); ``vnc`` speaks RFB 3.8 as far as a client's first screen (version, security
type None, ServerInit of a 640x480 desktop named after the server), then reads what comes."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

RFB_VERSION = b"RFB 003.008\n"
#: 32 bits per pixel, depth 24, little endian, true colour, 8 bits per channel (shifts 16, 8, 0)
PIXEL_FORMAT = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


def _read(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


def _rfb_handshake(client: socket.socket, name: bytes) -> None:
    """RFB 3.8 up to ServerInit: security type None only."""
    client.sendall(RFB_VERSION)
    _read(client, 12)  # the client's version
    client.sendall(bytes((1, 1)))  # one security type: None
    _read(client, 1)
    client.sendall(struct.pack(">I", 0))  # SecurityResult: OK
    _read(client, 1)  # ClientInit (shared flag)
    client.sendall(struct.pack(">HH", 640, 480) + PIXEL_FORMAT + struct.pack(">I", len(name)) + name)


class _Listener:
    def __init__(self, protocol: str, greeting: Callable[[], bytes], name: str) -> None:
        self.protocol, self.greeting, self.name = protocol, greeting, name.encode()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(4)
        self.port = self.socket.getsockname()[1]
        self.clients: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"fake-{protocol}-console", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            with self._lock:
                self.clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError, ConnectionError), client:
            if self.protocol == "serial":
                client.sendall(self.greeting())
            else:
                _rfb_handshake(client, self.name)
            while data := client.recv(4096):
                if self.protocol == "serial":
                    client.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        with self._lock:
            for client in self.clients:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)


class Consoles:
    """One host's console listeners."""

    def __init__(self) -> None:
        self._listeners: dict[tuple[str, str], _Listener] = {}
        self._lock = threading.Lock()

    def port(self, uuid: str, protocol: str, console_log: Callable[[], str]) -> int:
        with self._lock:
            listener = self._listeners.get((uuid, protocol))
            if listener is None:
                listener = _Listener(protocol, lambda: console_log().replace("\n", "\r\n").encode(), uuid)
                self._listeners[(uuid, protocol)] = listener
            return listener.port

    def close(self, uuid: str) -> None:
        with self._lock:
            gone = [self._listeners.pop(key) for key in list(self._listeners) if key[0] == uuid]
        for listener in gone:
            listener.close()
