"""The hypervisor suite (namespace ``stratus.hypervisor``).

The lifecycle contract of :mod:`stratus.interfaces.hypervisor` on a real (or fake) host:
spawn/destroy idempotence, power state transitions, unknown UUIDs, and each optional
capability the driver declares. The driver must be able to boot a server from
``InstanceSpec`` alone (no image) — a driver that needs an image file reads the path from
``[conformance] image_path`` in the configuration given with ``--stratus-config``.
"""

from __future__ import annotations

import json
import uuid

import pytest

from stratus.exceptions import Conflict, NotFound
from stratus.interfaces.hypervisor import (
    BlockDevice,
    EphemeralDisk,
    HostResources,
    InstanceInfo,
    InstanceSpec,
    NetworkInterface,
    PowerState,
)


def _image_path(driver_conf) -> str | None:
    """``[conformance] image_path``: a bootable disk image for drivers that run real guests."""
    from oslo_config import cfg

    option = cfg.StrOpt("image_path", help="A bootable disk image the hypervisor suite boots its servers from.")
    if "conformance" not in driver_conf or "image_path" not in driver_conf.conformance:
        driver_conf.register_opt(option, group="conformance")
    return driver_conf.conformance.image_path


@pytest.fixture
def host(driver):
    driver.init_host("conformance-host")
    return driver


@pytest.fixture
def server(host, driver_conf):
    image_path = _image_path(driver_conf)
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="conformance", vcpus=1, memory_mb=128, root_gb=1,
                        image_path=image_path, image_id="conformance-image", flavor_name="conformance-flavor")
    nic = NetworkInterface(port_id=str(uuid.uuid4()), mac_address="fa:16:3e:00:00:01", vif_type="logical",
                           fixed_ips=("10.0.0.5",))
    host.spawn(spec, [nic], [])
    yield spec
    host.destroy(spec.uuid)


def test_host_resources_are_positive(host):
    resources = host.get_host_resources()
    assert isinstance(resources, HostResources)
    assert resources.vcpus > 0 and resources.memory_mb > 0 and resources.local_gb > 0
    assert resources.hypervisor_hostname and resources.hypervisor_type


def test_a_spawned_server_runs_and_is_listed(host, server):
    assert server.uuid in host.list_instances()
    info = host.get_info(server.uuid)
    assert isinstance(info, InstanceInfo) and info.power_state is PowerState.RUNNING
    assert (info.vcpus, info.memory_mb) == (server.vcpus, server.memory_mb)


def test_spawning_the_same_uuid_twice_conflicts(host, server):
    with pytest.raises(Conflict):
        host.spawn(server, [], [])
    assert host.get_info(server.uuid).power_state is PowerState.RUNNING


