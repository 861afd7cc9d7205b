"""A host's image cache keeps what its servers use and what was used lately."""

from __future__ import annotations

import os
import time
import uuid

from stratus.compute.images import ImageCache


def test_unused_old_images_go_and_the_rest_stays(tmp_path):
    cache = ImageCache(None, str(tmp_path))
    used, old, recent = (str(uuid.uuid4()) for _ in range(3))
    for name in (used, old, recent, "fake-disk-x", "resize-y.in"):
        (tmp_path / name).write_bytes(b"data")
    long_ago = time.time() - 7200
    for name in (used, old, "fake-disk-x", "resize-y.in"):
        os.utime(tmp_path / name, (long_ago, long_ago))
    assert cache.prune({used}, older_than=3600) == [old]
    assert sorted(os.listdir(tmp_path)) == sorted([used, recent, "fake-disk-x", "resize-y.in"])
    assert cache.prune(set(), older_than=0) and not (tmp_path / used).exists()


def test_a_cached_image_read_again_counts_as_used(tmp_path):
    cache = ImageCache(None, str(tmp_path))
    image = str(uuid.uuid4())
    (tmp_path / image).write_bytes(b"data")
    os.utime(tmp_path / image, (time.time() - 7200, time.time() - 7200))
    assert cache.path(image) == str(tmp_path / image)  # a build reads it: no fetch, a fresh use
    assert cache.prune(set(), older_than=3600) == []
