"""Host selection with the standard filters and weighers (no I/O: pure decisions)."""

from __future__ import annotations

import dataclasses

import pytest

from stratus import conf as config
from stratus.interfaces.scheduler import FlavorSpec, HostState, InstanceGroupSpec, RequestSpec
from stratus.scheduler import filters
from stratus.scheduler.selection import NoValidHost, Scheduler


@pytest.fixture
def conf():
    return config.build([])


def host(name: str, **changes) -> HostState:
    state = HostState(host=name, nodename=name, availability_zone="nova", service_up=True, service_disabled=False,
                      vcpus_total=4, vcpus_used=0, memory_mb_total=4096, memory_mb_used=0, disk_gb_total=100,
                      disk_gb_used=0, cpu_allocation_ratio=2.0, hypervisor_type="fake", hypervisor_version=9000000,
                      capabilities={"cpu_arch": "x86_64", "cpu_model": "Haswell"})
    return dataclasses.replace(state, **changes)


def request(memory: int = 1024, vcpus: int = 1, **changes) -> RequestSpec:
    return dataclasses.replace(RequestSpec(project_id="p", flavor=FlavorSpec(vcpus=vcpus, memory_mb=memory,
                                                                             root_gb=10)), **changes)


def test_spreading_by_default_stacking_with_negative_multipliers(conf):
    hosts = [host("a", memory_mb_used=3072, vcpus_used=6), host("b")]
    scheduler = Scheduler.from_conf(conf)
    assert scheduler.select(hosts, request())[0].host == "b"
    for option in ("ram_weight_multiplier", "cpu_weight_multiplier", "disk_weight_multiplier"):
        conf.set_override(option, -1.0, group="scheduler")
    assert Scheduler.from_conf(conf).select(hosts, request())[0].host == "a"


def test_a_multi_create_charges_each_choice(conf):
    chosen = Scheduler.from_conf(conf).select([host("a"), host("b")], request(memory=2048, num_instances=4))
    assert sorted(h.host for h in chosen) == ["a", "a", "b", "b"]
    with pytest.raises(NoValidHost) as failure:
        Scheduler.from_conf(conf).select([host("a"), host("b")], request(memory=2048, num_instances=5))
    assert "RamFilter removed 2 of 2 hosts" in str(failure.value)
    assert "0 MiB RAM usable, 2048 requested" in str(failure.value)


def test_allocation_ratios_decide_what_fits(conf):
    scheduler = Scheduler.from_conf(conf)
    assert scheduler.select([host("a")], request(vcpus=8, memory=64))[0].host == "a"  # 4 vCPUs x 2.0
    with pytest.raises(NoValidHost, match="CoreFilter removed 1 of 1"):
        scheduler.select([host("a")], request(vcpus=9, memory=64))


def test_the_message_names_each_filter_and_what_it_removed(conf):
    hosts = [host("a", service_up=False), host("b", availability_zone="az2"), host("c", memory_mb_used=4000)]
    with pytest.raises(NoValidHost) as failure:
        Scheduler.from_conf(conf).select(hosts, request(availability_zone="nova"))
    message = str(failure.value)
    assert message.startswith("No valid host was found. There are not enough hosts available.")
    assert "ComputeFilter removed 1 of 3, AvailabilityZoneFilter removed 1 of 2" in message
    assert "RamFilter removed 1 of 1 hosts (c: 96 MiB RAM usable, 1024 requested)" in message


def test_anti_affinity_holds_within_one_request_and_affinity_follows_the_group(conf):
    group = InstanceGroupSpec(uuid="g", policy="anti-affinity")
    chosen = Scheduler.from_conf(conf).select([host("a"), host("b"), host("c")],
                                              request(num_instances=3, instance_group=group))
    assert sorted(h.host for h in chosen) == ["a", "b", "c"]
    with pytest.raises(NoValidHost, match="ServerGroupAntiAffinityFilter"):
        Scheduler.from_conf(conf).select([host("a"), host("b")], request(num_instances=3, instance_group=group))
    together = InstanceGroupSpec(uuid="g2", policy="affinity")
    chosen = Scheduler.from_conf(conf).select([host("a"), host("b", memory_mb_used=100)],
                                              request(num_instances=2, instance_group=together))
    assert {h.host for h in chosen} == {"a"}


def test_anti_affinity_with_max_server_per_host_counts_members(conf):
    group = InstanceGroupSpec(uuid="g", policy="anti-affinity", max_server_per_host=2, hosts=frozenset({"a"}),
                              members={"a": 1})
    chosen = Scheduler.from_conf(conf).select([host("a"), host("b")], request(num_instances=3, instance_group=group))
    assert sorted(h.host for h in chosen) == ["a", "b", "b"]
    with pytest.raises(NoValidHost, match="ServerGroupAntiAffinityFilter removed 2 of 2"):
        Scheduler.from_conf(conf).select([host("a"), host("b")], request(num_instances=4, instance_group=group))


def test_hints_zones_images_and_capabilities(conf):
    scheduler = Scheduler.from_conf(conf)
    hosts = [host("a", instances=frozenset({"s1"})), host("b", availability_zone="az2",
                                                          capabilities={"cpu_arch": "aarch64"})]
    assert scheduler.select(hosts, request(scheduler_hints={"same_host": ("s1",)}))[0].host == "a"
    assert scheduler.select(hosts, request(scheduler_hints={"different_host": ("s1",)}))[0].host == "b"
    assert scheduler.select(hosts, request(availability_zone="az2"))[0].host == "b"
    assert scheduler.select(hosts, request(image_properties={"hw_architecture": "aarch64"}))[0].host == "b"
    assert scheduler.select(hosts, request(image_properties={"img_hv_requested_version": ">=8.5"}))
    with pytest.raises(NoValidHost, match="ImagePropertiesFilter"):
        scheduler.select(hosts, request(image_properties={"img_hv_requested_version": ">=9.1"}))
    wanting = dataclasses.replace(request(), flavor=FlavorSpec(1, 64, 1, extra_specs={
        "capabilities:cpu_model": "<or> Skylake <or> Haswell", "hw:cpu_policy": "dedicated"}))
    assert scheduler.select(hosts, wanting)[0].host == "a"
    assert scheduler.select(hosts, request(ignore_hosts=frozenset({"a"})))[0].host == "b"