def test_power_off_on_and_reboot(host, server):
    host.power_off(server.uuid)
    host.power_off(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.SHUTDOWN
    host.power_on(server.uuid)
    host.power_on(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.RUNNING
    for hard in (False, True):
        host.reboot(server.uuid, hard)
        assert host.get_info(server.uuid).power_state is PowerState.RUNNING


def test_guests_outlive_the_driver(host, server, driver_class, driver_conf):
    """A compute service restarted on the host finds its guests as they were."""
    host.power_off(server.uuid)
    again = driver_class(driver_conf)
    again.init_host("conformance-host")
    assert server.uuid in again.list_instances()
    assert again.get_info(server.uuid).power_state is PowerState.SHUTDOWN
    again.power_on(server.uuid)
    again.destroy(server.uuid)
    assert server.uuid not in again.list_instances()


def test_a_spawn_waits_for_the_network_and_gives_up_cleanly(host, driver_conf):
    """API 1.5: ``wait_for_network`` is called once before the guest runs; when it raises, the
    spawn raises and leaves nothing behind."""
    calls = []
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="network-wait", vcpus=1, memory_mb=128, root_gb=1,
                        image_path=_image_path(driver_conf))
    host.spawn(spec, [], [], wait_for_network=lambda: calls.append(host.get_info(spec.uuid).power_state
                                                                   if spec.uuid in host.list_instances() else None))
    try:
        assert len(calls) == 1 and calls[0] is not PowerState.RUNNING
        assert host.get_info(spec.uuid).power_state is PowerState.RUNNING
    finally:
        host.destroy(spec.uuid)

    def unwired() -> None:
        raise TimeoutError("the ports were not wired")

    failing = InstanceSpec(uuid=str(uuid.uuid4()), name="never-wired", vcpus=1, memory_mb=128, root_gb=1,
                           image_path=_image_path(driver_conf))
    with pytest.raises(TimeoutError):
        host.spawn(failing, [], [], wait_for_network=unwired)
    assert failing.uuid not in host.list_instances()


def test_destroy_is_idempotent(host, server):
    host.destroy(server.uuid)
    host.destroy(server.uuid)
    assert server.uuid not in host.list_instances()
    with pytest.raises(NotFound):
        host.get_info(server.uuid)


def test_unknown_uuids_are_not_found(host):
    unknown = str(uuid.uuid4())
    for call in (host.get_info, host.power_on, host.power_off, lambda u: host.reboot(u, False)):
        with pytest.raises(NotFound):
            call(unknown)
    host.destroy(unknown)


@pytest.mark.requires_capability("CONSOLE_LOG")
def test_console_output(host, server):
    output = host.get_console_output(server.uuid)
    assert isinstance(output, str)
    assert len(host.get_console_output(server.uuid, tail_lines=1).splitlines()) <= 1


@pytest.mark.requires_capability("CONSOLE_LOG")
def test_console_output_tails_as_nova_does(host, server):
    whole = host.get_console_output(server.uuid)
    assert host.get_console_output(server.uuid, tail_lines=3) == "\n".join(whole.split("\n")[-3:])


@pytest.mark.requires_capability("DIAGNOSTICS")
def test_diagnostics_describe_the_guest(host, server):
    from stratus.interfaces.hypervisor import Diagnostics

    report = host.get_diagnostics(server.uuid)
    assert isinstance(report, Diagnostics) and report.state == "running"
    assert len(report.cpu_details) == server.vcpus and report.memory_details["maximum"] == server.memory_mb
    assert len(report.disk_details) >= 1
    with pytest.raises(NotFound):
        host.get_diagnostics("00000000-0000-0000-0000-000000000000")


@pytest.mark.requires_capability("SNAPSHOT")
def test_snapshot_streams_the_disk(host, server):
    chunks: list[bytes] = []
    disk_format = host.snapshot(server.uuid, chunks.append)
    assert disk_format in ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso") and b"".join(chunks)
    assert host.get_info(server.uuid).power_state is PowerState.RUNNING


@pytest.mark.requires_capability("PAUSE")
def test_pause_and_unpause(host, server):
    host.pause(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.PAUSED
    with pytest.raises(Conflict):
        host.pause(server.uuid)
    host.unpause(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.RUNNING
    with pytest.raises(Conflict):
        host.unpause(server.uuid)


@pytest.mark.requires_capability("SUSPEND")
def test_suspend_and_resume(host, server):
    host.suspend(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.SUSPENDED
    with pytest.raises(Conflict):
        host.suspend(server.uuid)
    host.resume(server.uuid)
    assert host.get_info(server.uuid).power_state is PowerState.RUNNING


@pytest.mark.requires_capability("RESIZE")
def test_resize_confirm_and_revert(host, server):
    from dataclasses import replace

    bigger = replace(server, vcpus=2, memory_mb=256, root_gb=2)
    host.resize(server.uuid, bigger)
    assert (host.get_info(server.uuid).vcpus, host.get_info(server.uuid).memory_mb) == (2, 256)
    host.revert_resize(server.uuid)
    assert host.get_info(server.uuid).vcpus == 1
    host.resize(server.uuid, bigger)
    host.confirm_resize(server.uuid)
    host.confirm_resize(server.uuid)
    host.revert_resize(server.uuid)  # nothing kept after a confirm: the new sizes stay
    assert host.get_info(server.uuid).vcpus == 2


@pytest.mark.requires_capability("VOLUME_ATTACH")
def test_attach_and_detach_volumes(host, server, tmp_path):
    """Volumes come as the core's ``file`` connections (a raw file: ``path``, ``format``), which
    every hypervisor on a host that can reach the file attaches."""

    def volume(name: str) -> BlockDevice:
        path = tmp_path / name
        with open(path, "wb") as handle:
            handle.truncate(1024 * 1024)
        return BlockDevice(volume_id=str(uuid.uuid4()), device_name="/dev/vdb", driver_volume_type="file",
                           connection_info={"path": str(path), "format": "raw"})

    first = volume("first")
    host.attach_volume(server.uuid, first)
    with pytest.raises(Conflict):
        host.attach_volume(server.uuid, volume("second"))
    host.detach_volume(server.uuid, first.volume_id)
    host.detach_volume(server.uuid, first.volume_id)
    host.attach_volume(server.uuid, volume("third"))


@pytest.mark.requires_capability("INTERFACE_ATTACH")
def test_attach_and_detach_interfaces(host, server):
    nic = NetworkInterface(port_id=str(uuid.uuid4()), mac_address="fa:16:3e:00:00:02", vif_type="logical",
                           fixed_ips=("10.0.0.6",))
    host.attach_interface(server.uuid, nic)
    with pytest.raises(Conflict):
        host.attach_interface(server.uuid, nic)
    host.detach_interface(server.uuid, nic.port_id)
    host.detach_interface(server.uuid, nic.port_id)
    host.attach_interface(server.uuid, nic)  # detached means it can come back
    with pytest.raises(NotFound):
        host.attach_interface(str(uuid.uuid4()), nic)


@pytest.mark.requires_capability("REMOTE_CONSOLE")
def test_remote_consoles_listen_where_the_driver_says(host, server):
    import socket

    from stratus.exceptions import UnsupportedOperation

    offered = []
    for protocol in ("vnc", "serial"):
        try:
            endpoint = host.get_console(server.uuid, protocol)
        except UnsupportedOperation:
            continue
        assert endpoint.protocol == protocol and endpoint.port > 0
        with socket.create_connection((endpoint.host, endpoint.port), timeout=10):
            offered.append(protocol)
    assert offered, "the driver declares REMOTE_CONSOLE but offers neither a vnc nor a serial console"
    with pytest.raises(UnsupportedOperation):
        host.get_console(server.uuid, "spice")
    with pytest.raises(NotFound):
        host.get_console(str(uuid.uuid4()), offered[0])
    host.power_off(server.uuid)
    with pytest.raises(Conflict):
        host.get_console(server.uuid, offered[0])


def test_a_server_with_ephemeral_and_swap_disks_runs(host, driver_conf):
    image_path = _image_path(driver_conf)
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="with-disks", vcpus=1, memory_mb=128, root_gb=1,
                        ephemeral_gb=1, swap_mb=256, image_path=image_path,
                        ephemerals=(EphemeralDisk(size_gb=1), EphemeralDisk(size_gb=0, size_mb=256,
                                                                            guest_format="swap")))
    host.spawn(spec, [], [])
    try:
        assert host.get_info(spec.uuid).power_state is PowerState.RUNNING
    finally:
        host.destroy(spec.uuid)


@pytest.mark.requires_capability("CONFIG_DRIVE")
def test_a_server_with_a_config_drive_runs(host, driver_conf):
    image_path = _image_path(driver_conf)
    meta = json.dumps({"uuid": "x", "hostname": "with-drive", "public_keys": {}}).encode()
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="with-drive", vcpus=1, memory_mb=128, root_gb=1,
                        image_path=image_path, config_drive=True, user_data=b"#!/bin/sh\ntrue\n",
                        config_drive_files={"openstack/latest/meta_data.json": meta,
                                            "openstack/latest/user_data": b"#!/bin/sh\ntrue\n"})
    host.spawn(spec, [], [])
    try:
        assert host.get_info(spec.uuid).power_state is PowerState.RUNNING
    finally:
        host.destroy(spec.uuid)
