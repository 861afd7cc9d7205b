"""The console proxy (Nova's novncproxy and serialproxy in one): websockets in, TCP to the guest's
console on its compute host out.

A client connects to ``ws://<proxy>/?token=...`` (noVNC's page does so from the ``path`` it is
given; the token may also come as a ``token`` cookie). The token is consumed during the handshake
(:func:`stratus.compute.consoles.consume`: good once, until it expires, and only while its server
still runs on the host it was given for; otherwise the answer is a bare 403, as websockify
refuses); then bytes flow both ways unchanged — RFB for VNC, the
serial port's raw stream for serial — until either side closes. Plain HTTP requests get the noVNC
web client from ``[console_proxy] web`` (Debian's novnc package), so the URL the API hands out for
``novnc`` opens in a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import mimetypes
import os
import threading
import urllib.parse
from http.cookies import SimpleCookie
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from stratus.compute import consoles

LOG = logging.getLogger(__name__)
CHUNK = 64 * 1024


def _token(request: Request) -> str | None:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
    if query.get("token"):
        return query["token"][0]
    cookie = SimpleCookie(request.headers.get("Cookie", ""))
    return cookie["token"].value if "token" in cookie else None


class ConsoleProxy:
    """Serves on ``host``:``port`` (0: a free port; :attr:`port` tells which once started)."""

    def __init__(self, db: Any, host: str, port: int, web: str = "") -> None:
        self.db, self.host, self.port, self.web = db, host, port, os.path.realpath(web) if web else ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- HTTP: the noVNC client -----------------------------------------------------------------

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            # the token is taken before the upgrade: a bad one gets a bare 403, not a websocket
            token = _token(request)
            grant = await asyncio.to_thread(consoles.consume, self.db, token) if token else None
            if grant is None:
                return Response(403, "Forbidden", Headers({"Content-Length": "0", "Connection": "close"}), b"")
            connection.stratus_grant = grant  # type: ignore[attr-defined]  # the handshake's, for the relay
            return None
        path = urllib.parse.unquote(urllib.parse.urlsplit(request.path).path).lstrip("/") or "vnc_lite.html"
        target = os.path.realpath(os.path.join(self.web, path)) if self.web else ""
        if not target or not target.startswith(self.web + os.sep) or not os.path.isfile(target):
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not found\n")
        with open(target, "rb") as handle:
            body = handle.read()
        kind = mimetypes.guess_type(target)[0] or "application/octet-stream"
        return Response(200, "OK", Headers({"Content-Type": kind, "Content-Length": str(len(body))}), body)

    @staticmethod
    def _subprotocol(connection: ServerConnection, offered: Any) -> Any:
        return "binary" if "binary" in offered else None  # noVNC asks for binary; others ask for nothing

    # -- websockets: the relay ------------------------------------------------------------------

    async def _relay(self, connection: ServerConnection) -> None:
        grant = getattr(connection, "stratus_grant", None)
        if grant is None:
            await connection.close(1008, "Invalid or expired console token")
            return
        try:
            reader, writer = await asyncio.open_connection(grant.address, grant.port)
        except OSError as exc:
            LOG.warning("console of %s at %s:%s unreachable: %s", grant.instance_uuid, grant.address, grant.port, exc)
            await connection.close(1011, "The console is unreachable")
            return
        LOG.info("console proxy: %s console of %s from %s", grant.protocol, grant.instance_uuid,
                 connection.remote_address)

        async def upstream() -> None:
            async for message in connection:
                writer.write(message.encode() if isinstance(message, str) else message)
                await writer.drain()

        async def downstream() -> None:
            while data := await reader.read(CHUNK):
                await connection.send(data)

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            await connection.close()

    # -- running --------------------------------------------------------------------------------

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        async with serve(self._relay, self.host, self.port, process_request=self._http,
                         select_subprotocol=self._subprotocol, compression=None, max_size=2 ** 20) as server:
            self.port = server.sockets[0].getsockname()[1] if server.sockets else self.port
            self._ready.set()
            await self._stopped.wait()

    def run(self) -> None:
        """Serve until :meth:`stop` (in this thread)."""
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        finally:
            self._loop.close()

    def start(self, timeout: float = 10.0) -> ConsoleProxy:
        """Serve on a thread; return once listening. :raises OSError: the port is taken."""
        self._thread = threading.Thread(target=self.run, name="stratus-console-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
