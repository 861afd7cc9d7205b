"""The ``http`` image store: read-only, for images registered by an http(s) location URL.

Reads stream in chunks; an offset is asked for with a ``Range`` header and, if the
server ignores it, skipped by reading. Redirects are followed (up to urllib's limit).
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Invalid, NotFound
from stratus.interfaces import image_store
from stratus.interfaces.image_store import ImageStoreCapability, Location

OPTS = [
    cfg.FloatOpt("timeout", default=30.0, min=1, help="Seconds to wait for the remote server."),
    cfg.StrOpt("ca_file", help="CA certificates (PEM) for https locations; the system's when unset."),
    cfg.BoolOpt("insecure", default=False, help="Do not verify https certificates (testing only)."),
]


class HttpStore(image_store.ImageStore):
    api_version = (1, 0)
    capabilities = ImageStoreCapability.NONE
    schemes = ("http", "https")

    @classmethod
    def store_opts(cls) -> list[cfg.Opt]:
        return OPTS

    def __init__(self, conf: Any, store_name: str) -> None:
        super().__init__(conf, store_name)
        self.context = ssl.create_default_context(cafile=self.options.ca_file)
        if self.options.insecure:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def _open(self, location: Location, method: str = "GET", headers: dict[str, str] | None = None) -> Any:
        if location.url.split("://", 1)[0] not in self.schemes:
            raise Invalid(f"{location.url} is not an http(s) location")
        # the scheme was checked just above: only http and https reach urllib
        request = urllib.request.Request(location.url, method=method, headers=headers or {})  # noqa: S310
        try:
            return urllib.request.urlopen(request, timeout=self.options.timeout, context=self.context)  # noqa: S310
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise NotFound(f"Image data at {location.url} not found ({exc.code})") from None
            if exc.code == 416:
                raise Invalid(f"Range outside the image at {location.url}") from None
            raise BackendUnavailable(f"{location.url} answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise BackendUnavailable(f"{location.url} unreachable: {exc}") from None

    def get(self, location: Location, offset: int = 0, length: int | None = None,
            chunk_size: int = 65536) -> Iterator[bytes]:
        if offset < 0 or (length is not None and length < 0):
            raise Invalid(f"Range offset {offset} length {length} is not valid")
        headers = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            headers["Range"] = f"bytes={offset}-{end}"
        if length == 0:
            return iter(())
        response = self._open(location, headers=headers)
        skip = offset if response.status == 200 else 0  # the server ignored the Range header
        total = response.headers.get("Content-Length")
        if skip and total is not None and total.isdigit() and skip > int(total):
            response.close()
            raise Invalid(f"Range offset {offset} is past the end of the image at {location.url} ({total} bytes)")
        return self._read(response, skip, length, chunk_size)

    @staticmethod
    def _read(response: Any, skip: int, length: int | None, chunk_size: int) -> Iterator[bytes]:
        with response:
            while skip > 0:
                chunk = response.read(min(chunk_size, skip))
                if not chunk:
                    raise Invalid(f"Range offset is past the end of the image ({skip} bytes short)")
                skip -= len(chunk)
            remaining = length
            while remaining is None or remaining > 0:
                chunk = response.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def get_size(self, location: Location) -> int:
        with self._open(location, method="HEAD") as response:
            length = response.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise Invalid(f"{location.url} does not say its size (no Content-Length)")
        return int(length)
