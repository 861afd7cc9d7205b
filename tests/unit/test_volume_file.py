"""What the conformance suite cannot see of the ``file`` volume backend: files stay sparse,
ids cannot leave the directory, leftovers of a crash go at setup, a backend reads its
options from its own group."""

from __future__ import annotations

import os

import pytest

from stratus import conf as config_module
from stratus import loading
from stratus.exceptions import Invalid
from stratus.interfaces.volume import Connector, SnapshotSpec, VolumeSpec


@pytest.fixture
def backend(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[fast]\nvolume_backend_name = ssd\n")
    driver = loading.load_driver("stratus.volume", "file", config_module.build([str(path)]), backend_name="fast")
    driver.setup()
    return driver


def test_a_backend_reads_its_own_group_and_keeps_its_files_under_its_name(backend, tmp_path):
    assert backend.datadir == str(tmp_path / "volumes" / "fast")
    assert backend.get_stats().backend_name == "fast"


def test_volumes_snapshots_and_clones_take_only_what_is_written(backend):
    volume = VolumeSpec("v1", 4)
    backend.create_volume(volume)
    backend.copy_image_to_volume(volume, [b"x" * 4096, bytes(8 * 1024 * 1024), b"y" * 4096])
    backend.create_snapshot(SnapshotSpec("s1", "v1", 4))
    backend.create_cloned_volume(VolumeSpec("v2", 8), volume)
    for name in ("volume-v1", "snapshot-s1", "volume-v2"):
        info = os.stat(os.path.join(backend.datadir, name))
        assert info.st_blocks * 512 < 16 * 1024 * 1024 < info.st_size, (name, info)


@pytest.mark.parametrize("bad", ["../escape", "a/b", ".hidden", ""])
def test_an_id_that_would_leave_the_directory_is_refused(backend, bad):
    with pytest.raises(Invalid):
        backend.create_volume(VolumeSpec(bad, 1))
    with pytest.raises(Invalid):
        backend.initialize_connection(VolumeSpec(bad, 1), Connector("h"))
    assert os.listdir(backend.datadir) == []


def test_a_connection_names_the_file_a_local_hypervisor_opens(backend):
    backend.create_volume(VolumeSpec("v1", 1))
    connection = backend.initialize_connection(VolumeSpec("v1", 1), Connector("h"))
    assert connection.driver_volume_type == "file" and connection.data["format"] == "raw"
    assert os.path.getsize(connection.data["path"]) == 1024 ** 3


def test_setup_removes_what_an_interrupted_copy_left(backend):
    leftover = os.path.join(backend.datadir, ".incoming-abc")
    open(leftover, "wb").close()
    backend.setup()
    assert not os.path.exists(leftover)


def test_a_size_below_one_gib_is_refused_and_leaves_nothing(backend):
    with pytest.raises(Invalid):
        backend.create_volume(VolumeSpec("v0", 0))
    assert os.listdir(backend.datadir) == []


def test_a_missing_directory_is_the_backend_unavailable_not_a_traceback(tmp_path):
    from stratus.exceptions import BackendUnavailable

    path = tmp_path / "stratus.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[gone]\ndatadir = {tmp_path}/never-made\n")
    driver = loading.load_driver("stratus.volume", "file", config_module.build([str(path)]), backend_name="gone")
    with pytest.raises(BackendUnavailable):
        driver.create_volume(VolumeSpec("v1", 1))
