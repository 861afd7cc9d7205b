"""The ``swift`` image store: image data as objects in a Swift-compatible object store.

Images up to ``large_object_size`` MiB with a known size go up as one object; larger ones,
and any upload of unknown length, as segments of ``large_object_chunk_size`` MiB in the
``<container>_segments`` container behind a Static Large Object manifest. Every PUT
streams (chunked), so memory stays bounded. A failed or interrupted upload deletes the
segments it wrote. Locations are ``swift://<store name>/<container>/<object>``: the
credentials stay in the configuration, never in the database.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Conflict, Invalid
from stratus.interfaces import image_store
from stratus.interfaces.image_store import ImageStoreCapability, Location, StoredImage
from stratus_swift.client import CONNECTION_OPTS, SwiftConnection

MiB = 1024 * 1024
OPTS = [
    *CONNECTION_OPTS,
    cfg.StrOpt("container", default="images", help="Container holding the images."),
    cfg.BoolOpt("create_container", default=True, help="Create the containers on first write if missing."),
    cfg.IntOpt("large_object_size", default=5120, min=1,
               help="Images above this many MiB (or of unknown size) are stored as segmented SLOs."),
    cfg.IntOpt("large_object_chunk_size", default=200, min=1, help="Segment size in MiB."),
]
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class _Source:
    """Hands out an iterable of byte chunks in pieces of at most ``limit`` bytes.

    An exception the iterable raises is kept in :attr:`error`: the HTTP library wraps it
    in a connection error, and the caller must see the original (a quota's 413, say).
    """

    def __init__(self, data: Iterable[bytes]) -> None:
        self._chunks = iter(data)
        self._pending = b""
        self.error: BaseException | None = None

    def exhausted(self) -> bool:
        while not self._pending:
            try:
                chunk = next(self._chunks, None)
            except BaseException as exc:
                self.error = exc
                raise
            if chunk is None:
                return True
            self._pending = bytes(chunk)
        return False

    def take(self, limit: int | None, counter: list[int]) -> Iterator[bytes]:
        sent = 0
        while limit is None or sent < limit:
            if self.exhausted():
                return
            piece = self._pending if limit is None else self._pending[:limit - sent]
            self._pending = self._pending[len(piece):]
            sent += len(piece)
            counter[0] += len(piece)
            yield piece


class SwiftStore(image_store.ImageStore, image_store.WritableStore):
    api_version = (1, 0)
    capabilities = ImageStoreCapability.WRITE | ImageStoreCapability.READ_RANGE
    schemes = ("swift",)

    @classmethod
    def store_opts(cls) -> list[cfg.Opt]:
        return OPTS

    def __init__(self, conf: Any, store_name: str) -> None:
        super().__init__(conf, store_name)
        o = self.options
        self.container, self.segments = o.container, f"{o.container}_segments"
        self.connection = SwiftConnection(o, store_name)
        self._containers_ready = False

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.connection.request(method, path, **kwargs)

    _check = staticmethod(SwiftConnection.check)

    def _object(self, location: Location) -> str:
        prefix = f"swift://{self.store_name}/{self.container}/"
        if not location.url.startswith(prefix):
            raise Invalid(f"{location.url} is not a location of the {self.store_name!r} store ({prefix}...)")
        return location.url[len(prefix):]

    def _location(self, name: str) -> Location:
        return Location(f"swift://{self.store_name}/{self.container}/{name}")

    def _ensure_containers(self) -> None:
        if self._containers_ready or not self.options.create_container:
            return
        for container in (self.container, self.segments):
            self._check(self._request("PUT", container), f"container {container}")
        self._containers_ready = True

    def get(self, location: Location, offset: int = 0, length: int | None = None,
            chunk_size: int = 65536) -> Iterator[bytes]:
        name = self._object(location)
        if offset < 0 or (length is not None and length < 0):
            raise Invalid(f"Range offset {offset} length {length} is not valid")
        headers = {}
        if offset or length is not None:
            if length == 0:
                self.get_size(location)
                return iter(())
            headers["Range"] = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        response = self._request("GET", f"{self.container}/{name}", headers=headers, stream=True)
        if response.status_code == 416:
            response.close()
            if offset == self.get_size(location):
                return iter(())
            raise Invalid(f"Range offset {offset} is past the end of {location.url}")
        try:
            self._check(response, f"image data at {location.url}")
        except Exception:
            response.close()
            raise
        return self._read(response, chunk_size)

    @staticmethod
    def _read(response: Any, chunk_size: int) -> Iterator[bytes]:
        with response:
            yield from response.iter_content(chunk_size)

    def get_size(self, location: Location) -> int:
        response = self._request("HEAD", f"{self.container}/{self._object(location)}")
        self._check(response, f"image data at {location.url}")
        return int(response.headers["Content-Length"])

    def add(self, image_id: str, data: Iterable[bytes], size_hint: int | None = None) -> StoredImage:
        if not _SAFE_ID.match(image_id):
            raise Invalid(f"{image_id!r} cannot name an image object")
        self._ensure_containers()
        path = f"{self.container}/{image_id}"
        if self._request("HEAD", path).status_code != 404:
            raise Conflict(f"The {self.store_name!r} store already holds data for image {image_id}")
        source, total = _Source(data), [0]
        segments: list[dict[str, Any]] = []
        try:
            if size_hint is not None and size_hint <= self.options.large_object_size * MiB:
                self._put(path, source.take(None, total))
                return StoredImage(self._location(image_id), total[0])
            while not source.exhausted() or not segments:
                segment = f"{self.segments}/{image_id}/{len(segments) + 1:08d}"
                before = total[0]
                response = self._put(segment, source.take(self.options.large_object_chunk_size * MiB, total),
                                     conditional=False)
                segments.append({"path": f"/{segment}", "etag": response.headers["Etag"].strip('"'),
                                 "size_bytes": total[0] - before})
                if total[0] == before:  # an empty image: one empty object suffices
                    break
            if len(segments) == 1 and segments[0]["size_bytes"] == 0:
                self._delete(segments[0]["path"].lstrip("/"))
                segments.clear()
                self._put(path, iter([b""]))
            else:
                self._put(f"{path}?multipart-manifest=put", iter([json.dumps(segments).encode()]))
        except BaseException as exc:
            for segment in segments:
                self._delete(segment["path"].lstrip("/"))
            if source.error is not None and source.error is not exc:
                raise source.error from None
            raise
        return StoredImage(self._location(image_id), total[0])

    def _put(self, path: str, body: Iterator[bytes], conditional: bool = True) -> Any:
        headers = {"If-None-Match": "*"} if conditional else {}
        response = self._request("PUT", path, data=body, headers=headers)
        if response.status_code == 412:
            raise Conflict(f"The {self.store_name!r} store already holds {path}")
        return self._check(response, path)

    def _delete(self, path: str) -> None:
        with contextlib.suppress(BackendUnavailable):  # best effort while cleaning up after a failure
            self._request("DELETE", path)

    def delete(self, location: Location) -> None:
        path = f"{self.container}/{self._object(location)}"
        head = self._request("HEAD", path)
        if head.status_code == 404:
            return
        self._check(head, location.url)
        large = head.headers.get("X-Static-Large-Object", "").lower() == "true"
        response = self._request("DELETE", f"{path}?multipart-manifest=delete" if large else path)
        if response.status_code != 404:
            self._check(response, location.url)


def list_opts() -> list[tuple[Any, list[cfg.Opt]]]:
    """For ``stratus config sample``: the options of a swift store, shown for a store named ``swift``."""
    group = cfg.OptGroup("swift", help="A store of driver swift named 'swift' in [image] enabled_stores; a store "
                         "named N reads these from [N].")
    return [(group, OPTS)]
