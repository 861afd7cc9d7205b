"""The swift image store and backup target against Stratus's own object service (no Swift
involved): the conformance suites through Keystone v3 and the catalog, and a second cloud
keeping its images and volume backups in the first one's object storage through the APIs."""

from __future__ import annotations

import hashlib
import os
import time

import openstack.exceptions
import pytest

from stratus import conformance
from stratus.testing import EmbeddedCloud
from tests.conftest import backup_conf

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The cloud whose object service stores everything."""
    cloud = EmbeddedCloud(tmp_path_factory.mktemp("provider"), "", defaults=False)
    conn = cloud.connect()
    auth = conn.config.config["auth"]
    cloud.credentials = {"auth_version": "3", "auth_address": auth["auth_url"] + "/v3", "user": auth["username"],
                         "key": auth["password"], "project_name": auth["project_name"]}
    cloud.conn = conn
    yield cloud
    conn.close()
    cloud.stop()


def _objects(provider, container):
    try:
        return [o.name for o in provider.conn.object_store.objects(container)]
    except openstack.exceptions.NotFoundException:  # no such container: nothing stored
        return []


@pytest.mark.parametrize("segmented", [False, True], ids=["single-objects", "slo-segments"])
def test_the_swift_store_passes_the_image_store_suite_on_stratus_objects(provider, tmp_path, segmented):
    options = {**provider.credentials, "container": f"images{int(segmented)}"}
    if segmented:
        options.update(large_object_size=1, large_object_chunk_size=1)
    body = "".join(f"{k} = {v}\n" for k, v in options.items())
    config = tmp_path / "store.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[conformance]\n{body}")
    outcome = conformance.run("stratus.image_store:swift", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (23, 0), outcome
    assert _objects(provider, options["container"]) == []


def test_the_swift_backup_target_passes_the_backup_target_suite_on_stratus_objects(provider, tmp_path):
    config = backup_conf(tmp_path / "backup.conf", tmp_path, container="suite-backups", **provider.credentials)
    outcome = conformance.run("stratus.backup_target:swift", str(config))
    assert outcome.ok and (outcome.passed, outcome.skipped) == (12, 0), outcome
    assert _objects(provider, "suite-backups") == []


@pytest.fixture(scope="module")
def consumer(provider, tmp_path_factory):
    """A second cloud keeping its images and volume backups in the provider's object storage."""
    swift = "".join(f"{k} = {v}\n" for k, v in provider.credentials.items())
    cloud = EmbeddedCloud(tmp_path_factory.mktemp("consumer"),
                          f"[image]\nenabled_stores = objects:swift\ndefault_store = objects\n"
                          f"[objects]\n{swift}container = glance\nlarge_object_size = 1\nlarge_object_chunk_size = 1\n"
                          f"[backup]\nbackup_driver = swift\nchunk_size_mb = 1\n"
                          f"[backup_swift]\n{swift}container = cinder-backups\n",
                          defaults=False)
    yield cloud
    cloud.stop()


def _wait(read, status, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found.status == status:
            return found
        assert found.status != "error", found
        time.sleep(0.2)
    raise AssertionError(f"still {found.status}, not {status}")


def test_images_and_volume_backups_of_one_cloud_live_in_anothers_object_storage(provider, consumer):
    conn = consumer.connect()
    try:
        data = os.urandom(2 * MiB + 7)
        image = conn.image.create_image(name="kept-elsewhere", data=data, disk_format="raw", container_format="bare")
        assert _objects(provider, "glance") == [image.id] and len(_objects(provider, "glance_segments")) == 3
        assert conn.image.download_image(image).content == data
        assert conn.image.get_image(image).checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()

        volume = conn.block_storage.create_volume(size=1, image_id=image.id, name="backed-up")
        _wait(lambda: conn.block_storage.get_volume(volume), "available")
        backup = conn.block_storage.create_backup(volume_id=volume.id, name="offsite")
        _wait(lambda: conn.block_storage.get_backup(backup), "available")
        stored = _objects(provider, "cinder-backups")
        assert stored and all(name.startswith(f"{backup.id}/") for name in stored)
        restored = conn.block_storage.restore_backup(backup, name="restored")
        restored_volume = _wait(lambda: conn.block_storage.get_volume(restored.volume_id), "available")
        assert restored_volume.size == 1
        conn.block_storage.delete_backup(backup)
        deadline = time.monotonic() + 60
        while _objects(provider, "cinder-backups") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _objects(provider, "cinder-backups") == []
        conn.image.delete_image(image)
        assert _objects(provider, "glance") == [] and _objects(provider, "glance_segments") == []
    finally:
        conn.close()