@pytest.mark.parametrize(("have", "requirement", "result"), [
    ("3", ">= 2", True), ("1", ">= 2", False), ("3", "= 2", True), ("abc", "s== abc", True),
    ("abc", "s!= abc", False), ("x y z", "<in> y", True), ("b", "<or> a <or> b", True), ("c", "<or> a <or> b", False),
    ("plain", "plain", True), ("2", "2.0", False), ("2", "== 2.0", True), ("ssd nvme", "<all-in> nvme ssd", True),
    ("ssd", "<all-in> nvme ssd", False),
])
def test_extra_spec_operators(have, requirement, result):
    assert filters.matches(have, requirement) is result


def test_run_once_filters_are_asked_once_per_request(conf):
    calls = []

    class Counting(filters.ComputeFilter):
        def host_passes(self, host, spec):
            calls.append(host.host)
            return True

    scheduler = Scheduler(conf, [Counting(conf), filters.RamFilter(conf)], [])
    scheduler.select([host("a"), host("b")], request(num_instances=3))
    assert sorted(calls) == ["a", "b"]


def test_a_weigher_answering_host_by_host_its_own_way_is_asked_host_by_host(conf):
    from stratus.scheduler import weighers

    class Favourite(weighers.RAMWeigher):  # a standard weigher's option, a score of its own
        def weigh(self, host, spec):
            return 1.0 if host.host == "b" else 0.0

    conf.set_override("ram_weight_multiplier", 1.0, group="scheduler")
    more_ram = host("a", memory_mb_total=65536)
    assert Scheduler(conf, [], [weighers.RAMWeigher(conf)]).select([more_ram, host("b")], request())[0].host == "a"
    assert Scheduler(conf, [], [Favourite(conf)]).select([more_ram, host("b")], request())[0].host == "b"


def test_aggregate_extra_specs_and_tenant_isolation(conf):
    conf.set_override("enabled_filters", ["ComputeFilter", "AggregateInstanceExtraSpecsFilter",
                                          "AggregateMultiTenancyIsolation", "RamFilter"], group="scheduler")
    scheduler = Scheduler.from_conf(conf)
    hosts = [host("plain"), host("fast", aggregate_metadata={"ssd": frozenset({"true"}), "speed": frozenset({"5"})}),
             host("private", aggregate_metadata={"filter_tenant_id": frozenset({"p2"}),
                                                 "filter_tenant_id2": frozenset({"p3"})})]

    def flavor(**specs):
        return dataclasses.replace(request(), flavor=FlavorSpec(1, 64, 1, extra_specs=specs))

    assert scheduler.select(hosts, flavor(**{"aggregate_instance_extra_specs:ssd": "true"}))[0].host == "fast"
    assert scheduler.select(hosts, flavor(ssd="true", **{"hw:cpu_policy": "dedicated"}))[0].host == "fast"
    assert scheduler.select(hosts, flavor(**{"aggregate_instance_extra_specs:speed": ">= 4"}))[0].host == "fast"
    with pytest.raises(NoValidHost, match=r"AggregateInstanceExtraSpecsFilter removed 3 of 3 hosts .*fast: aggregate "
                                          r"metadata speed is 5, the flavor asks >= 6"):
        scheduler.select(hosts, flavor(**{"aggregate_instance_extra_specs:speed": ">= 6"}))
    chosen = {scheduler.select(hosts, request())[0].host for _ in range(3)}
    assert "private" not in chosen  # project p is not among the aggregate's tenants
    only = [hosts[2]]
    assert scheduler.select(only, request(project_id="p3"))[0].host == "private"
    with pytest.raises(NoValidHost, match="AggregateMultiTenancyIsolation removed 1 of 1"):
        scheduler.select(only, request())


def test_forced_hosts_skip_the_filters(conf):
    scheduler = Scheduler.from_conf(conf)
    disabled = host("off", service_disabled=True)
    with pytest.raises(NoValidHost, match="ComputeFilter"):
        scheduler.select([disabled], request())
    assert scheduler.select([disabled], request(), use_filters=False)[0].host == "off"


def test_capabilities_by_novas_names(conf):
    scheduler = Scheduler.from_conf(conf)
    hosts = [host("small"), host("big", vcpus_total=64, capabilities={"arch": "aarch64", "cpu_arch": "aarch64"})]

    def flavor(**specs):
        return dataclasses.replace(request(), flavor=FlavorSpec(1, 64, 1, extra_specs=specs))

    assert scheduler.select(hosts, flavor(**{"capabilities:vcpus": ">= 32"}))[0].host == "big"
    assert scheduler.select(hosts, flavor(**{"capabilities:cpu_info:arch": "aarch64"}))[0].host == "big"
    assert scheduler.select(hosts, flavor(**{"capabilities:free_ram_mb": ">= 4000",
                                             "capabilities:hypervisor_type": "s== fake"}))
    with pytest.raises(NoValidHost, match="ComputeCapabilitiesFilter"):
        scheduler.select(hosts, flavor(**{"capabilities:hypervisor_type": "s== kvm"}))
