"""Backup-target suite: objects stored whole, read back, replaced, and a backup's objects
gone when it is deleted. Each test uses fresh backup ids and deletes them."""

from __future__ import annotations

import os
import uuid

import pytest

from stratus.exceptions import NotFound


@pytest.fixture
def target(driver):
    driver.setup()
    made: list[str] = []
    driver.made = made
    yield driver
    for backup_id in made:
        driver.delete(backup_id)


def new_backup(target) -> str:
    backup_id = str(uuid.uuid4())
    target.made.append(backup_id)
    return backup_id


def test_setup_is_repeatable(target):
    target.setup()


def test_an_object_reads_back_as_written_and_a_second_put_replaces_it(target):
    backup_id, data = new_backup(target), os.urandom(3 * 1024 * 1024 + 7)
    target.put(backup_id, "chunk-00000", data)
    target.put(backup_id, "metadata", b"{}")
    assert target.get(backup_id, "chunk-00000") == data
    target.put(backup_id, "metadata", b'{"version": 1}')
    assert target.get(backup_id, "metadata") == b'{"version": 1}'


def test_an_empty_object_is_an_object(target):
    backup_id = new_backup(target)
    target.put(backup_id, "chunk-00001", b"")
    assert target.get(backup_id, "chunk-00001") == b""


def test_a_missing_object_or_backup_is_not_found(target):
    backup_id = new_backup(target)
    with pytest.raises(NotFound):
        target.get(backup_id, "chunk-00000")
    target.put(backup_id, "chunk-00000", b"x")
    with pytest.raises(NotFound):
        target.get(backup_id, "chunk-00001")


def test_delete_removes_every_object_of_that_backup_only_and_repeats(target):
    doomed, kept = new_backup(target), new_backup(target)
    for backup_id in (doomed, kept):
        target.put(backup_id, "chunk-00000", backup_id.encode())
        target.put(backup_id, "metadata", b"{}")
    target.delete(doomed)
    target.delete(doomed)
    for name in ("chunk-00000", "metadata"):
        with pytest.raises(NotFound):
            target.get(doomed, name)
    assert target.get(kept, "chunk-00000") == kept.encode()
