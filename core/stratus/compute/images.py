"""Images on a compute host: fetched once from the image service's stores, then cached.

The cache reads the image service's records and stores in-process (compute and image
share the database and the stores' configuration, as every deployment shape does today).
A download goes to a temporary file that is renamed into place only when complete and of
the recorded size, so a half-fetched image is never used. Images no server of the host
uses are removed once unused for ``[compute] image_cache_max_unused`` seconds.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from stratus.exceptions import BackendUnavailable, Invalid, NotFound
from stratus.interfaces.image_store import Location


class ImageCache:
    def __init__(self, images: Any, directory: str) -> None:
        self.images, self.dir = images, directory
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, image_id: str) -> str:
        """A local file with the image's data.

        :raises NotFound: the image is gone or has no data in an enabled store.
        :raises Invalid: the data read does not match the image's size or checksum.
        """
        target = os.path.join(self.dir, image_id)
        with self._guard:
            lock = self._locks.setdefault(image_id, threading.Lock())
        with lock:
            if os.path.exists(target):
                os.utime(target)  # its last use, which pruning reads
                return target
            os.makedirs(self.dir, exist_ok=True)
            self._fetch(image_id, target)
            return target

    def _fetch(self, image_id: str, target: str) -> None:
        from stratus.image import models

        with self.images.db.transaction() as session:
            row = session.get(models.Image, image_id)
            if row is None or row.status != "active":
                raise NotFound(f"Image {image_id} could not be found or is not active.")
            size, checksum = row.size, row.checksum
            locations = [(loc.store, loc.url) for loc in row.locations if loc.store in self.images.stores]
        failure: Exception = NotFound(f"Image {image_id} has no data in any enabled store.")
        for store, url in locations:
            partial = f"{target}.part"
            digest, written = hashlib.md5(usedforsecurity=False), 0
            try:
                with open(partial, "wb") as out:
                    for chunk in self.images.stores[store].get(Location(url)):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                if (size is not None and written != size) or (checksum and digest.hexdigest() != checksum):
                    raise Invalid(f"Image {image_id} read from store {store} does not match its size or checksum.")
                os.replace(partial, target)
                return
            except (NotFound, BackendUnavailable, Invalid, OSError) as exc:
                failure = exc
                if os.path.exists(partial):
                    os.unlink(partial)
        raise failure

    def prune(self, in_use: set[str], older_than: float) -> list[str]:
        """Remove cached images no server of the host uses and none has used for
        ``older_than`` seconds; the ids removed. Files that are not cached images (a
        driver's disks, a resize's parked disk) are left alone."""
        import time
        import uuid

        removed = []
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return removed
        now = time.time()
        for name in names:
            try:
                uuid.UUID(name)
            except ValueError:
                continue
            if name in in_use:
                continue
            path = os.path.join(self.dir, name)
            with self._guard:
                lock = self._locks.setdefault(name, threading.Lock())
            with lock:  # never under a build that is fetching or reading it
                try:
                    if now - os.stat(path).st_mtime < older_than:
                        continue
                    os.unlink(path)
                except FileNotFoundError:
                    continue
            removed.append(name)
        return removed
