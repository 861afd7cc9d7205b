"""The fake hypervisor's fault injection and its independence between simulated hosts."""

from __future__ import annotations

import os

import pytest

from stratus import conf as config
from stratus.compute.drivers.fake import FakeHypervisor, list_opts
from stratus.exceptions import BackendUnavailable
from stratus.interfaces.hypervisor import (
    BlockDevice,
    EphemeralDisk,
    InstanceSpec,
    NetworkInterface,
    PowerState,
)


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n"
                    "[fake_hypervisor]\nvcpus = 4\nfail_spawn_images = bad-image\nfail_spawn_flavors = m1.cursed\n"
                    "fail_spawn_hosts = doomed\nfail_reboot_hosts = flaky\n")
    conf = config.build([str(path)])
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)
    return conf


def spec(name: str, **kwargs) -> InstanceSpec:
    return InstanceSpec(**{"uuid": f"uuid-{name}", "name": name, "vcpus": 1, "memory_mb": 64, "root_gb": 1,
                           **kwargs})


def host(conf, name: str) -> FakeHypervisor:
    driver = FakeHypervisor(conf)
    driver.init_host(name)
    return driver


def test_injected_spawn_failures_leave_nothing(conf):
    ok = host(conf, "ok")
    for bad in (spec("a", image_id="bad-image"), spec("b", flavor_name="m1.cursed")):
        with pytest.raises(BackendUnavailable, match="injected"):
            ok.spawn(bad, [], [])
    assert ok.list_instances() == []
    with pytest.raises(BackendUnavailable):
        host(conf, "doomed").spawn(spec("c"), [], [])
    ok.spawn(spec("d", image_id="good"), [], [])
    assert ok.list_instances() == ["uuid-d"]


def test_reboot_failure_on_one_host_only(conf):
    flaky, fine = host(conf, "flaky"), host(conf, "fine")
    for driver in (flaky, fine):
        driver.spawn(spec("x"), [], [])
    with pytest.raises(BackendUnavailable):
        flaky.reboot("uuid-x", hard=True)
    fine.reboot("uuid-x", hard=True)
    assert fine.get_info("uuid-x").power_state is PowerState.RUNNING


def test_simulated_hosts_share_nothing(conf):
    hosts = [host(conf, f"h{i}") for i in range(50)]
    hosts[3].spawn(spec("only-here"), [], [])
    assert [h.host for h in hosts if h.list_instances()] == ["h3"]
    assert hosts[0].get_host_resources().vcpus == 4 and hosts[0].get_host_resources().hypervisor_hostname == "h0"


def test_guests_and_everything_about_them_outlive_the_driver(conf, tmp_path):
    first = host(conf, "h1")
    rich = spec("rich", user_data=b"\x00#cloud-config\n", metadata={"k": "v"}, image_properties={"os": "x"},
                ephemerals=(EphemeralDisk(size_gb=1, device_name="/dev/vdb"), EphemeralDisk(0, "swap", size_mb=64)),
                config_drive=False)
    nic = NetworkInterface("port-1", "fa:16:3e:00:00:01", "ovs", {"port_filter": True}, ("10.0.0.5",), 1450)
    first.spawn(rich, [nic], [BlockDevice("vol-1", "/dev/vdc", "file", {"path": "/x"})])
    first.spawn(spec("other"), [], [])
    first.pause("uuid-rich")
    first.resize("uuid-other", spec("other", vcpus=2, root_gb=2))
    log = first.get_console_output("uuid-rich")
    assert sorted(os.listdir(tmp_path / "fake-hypervisor" / "h1")) == ["uuid-other.json", "uuid-rich.json"]

    again = host(conf, "h1")
    assert again.list_instances() == ["uuid-other", "uuid-rich"]
    assert again.get_info("uuid-rich").power_state is PowerState.PAUSED
    assert again._servers["uuid-rich"].spec == rich
    assert again._servers["uuid-rich"].interfaces == {"port-1": nic}
    assert again.get_console_output("uuid-rich") == log
    assert again.get_info("uuid-other").vcpus == 2
    again.revert_resize("uuid-other")
    assert host(conf, "h1").get_info("uuid-other").vcpus == 1
    assert host(conf, "h2").list_instances() == []  # each simulated host has its own guests
    again.destroy("uuid-rich")
    assert host(conf, "h1").list_instances() == ["uuid-other"]


def test_an_empty_instances_path_keeps_guests_in_memory(conf, tmp_path):
    conf.set_override("instances_path", "", group="fake_hypervisor")
    host(conf, "h1").spawn(spec("x"), [], [])
    assert host(conf, "h1").list_instances() == []
    assert not (tmp_path / "fake-hypervisor").exists()
