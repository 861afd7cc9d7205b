"""The ``disk`` object backend: one file per stored object under ``[object_disk] directory``.

A write goes to a temporary file in ``.incoming/`` (same file system), is hashed while it
streams, optionally fsync'ed, then linked into place, so a key never shows part of its
bytes; a crash leaves at most temporary files, which ``setup`` removes. Files are never
changed once in place (the service writes a new key for a new version), so a server-side
copy is a hard link and a reader keeps its open file when the key is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Conflict, Invalid, NotFound, PayloadTooLarge
from stratus.filedata import FULL, read_range, write_new
from stratus.interfaces.object_backend import (
    ObjectBackend,
    ObjectBackendCapability,
    ServerSideCopy,
    StoredObject,
)

GROUP = "object_disk"
OPTS = [
    cfg.StrOpt("directory", help="Directory holding object data (default: $state_path/objects)."),
    cfg.BoolOpt("fsync", default=True, help="Flush each object to disk before it becomes readable."),
]
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
_INCOMING = ".incoming"


class DiskBackend(ObjectBackend, ServerSideCopy):
    api_version = (2, 0)
    capabilities = ObjectBackendCapability.SERVER_SIDE_COPY

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[cfg.Opt]]]:
        return [(GROUP, OPTS)]

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        options = conf[GROUP]
        self.root = os.path.abspath(options.directory or os.path.join(conf.state_path, "objects"))
        self.incoming = os.path.join(self.root, _INCOMING)
        self.fsync = options.fsync

    def setup(self) -> None:
        try:
            os.makedirs(self.incoming, mode=0o750, exist_ok=True)
            for name in os.listdir(self.incoming):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.incoming, name))
        except OSError as exc:
            raise BackendUnavailable(f"object directory {self.root}: {exc.strerror}") from exc

    def _path(self, key: str) -> str:
        if not _KEY.match(key):
            raise Invalid(f"{key!r} is not an object key")
        return os.path.join(self.root, key[:2], key)

    def put(self, key: str, data: Iterable[bytes]) -> StoredObject:
        path = self._path(key)
        if os.path.exists(path):
            raise Conflict(f"object key {key} already holds data")
        digest = hashlib.md5(usedforsecurity=False)
        if not os.path.isdir(self.incoming):
            raise BackendUnavailable(f"object directory {self.root} is not set up")
        try:
            size = write_new(path, self.incoming, data, fsync=self.fsync, digest=digest, prefix="")
        except FileExistsError:
            raise Conflict(f"object key {key} already holds data") from None
        except OSError as exc:
            if exc.errno in FULL:
                raise PayloadTooLarge("The object store is full; nothing was kept") from None
            raise
        return StoredObject(key, size, digest.hexdigest())

    def get(self, key: str, offset: int = 0, length: int | None = None,
            chunk_size: int = 65536) -> Iterator[bytes]:
        return read_range(self._path(key), offset, length, chunk_size, f"object data under {key}")

    def size(self, key: str) -> int:
        try:
            return os.path.getsize(self._path(key))
        except FileNotFoundError:
            raise NotFound(f"no object data under {key}") from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(key))

    def copy(self, source: str, key: str) -> int:
        source_path, path = self._path(source), self._path(key)
        try:
            size = os.path.getsize(source_path)
            try:
                os.link(source_path, path)
            except FileNotFoundError:
                if not os.path.exists(source_path):
                    raise
                os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
                os.link(source_path, path)
        except FileNotFoundError:
            raise NotFound(f"no object data under {source}") from None
        except FileExistsError:
            raise Conflict(f"object key {key} already holds data") from None
        return size

