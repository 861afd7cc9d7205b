"""Request bodies a response leaves unread (a 413 for an upload over its limit, any error
answered before the body was consumed): the rest is read and dropped when it is small, else
the connection is closed with ``Connection: close``, so a client's next request on a pooled
connection never lands in the middle of the old body (gunicorn drains at most 64 KiB itself
and otherwise closes the connection without saying so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: what is read and dropped to keep a connection usable; past it the connection closes
DRAIN_LIMIT = 1 << 20
_CHUNK = 1 << 16


class CountingInput:
    """``wsgi.input`` that counts what was read and knows when it ran dry."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.read_bytes, self.exhausted = stream, 0, False

    def _seen(self, data: bytes, size: int | None) -> bytes:
        self.read_bytes += len(data)
        if not data and size != 0:
            self.exhausted = True
        return data

    def read(self, size: int | None = -1) -> bytes:
        data = self.stream.read() if size is None or size < 0 else self.stream.read(size)
        if size is None or size < 0:
            self.exhausted = True
        return self._seen(data, size)

    def readline(self, size: int | None = -1) -> bytes:
        data = self.stream.readline() if size is None or size < 0 else self.stream.readline(size)
        return self._seen(data, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def _declared(environ: dict[str, Any]) -> int | None:
    value = environ.get("CONTENT_LENGTH") or ""
    return int(value) if value.isdigit() else None


def serve(app: Callable[[dict, Callable], Iterable[bytes]], environ: dict[str, Any],
          start_response: Callable) -> Iterable[bytes]:
    """Call the WSGI ``app``, and settle what it left of the request body when it answers."""
    declared = _declared(environ)
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked and not declared:
        return app(environ, start_response)
    stream = CountingInput(environ["wsgi.input"])
    environ["wsgi.input"] = stream

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not _consumed(stream, declared) and not _drain(stream, declared):
            headers = [(k, v) for k, v in headers if k.lower() != "connection"] + [("Connection", "close")]
            server_response = getattr(start_response, "__self__", None)  # gunicorn's: it drops the header
            if server_response is not None and hasattr(server_response, "force_close"):
                server_response.force_close()
        return start_response(status, headers, exc_info)

    return app(environ, start)


def _consumed(stream: CountingInput, declared: int | None) -> bool:
    return stream.exhausted or (declared is not None and stream.read_bytes >= declared)


def _drain(stream: CountingInput, declared: int | None) -> bool:
    """Read and drop the rest if it is at most :data:`DRAIN_LIMIT`; whether it all went."""
    if declared is not None and declared - stream.read_bytes > DRAIN_LIMIT:
        return False
    dropped = 0
    try:
        while dropped <= DRAIN_LIMIT:
            wanted = _CHUNK if declared is None else min(_CHUNK, declared - stream.read_bytes)
            if wanted <= 0:
                return True
            data = stream.read(wanted)
            if not data:
                return True
            dropped += len(data)
    except OSError:
        return False
    return False
