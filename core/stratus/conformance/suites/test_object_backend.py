"""The object-backend suite (namespace ``stratus.object_backend``).

Every test writes fresh keys and deletes them; the backend is configured by the options it
lists (e.g. ``[object_disk] directory``) in the configuration file.
"""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc
import uuid
from collections.abc import Iterator

import pytest

from stratus.exceptions import Conflict, Invalid, NotFound

SIZE = 3 * 1024 * 1024 + 321


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture
def backend(driver):
    driver.setup()
    driver.made = []
    yield driver
    for key in driver.made:
        driver.delete(key)


def new_key(backend) -> str:
    key = uuid.uuid4().hex
    backend.made.append(key)
    return key


def test_setup_is_repeatable(backend):
    backend.setup()


def test_bytes_read_back_with_their_size_and_md5(backend):
    key, data = new_key(backend), os.urandom(SIZE)
    stored = backend.put(key, chunks(data))
    assert (stored.key, stored.size, stored.etag) == (key, len(data), md5(data))
    assert b"".join(backend.get(key)) == data
    assert backend.size(key) == len(data)


def test_an_empty_object_is_an_object(backend):
    key = new_key(backend)
    stored = backend.put(key, iter([]))
    assert (stored.size, stored.etag) == (0, md5(b""))
    assert b"".join(backend.get(key)) == b""


def test_ranges_read_only_what_is_asked_in_bounded_chunks(backend):
    key, data = new_key(backend), os.urandom(SIZE)
    backend.put(key, chunks(data, 1 << 20))
    assert b"".join(backend.get(key, 100, 5000)) == data[100:5100]
    assert b"".join(backend.get(key, SIZE - 10)) == data[-10:]
    assert b"".join(backend.get(key, SIZE - 10, 1000)) == data[-10:]
    assert b"".join(backend.get(key, SIZE)) == b""
    assert all(len(chunk) <= 4096 for chunk in backend.get(key, 0, None, chunk_size=4096))
    with pytest.raises(Invalid):
        backend.get(key, SIZE + 1)
    with pytest.raises(Invalid):
        backend.get(key, -1)


def test_a_key_is_written_once(backend):
    key = new_key(backend)
    backend.put(key, [b"first"])
    with pytest.raises(Conflict):
        backend.put(key, [b"second"])
    assert b"".join(backend.get(key)) == b"first"


def test_a_missing_key_is_not_found_and_deleting_it_succeeds(backend):
    key = uuid.uuid4().hex
    with pytest.raises(NotFound):
        backend.get(key)
    with pytest.raises(NotFound):
        backend.size(key)
    backend.delete(key)


def test_delete_removes_and_repeats(backend):
    key = new_key(backend)
    backend.put(key, [b"doomed"])
    backend.delete(key)
    backend.delete(key)
    with pytest.raises(NotFound):
        backend.get(key)
    backend.put(key, [b"again"])
    assert b"".join(backend.get(key)) == b"again"


def test_a_failing_stream_keeps_nothing(backend):
    key = new_key(backend)

    def broken() -> Iterator[bytes]:
        yield b"x" * 100000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        backend.put(key, broken())
    with pytest.raises(NotFound):
        backend.get(key)
    backend.put(key, [b"whole"])
    assert b"".join(backend.get(key)) == b"whole"


def test_nothing_is_readable_until_the_write_is_complete(backend):
    key, release, seen = new_key(backend), threading.Event(), []

    def slow() -> Iterator[bytes]:
        yield b"a" * 65536
        try:
            backend.get(key)
            seen.append("readable")
        except NotFound:
            seen.append("absent")
        release.set()
        yield b"b" * 65536

    backend.put(key, slow())
    assert release.is_set() and seen == ["absent"]
    assert backend.size(key) == 131072


def test_a_reader_that_started_reads_to_the_end_after_a_delete(backend):
    key, data = new_key(backend), os.urandom(SIZE)
    backend.put(key, chunks(data))
    reader = backend.get(key, chunk_size=65536)
    first = next(reader)
    backend.delete(key)
    assert first + b"".join(reader) == data


def test_keys_are_checked(backend):
    for bad in ("", ".hidden", "a/b", "../x", "x" * 129, "sp ace"):
        with pytest.raises(Invalid):
            backend.put(bad, [b"x"])


def test_streaming_keeps_memory_bounded(backend):
    key, block = new_key(backend), os.urandom(1 << 20)
    tracemalloc.start()
    try:
        backend.put(key, (block for _ in range(64)))
        for _chunk in backend.get(key):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * (1 << 20), f"64 MiB streamed with a peak of {peak} bytes traced"


@pytest.mark.requires_capability("SERVER_SIDE_COPY")
def test_a_server_side_copy_holds_the_same_bytes_and_outlives_its_source(backend):
    source, copy, data = new_key(backend), new_key(backend), os.urandom(SIZE)
    backend.put(source, chunks(data))
    assert backend.copy(source, copy) == len(data)
    backend.delete(source)
    assert b"".join(backend.get(copy)) == data
    with pytest.raises(NotFound):
        backend.copy(source, new_key(backend))
    with pytest.raises(Conflict):
        backend.copy(copy, copy)
