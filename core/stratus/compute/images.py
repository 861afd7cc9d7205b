"""Images on a compute host: fetched once from the image service's stores, then cached.

The image service's client (:mod:`stratus.image.client`) writes each image whole or not at
all, checked against its size and checksum, so a half-fetched image is never used. Images no server of the host
uses are removed once unused for ``[compute] image_cache_max_unused`` seconds.
"""

from __future__ import annotations

import os
import threading
from typing import Any


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
            self.images.download(image_id, target)
            return target

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
