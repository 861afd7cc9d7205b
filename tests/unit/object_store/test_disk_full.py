"""The disk object backend, and the object service over it, on a full disk: a real 1 MiB tmpfs
(mounting needs root; skipped otherwise)."""

from __future__ import annotations

import os
import uuid

import pytest

from stratus import conf as stratus_conf
from stratus.db import migration
from stratus.exceptions import NotFound, PayloadTooLarge
from stratus.object_store.service import ContainerChange, ObjectService


def test_a_full_disk_is_413_keeps_nothing_and_the_old_object_stays(tmp_path, small_disk):
    config = tmp_path / "stratus.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[object_disk]\ndirectory = {small_disk / 'objects'}\n")
    conf = stratus_conf.build([str(config)])
    migration.sync(conf, ["object_store"])
    service = ObjectService(conf)
    try:
        service.put_container("AUTH_p", "c", ContainerChange())
        old = service.put_object("AUTH_p", "c", "o", [b"the old bytes"], content_type="text/plain", headers={})
        with pytest.raises(PayloadTooLarge, match="full"):
            service.put_object("AUTH_p", "c", "o", (os.urandom(65536) for _ in range(32)),
                               content_type="text/plain", headers={})
        assert b"".join(service.read(service.head_object("AUTH_p", "c", "o"))) == b"the old bytes"
        assert service.container("AUTH_p", "c").bytes_used == len(b"the old bytes")
        files = [p for p in (small_disk / "objects").rglob("*") if p.is_file()]
        assert [p.name for p in files] == [old.key]  # no partial file, in place or incoming
        with pytest.raises(NotFound):
            service.head_object("AUTH_p", "c", str(uuid.uuid4()))
    finally:
        service.close()
