"""The image-store suite (namespace ``stratus.image_store``).

The store under test is configured in the ``[conformance]`` group of the configuration
file. A writable store gets its data from the suite; a read-only store must be given a
location with known content in ``[conformance_data]`` (``location``, ``size``, ``sha256``).
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import uuid
from collections.abc import Iterator

import pytest
from oslo_config import cfg

from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.interfaces.image_store import ImageStoreCapability, Location

DATA_OPTS = [
    cfg.StrOpt("location", help="URL of existing data a read-only store can read."),
    cfg.IntOpt("size", help="Its size in bytes."),
    cfg.StrOpt("sha256", help="Its SHA-256, hex."),
]
SIZE = 3 * 1024 * 1024 + 123


def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def digest(parts) -> tuple[str, int]:
    hasher, total = hashlib.sha256(), 0
    for part in parts:
        hasher.update(part)
        total += len(part)
    return hasher.hexdigest(), total


@pytest.fixture
def stored(driver, driver_conf):
    """``(location, size, sha256)`` of data in the store."""
    if ImageStoreCapability.WRITE in driver.capabilities:
        data = os.urandom(SIZE)
        result = driver.add(str(uuid.uuid4()), chunks(data), len(data))
        assert result.size == len(data)
        yield result.location, len(data), hashlib.sha256(data).hexdigest()
        driver.delete(result.location)
        return
    driver_conf.register_opts(DATA_OPTS, group="conformance_data")
    given = driver_conf.conformance_data
    if not (given.location and given.size is not None and given.sha256):
        pytest.fail("a read-only store needs [conformance_data] location, size and sha256 in --stratus-config")
    yield Location(given.location), given.size, given.sha256


def test_get_returns_exactly_what_was_stored(driver, stored):
    location, size, sha256 = stored
    assert digest(driver.get(location)) == (sha256, size)
    assert driver.get_size(location) == size


def test_chunks_are_bounded(driver, stored):
    location, _, _ = stored
    assert max(len(c) for c in driver.get(location, chunk_size=4096)) <= 4096


@pytest.mark.parametrize("offset", [0, 1, 65535, 65536, 1048577, "last", "end"])
def test_offset_reads_join_up(driver, stored, offset):
    location, size, sha256 = stored
    offset = {"last": size - 1, "end": size}.get(offset, offset)
    head = b"".join(driver.get(location, 0, offset))
    tail = b"".join(driver.get(location, offset))
    assert len(head) == offset and len(tail) == size - offset
    assert hashlib.sha256(head + tail).hexdigest() == sha256


def test_length_limits_a_read(driver, stored):
    location, size, _ = stored
    assert len(b"".join(driver.get(location, 10, 100))) == 100
    assert len(b"".join(driver.get(location, size - 10, 100))) == 10
    assert b"".join(driver.get(location, 5, 0)) == b""


def test_an_offset_past_the_end_is_invalid(driver, stored):
    location, size, _ = stored
    with pytest.raises(Invalid):
        b"".join(driver.get(location, size + 1))


def test_missing_data_is_not_found(driver, stored):
    location, _, _ = stored
    missing = Location(location.url + "-no-such-image")
    with pytest.raises(NotFound):
        b"".join(driver.get(missing))
    with pytest.raises(NotFound):
        driver.get_size(missing)


@pytest.mark.requires_capability("WRITE")
def test_adding_twice_is_a_conflict(driver):
    image_id = str(uuid.uuid4())
    first = driver.add(image_id, iter([b"one"]))
    try:
        with pytest.raises(Conflict):
            driver.add(image_id, iter([b"two"]))
        assert b"".join(driver.get(first.location)) == b"one"
    finally:
        driver.delete(first.location)


@pytest.mark.requires_capability("WRITE")
def test_an_interrupted_upload_leaves_nothing(driver):
    image_id = str(uuid.uuid4())

    def broken() -> Iterator[bytes]:
        yield b"x" * 100000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        driver.add(image_id, broken())
    stored = driver.add(image_id, iter([b"complete"]))  # no leftover blocks the retry
    try:
        assert b"".join(driver.get(stored.location)) == b"complete"
    finally:
        driver.delete(stored.location)


@pytest.mark.requires_capability("WRITE")
def test_delete_is_idempotent_and_final(driver):
    stored = driver.add(str(uuid.uuid4()), iter([b"data"]))
    driver.delete(stored.location)
    driver.delete(stored.location)
    with pytest.raises(NotFound):
        b"".join(driver.get(stored.location))


@pytest.mark.requires_capability("WRITE")
def test_large_images_stream_in_bounded_memory(driver):
    size, block = 64 * 1024 * 1024, os.urandom(1024 * 1024)
    expected = hashlib.sha256()
    for _ in range(size // len(block)):
        expected.update(block)

    def source() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    tracemalloc.start()
    try:
        stored = driver.add(str(uuid.uuid4()), source(), size)
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = digest(driver.get(stored.location, chunk_size=1024 * 1024))
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert result == (expected.hexdigest(), size)
        assert peak_write < 16 * 1024 * 1024, f"writing 64 MiB held {peak_write / 2**20:.0f} MiB"
        assert peak_read < 16 * 1024 * 1024, f"reading 64 MiB held {peak_read / 2**20:.0f} MiB"
    finally:
        driver.delete(stored.location)
