"""The fake hypervisor's consoles: a TCP listener on 127.0.0.1 per server and protocol, made when
first asked for and closed when the guest stops or goes, so the console proxy has something real
to relay. ``serial`` sends the guest's console log, then echoes what it receives (as a terminal
with echo on would); ``vnc`` greets with RFB 3.8's version line and reads what comes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

RFB_VERSION = b"RFB 003.008\n"


class _Listener:
    def __init__(self, protocol: str, greeting: Callable[[], bytes]) -> None:
        self.protocol, self.greeting = protocol, greeting
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
        with contextlib.suppress(OSError), client:
            client.sendall(self.greeting() if self.protocol == "serial" else RFB_VERSION)
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
                listener = _Listener(protocol, lambda: console_log().replace("\n", "\r\n").encode())
                self._listeners[(uuid, protocol)] = listener
            return listener.port

    def close(self, uuid: str) -> None:
        with self._lock:
            gone = [self._listeners.pop(key) for key in list(self._listeners) if key[0] == uuid]
        for listener in gone:
            listener.close()
