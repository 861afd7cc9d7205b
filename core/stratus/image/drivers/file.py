"""The ``file`` image store: one file per image in a directory.

Data is written to a hidden temporary file in the same directory and renamed into place
once complete (and, by default, fsync'ed), so a reader never sees part of an image and a
crash leaves at most a temporary file that the next start removes.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from oslo_config import cfg

from stratus.exceptions import Conflict, Invalid, NotFound, PayloadTooLarge
from stratus.filedata import FULL, read_range, write_new
from stratus.interfaces import image_store
from stratus.interfaces.image_store import ImageStoreCapability, Location, StoredImage

OPTS = [
    cfg.StrOpt("datadir", help="Directory holding this store's images (default: $state_path/images/<store name>)."),
    cfg.BoolOpt("fsync", default=True, help="Flush each image to disk before it becomes readable."),
]
_TEMP_PREFIX = ".incoming-"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class FileStore(image_store.ImageStore, image_store.WritableStore):
    api_version = (1, 0)
    capabilities = ImageStoreCapability.WRITE | ImageStoreCapability.READ_RANGE
    schemes = ("file",)

    @classmethod
    def store_opts(cls) -> list[cfg.Opt]:
        return OPTS

    def __init__(self, conf: Any, store_name: str) -> None:
        super().__init__(conf, store_name)
        self.datadir = os.path.abspath(self.options.datadir or os.path.join(conf.state_path, "images", store_name))
        os.makedirs(self.datadir, mode=0o750, exist_ok=True)
        for name in os.listdir(self.datadir):  # leftovers of writes a crash interrupted
            if name.startswith(_TEMP_PREFIX):
                os.remove(os.path.join(self.datadir, name))

    def details(self) -> dict[str, Any]:
        return {"data_dir": self.datadir, "thin_provisioning": False}

    def _path(self, location: Location) -> str:
        if not location.url.startswith("file://"):
            raise Invalid(f"{location.url} is not a file:// location")
        path = os.path.abspath(location.url[len("file://"):])
        if os.path.dirname(path) != self.datadir:
            raise NotFound(f"{location.url} is not in the {self.store_name!r} store")
        return path

    def get(self, location: Location, offset: int = 0, length: int | None = None,
            chunk_size: int = 65536) -> Iterator[bytes]:
        return read_range(self._path(location), offset, length, chunk_size, f"image data at {location.url}")

    def get_size(self, location: Location) -> int:
        try:
            return os.path.getsize(self._path(location))
        except FileNotFoundError:
            raise NotFound(f"Image data at {location.url} not found") from None

    def add(self, image_id: str, data: Iterable[bytes], size_hint: int | None = None) -> StoredImage:
        if not _SAFE_ID.match(image_id):
            raise Invalid(f"{image_id!r} cannot name an image file")
        final = os.path.join(self.datadir, image_id)
        if os.path.exists(final):
            raise Conflict(f"The {self.store_name!r} store already holds data for image {image_id}")
        try:
            size = write_new(final, self.datadir, data, fsync=self.options.fsync, prefix=_TEMP_PREFIX)
        except FileExistsError:
            raise Conflict(f"The {self.store_name!r} store already holds data for image {image_id}") from None
        except OSError as exc:
            if exc.errno in FULL:
                raise PayloadTooLarge(f"The {self.store_name!r} store is full; nothing was kept") from None
            raise
        return StoredImage(Location(f"file://{final}"), size)

    def delete(self, location: Location) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(location))
