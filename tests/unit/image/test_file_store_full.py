"""The file store on a full disk: a real 1 MiB tmpfs (mounting needs root; skipped otherwise)."""

from __future__ import annotations

import os
import uuid

import pytest

from stratus import loading
from stratus.exceptions import PayloadTooLarge
from stratus.image.drivers.file import FileStore


def test_a_full_disk_is_413_and_leaves_nothing(conf, small_disk):
    conf.register_opts(FileStore.store_opts(), group="tiny")
    conf.set_override("datadir", str(small_disk), group="tiny")
    store = loading.load_driver("stratus.image_store", "file", conf, store_name="tiny")
    with pytest.raises(PayloadTooLarge, match="full"):
        store.add(str(uuid.uuid4()), (os.urandom(65536) for _ in range(32)), 2 * 1024 * 1024)
    assert os.listdir(small_disk) == []
    kept = store.add(str(uuid.uuid4()), iter([b"small enough"]))  # space was given back
    assert b"".join(store.get(kept.location)) == b"small enough"
