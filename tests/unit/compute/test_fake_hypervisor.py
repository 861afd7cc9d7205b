"""The fake hypervisor's fault injection and its independence between simulated hosts."""

from __future__ import annotations

import pytest

from stratus import conf as config
from stratus.compute.drivers.fake import FakeHypervisor, list_opts
from stratus.exceptions import BackendUnavailable
from stratus.interfaces.hypervisor import InstanceSpec, PowerState


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text("[fake_hypervisor]\nvcpus = 4\nfail_spawn_images = bad-image\nfail_spawn_flavors = m1.cursed\n"
                    "fail_spawn_hosts = doomed\nfail_reboot_hosts = flaky\n")
    conf = config.build([str(path)])
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)
    return conf


def spec(name: str, **kwargs) -> InstanceSpec:
    return InstanceSpec(uuid=f"uuid-{name}", name=name, vcpus=1, memory_mb=64, root_gb=1, **kwargs)


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
