"""The volume-backend suite (namespace ``stratus.volume``).

The backend under test reads its options from the ``[conformance]`` group of the
configuration file (as a backend reads them from the group named after it). Every test
makes 1 GiB volumes of its own, with fresh ids, and deletes them; the backend needs room
for a few (a thin backend takes only what is written).
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest

from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.interfaces.volume import CHUNK_LIMIT, Connector, SnapshotSpec, VolumeCapability, VolumeSpec

GIB = 1024 ** 3
#: image data of an odd length, written from a volume's start
DATA = os.urandom(3 * 1024 * 1024 + 123)
CONNECTOR = Connector(host="conformance-host", ip="127.0.0.1")


def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def contents(driver, spec: VolumeSpec) -> tuple[int, str, bool]:
    """``(length, sha256 of the first len(DATA) bytes, the rest is all zeroes)``, read in
    bounded chunks (checked against ``CHUNK_LIMIT``)."""
    length, head, rest_zero = 0, hashlib.sha256(), True
    for chunk in driver.copy_volume_to_image(spec):
        assert 0 < len(chunk) <= CHUNK_LIMIT, len(chunk)
        inside = max(0, min(len(chunk), len(DATA) - length))
        head.update(chunk[:inside])
        rest_zero = rest_zero and chunk[inside:] == _zeroes(len(chunk) - inside)
        length += len(chunk)
    return length, head.hexdigest(), rest_zero


@functools.lru_cache(maxsize=8)
def _zeroes(length: int) -> bytes:
    return bytes(length)


ZEROES = hashlib.sha256(bytes(len(DATA))).hexdigest()
WRITTEN = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def backend(driver):
    driver.setup()
    made: list[VolumeSpec] = []
    snapshots: list[SnapshotSpec] = []
    driver.made, driver.made_snapshots = made, snapshots
    yield driver
    for snapshot in snapshots:
        driver.delete_snapshot(snapshot)
    for spec in made:
        driver.delete_volume(spec)


def new_volume(driver, size_gb: int = 1, create: bool = True) -> VolumeSpec:
    spec = VolumeSpec(str(uuid.uuid4()), size_gb, name="conformance")
    driver.made.append(spec)
    if create:
        driver.create_volume(spec)
    return spec


def new_snapshot(driver, spec: VolumeSpec) -> SnapshotSpec:
    snapshot = SnapshotSpec(str(uuid.uuid4()), spec.id, spec.size_gb)
    driver.made_snapshots.append(snapshot)
    driver.create_snapshot(snapshot)
    return snapshot


def test_setup_is_repeatable_and_stats_are_sane(backend):
    backend.setup()
    stats = backend.get_stats()
    assert stats.backend_name and stats.vendor_name
    assert stats.total_gb > 0 and 0 <= stats.free_gb <= stats.total_gb
    assert stats.provisioned_gb >= 0


def test_a_new_volume_reads_as_zeroes_of_its_size(backend):
    spec = new_volume(backend)
    assert contents(backend, spec) == (GIB, ZEROES, True)


def test_the_same_id_twice_is_a_conflict(backend):
    spec = new_volume(backend)
    with pytest.raises(Conflict):
        backend.create_volume(spec)


def test_delete_is_idempotent_and_the_volume_is_gone(backend):
    spec = new_volume(backend)
    backend.delete_volume(spec)
    backend.delete_volume(spec)
    with pytest.raises(NotFound):
        backend.initialize_connection(spec, CONNECTOR)
    with pytest.raises(NotFound):
        list(backend.copy_volume_to_image(spec))
    backend.create_volume(spec)  # the id is free again
    assert contents(backend, spec)[0] == GIB


def test_image_data_written_reads_back_and_the_rest_stays_zero(backend):
    spec = new_volume(backend)
    backend.copy_image_to_volume(spec, chunks(DATA))
    assert contents(backend, spec) == (GIB, WRITTEN, True)


def test_image_data_larger_than_the_volume_is_refused(backend):
    spec = new_volume(backend)
    oversized = (bytes(1024 * 1024) for _ in range(1024 + 1))
    with pytest.raises(Invalid):
        backend.copy_image_to_volume(spec, oversized)


def test_copies_to_an_unknown_volume_are_not_found(backend):
    spec = new_volume(backend, create=False)
    with pytest.raises(NotFound):
        backend.copy_image_to_volume(spec, chunks(DATA))


def test_a_connection_says_how_to_reach_the_volume_and_repeats(backend):
    spec = new_volume(backend)
    first = backend.initialize_connection(spec, CONNECTOR)
    assert isinstance(first.driver_volume_type, str) and first.driver_volume_type
    assert backend.initialize_connection(spec, CONNECTOR) == first
    backend.terminate_connection(spec, CONNECTOR)
    backend.terminate_connection(spec, CONNECTOR)


@pytest.mark.requires_capability("THIN_PROVISIONING")
def test_a_thin_backend_counts_what_it_promised(backend):
    before = backend.get_stats()
    new_volume(backend, size_gb=2)
    after = backend.get_stats()
    assert after.provisioned_gb - before.provisioned_gb == pytest.approx(2, abs=0.01)
    assert before.free_gb - after.free_gb < 0.5, "a thin volume took its whole size at once"


@pytest.mark.requires_capability("SNAPSHOT")
def test_a_snapshot_keeps_its_moment_and_makes_volumes(backend):
    spec = new_volume(backend)
    snapshot = new_snapshot(backend, spec)
    backend.copy_image_to_volume(spec, chunks(DATA))  # after the snapshot: not in it
    restored = new_volume(backend, size_gb=2, create=False)
    backend.create_volume_from_snapshot(restored, snapshot)
    assert contents(backend, restored) == (2 * GIB, ZEROES, True)
    assert contents(backend, spec) == (GIB, WRITTEN, True)


@pytest.mark.requires_capability("SNAPSHOT")
def test_a_snapshot_outlives_its_volume_and_deletes_idempotently(backend):
    spec = new_volume(backend)
    backend.copy_image_to_volume(spec, chunks(DATA))
    snapshot = new_snapshot(backend, spec)
    try:
        backend.delete_volume(spec)
    except Conflict:
        pytest.skip("the backend keeps a volume while it has snapshots (allowed: the core refuses first)")
    restored = new_volume(backend, create=False)
    backend.create_volume_from_snapshot(restored, snapshot)
    assert contents(backend, restored) == (GIB, WRITTEN, True)
    backend.delete_snapshot(snapshot)
    backend.delete_snapshot(snapshot)


@pytest.mark.requires_capability("SNAPSHOT")
def test_a_snapshot_of_an_unknown_volume_is_not_found(backend):
    spec = new_volume(backend, create=False)
    with pytest.raises(NotFound):
        backend.create_snapshot(SnapshotSpec(str(uuid.uuid4()), spec.id, 1))


@pytest.mark.requires_capability("CLONE")
def test_a_clone_copies_its_source_and_then_goes_its_own_way(backend):
    source = new_volume(backend)
    backend.copy_image_to_volume(source, chunks(DATA))
    clone = new_volume(backend, size_gb=2, create=False)
    backend.create_cloned_volume(clone, source)
    assert contents(backend, clone) == (2 * GIB, WRITTEN, True)
    backend.copy_image_to_volume(clone, chunks(bytes(len(DATA))))
    assert contents(backend, clone) == (2 * GIB, ZEROES, True)
    assert contents(backend, source) == (GIB, WRITTEN, True)


@pytest.mark.requires_capability("EXTEND")
def test_extend_grows_and_keeps_the_data(backend):
    spec = new_volume(backend)
    backend.copy_image_to_volume(spec, chunks(DATA))
    backend.extend_volume(spec, 2)
    assert contents(backend, spec) == (2 * GIB, WRITTEN, True)
    with pytest.raises(Invalid):
        backend.extend_volume(spec, 2)
    with pytest.raises(Invalid):
        backend.extend_volume(spec, 1)


@pytest.mark.requires_capability("REVERT")
def test_revert_brings_back_the_snapshot_and_keeps_the_size(backend):
    spec = new_volume(backend)
    snapshot = new_snapshot(backend, spec)  # all zeroes
    backend.copy_image_to_volume(spec, chunks(DATA))
    if VolumeCapability.EXTEND in backend.capabilities:
        backend.extend_volume(spec, 2)
        spec = VolumeSpec(spec.id, 2)
    backend.revert_to_snapshot(spec, snapshot)
    assert contents(backend, spec) == (spec.size_gb * GIB, ZEROES, True)
    backend.copy_image_to_volume(spec, chunks(DATA))
    restored = new_volume(backend, create=False)
    backend.create_volume_from_snapshot(restored, snapshot)  # the snapshot stayed as it was
    assert contents(backend, restored) == (GIB, ZEROES, True)
    with pytest.raises(NotFound):
        backend.revert_to_snapshot(spec, SnapshotSpec(str(uuid.uuid4()), spec.id, 1))


@pytest.mark.requires_capability("MANAGE")
def test_a_volume_let_go_is_adopted_again_with_its_data(backend):
    spec = new_volume(backend)
    backend.copy_image_to_volume(spec, chunks(DATA))
    name = backend.unmanage(spec)
    backend.made.remove(spec)
    adopted = new_volume(backend, create=False)
    assert backend.manage_existing(adopted, {"source-name": name}) == 1
    assert contents(backend, adopted) == (GIB, WRITTEN, True)
    with pytest.raises(NotFound):
        backend.manage_existing(new_volume(backend, create=False), {"source-name": name})  # taken already


def test_the_declared_capabilities_are_known_flags(driver_class):
    assert isinstance(driver_class.capabilities, VolumeCapability)
