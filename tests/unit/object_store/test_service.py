"""The object service on each database: Swift's byte order and listing rules whatever the
database's collation, counters moved with the rows, and replaced or deleted bytes gone from
the backend once the change committed."""

from __future__ import annotations

import hashlib
import pathlib
import time

import pytest

from stratus import conf as stratus_conf
from stratus.db import migration
from stratus.exceptions import Conflict, NotFound, PayloadTooLarge
from stratus.object_store.errors import PreconditionFailed, Unprocessable
from stratus.object_store.listing import Listing, Subdir
from stratus.object_store.service import ContainerChange, ObjectService

ACCOUNT = "AUTH_p1"


@pytest.fixture
def service(db_url, tmp_path):
    conf = stratus_conf.build([], overrides={"DEFAULT": {"state_path": str(tmp_path)},
                                             "database": {"connection": db_url}})
    migration.sync(conf, ["object_store"])
    object_service = ObjectService(conf)
    yield object_service
    object_service.close()


def names(entries):
    return [e.name for e in entries]


def put(service, container, name, data=b"x", **kwargs):
    return service.put_object(ACCOUNT, container, name, [data], content_type="text/plain", headers={}, **kwargs)


def test_names_list_in_utf8_byte_order_with_prefix_markers_and_reverse(service):
    service.put_container(ACCOUNT, "c", ContainerChange())
    wanted = ["A", "B", "a", "a/b", "a/c", "z", "é", "€", "😀"]  # byte order: ASCII, then 2, 3, 4-byte sequences
    for name in reversed(wanted):
        put(service, "c", name)
    _, listed = service.list_objects(ACCOUNT, "c", Listing())
    assert names(listed) == wanted
    _, listed = service.list_objects(ACCOUNT, "c", Listing(reverse=True, limit=3))
    assert names(listed) == ["😀", "€", "é"]
    _, listed = service.list_objects(ACCOUNT, "c", Listing(marker="a", end_marker="é"))
    assert names(listed) == ["a/b", "a/c", "z"]
    _, listed = service.list_objects(ACCOUNT, "c", Listing(reverse=True, marker="é", end_marker="a"))
    assert names(listed) == ["z", "a/c", "a/b"]
    _, listed = service.list_objects(ACCOUNT, "c", Listing(prefix="a"))
    assert names(listed) == ["a", "a/b", "a/c"]
    _, listed = service.list_objects(ACCOUNT, "c", Listing(delimiter="/"))
    assert [e.name for e in listed] == ["A", "B", "a", "a/", "z", "é", "€", "😀"]
    assert isinstance(listed[3], Subdir)


def test_delimiter_pages_count_subdirs_and_resume_after_them(service):
    service.put_container(ACCOUNT, "logs", ContainerChange())
    for day in range(5):
        for part in range(3):
            put(service, "logs", f"{day}/{part}")
    _, first = service.list_objects(ACCOUNT, "logs", Listing(delimiter="/", limit=2))
    assert names(first) == ["0/", "1/"]
    _, rest = service.list_objects(ACCOUNT, "logs", Listing(delimiter="/", marker="1/"))
    assert names(rest) == ["2/", "3/", "4/"]
    _, back = service.list_objects(ACCOUNT, "logs", Listing(delimiter="/", reverse=True, limit=2))
    assert names(back) == ["4/", "3/"]


def test_counters_follow_writes_replacements_and_deletes(service):
    service.put_container(ACCOUNT, "c", ContainerChange())
    put(service, "c", "one", b"12345")
    put(service, "c", "two", b"123")
    put(service, "c", "one", b"1")
    info = service.container(ACCOUNT, "c")
    assert (info.object_count, info.bytes_used) == (2, 4)
    service.delete_object(ACCOUNT, "c", "two")
    account = service.account(ACCOUNT)
    assert (account.container_count, account.object_count, account.bytes_used) == (1, 1, 1)
    with pytest.raises(Conflict):
        service.delete_container(ACCOUNT, "c")


def test_replaced_and_deleted_bytes_leave_the_backend(service, tmp_path):
    service.put_container(ACCOUNT, "c", ContainerChange())
    first = put(service, "c", "o", b"first")
    second = put(service, "c", "o", b"second")
    with pytest.raises(NotFound):
        service.backend.size(first.key)
    assert b"".join(service.read(second)) == b"second"
    service.delete_object(ACCOUNT, "c", "o")
    with pytest.raises(NotFound):
        service.backend.size(second.key)
    assert service.sweep() == (0, 0)  # nothing was left for the sweep


def test_refused_writes_keep_nothing(service):
    service.put_container(ACCOUNT, "c", ContainerChange(metadata={"quota-bytes": "4"}))
    with pytest.raises(Unprocessable):
        put(service, "c", "o", b"abc", etag="0" * 32)
    with pytest.raises(PayloadTooLarge):
        put(service, "c", "o", b"too large")
    with pytest.raises(NotFound):
        put(service, "missing", "o")
    put(service, "c", "o", b"abc", etag=hashlib.md5(b"abc", usedforsecurity=False).hexdigest())
    with pytest.raises(PreconditionFailed):
        put(service, "c", "o", b"x", if_none_match=True)
    files = [p for p in pathlib.Path(service.backend.root).rglob("*") if p.is_file() and ".incoming" not in p.parts]
    assert len(files) == 1


def test_expired_objects_read_as_gone_and_the_sweep_frees_them(service):
    service.put_container(ACCOUNT, "c", ContainerChange())
    info = put(service, "c", "old", delete_at=int(time.time()) - 1)
    with pytest.raises(NotFound):
        service.head_object(ACCOUNT, "c", "old")
    _, listed = service.list_objects(ACCOUNT, "c", Listing())
    assert listed == []
    assert service.sweep() == (1, 1)
    with pytest.raises(NotFound):
        service.backend.size(info.key)
    assert service.container(ACCOUNT, "c").object_count == 0
    service.delete_container(ACCOUNT, "c")


def test_a_server_side_copy_outlives_its_source(service):
    service.put_container(ACCOUNT, "c", ContainerChange())
    source = put(service, "c", "src", b"bytes")
    copy = service.copy_object(source, ACCOUNT, "c", "dst", content_type="text/plain", headers={})
    service.delete_object(ACCOUNT, "c", "src")
    assert copy.etag == source.etag and b"".join(service.read(copy)) == b"bytes"


def test_concurrent_writes_keep_the_counters_exact(service):
    from tests.fixtures.concurrency import run_together

    service.put_container(ACCOUNT, "busy", ContainerChange())

    def write(i):
        put(service, "busy", "same", b"x" * (i + 1))  # all replace one object
        put(service, "busy", f"own-{i}", b"yy")

    results = run_together(write, 8)
    assert all(r is None for r in results), results
    info = service.container(ACCOUNT, "busy")
    same = service.head_object(ACCOUNT, "busy", "same")
    assert info.object_count == 9 and info.bytes_used == 8 * 2 + same.size
    account = service.account(ACCOUNT)
    assert (account.object_count, account.bytes_used) == (9, info.bytes_used)
    files = [p for p in pathlib.Path(service.backend.root).rglob("*") if p.is_file() and ".incoming" not in p.parts]
    assert len(files) == 9  # every replaced version's bytes are gone
