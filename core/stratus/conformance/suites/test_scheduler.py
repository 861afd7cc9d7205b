"""The scheduler suite (namespaces ``stratus.scheduler.filters`` and ``.weighers``).

Filters and weighers are pure functions of a host state and a request: they answer for
every well-formed input (odd hints included) without raising, give the same answer twice,
and explain a rejection in one line.
"""

from __future__ import annotations

import math

import pytest

from stratus.interfaces.scheduler import Filter, FlavorSpec, HostState, InstanceGroupSpec, RequestSpec, Weigher


def hosts() -> list[HostState]:
    base = dict(availability_zone="nova", service_up=True, service_disabled=False, vcpus_total=8, vcpus_used=0,
                memory_mb_total=16384, memory_mb_used=0, disk_gb_total=100, disk_gb_used=0, hypervisor_type="fake",
                hypervisor_version=1000, capabilities={"cpu_arch": "x86_64"})
    return [
        HostState(host="empty", nodename="empty", **base),
        HostState(host="full", nodename="full", **{**base, "vcpus_used": 32, "memory_mb_used": 16384,
                                                     "disk_gb_used": 100}, num_instances=60, num_io_ops=9,
                  instances=frozenset({"a", "b"})),
        HostState(host="down", nodename="down", **{**base, "service_up": False}),
        HostState(host="elsewhere", nodename="elsewhere", **{**base, "availability_zone": "az2",
                                                               "capabilities": {}}),
        HostState(host="grouped", nodename="grouped", **base, aggregate_metadata={
            "ssd": frozenset({"true"}), "filter_tenant_id": frozenset({"other"}), "speed": frozenset({"x", "5"})}),
    ]


def specs() -> list[RequestSpec]:
    flavor = FlavorSpec(vcpus=2, memory_mb=2048, root_gb=10)
    return [
        RequestSpec(project_id="p", flavor=flavor),
        RequestSpec(project_id="p", flavor=FlavorSpec(vcpus=1, memory_mb=64, root_gb=0, swap_mb=512,
                                                      extra_specs={"capabilities:cpu_arch": "s== x86_64",
                                                                   "hw:cpu_policy": "dedicated",
                                                                   "aggregate_instance_extra_specs:speed": ">= 4",
                                                                   "ssd": "<all-in> true"}),
                    availability_zone="az2", image_properties={"hw_architecture": "aarch64",
                                                               "img_hv_requested_version": ">= 1.0"}),
        RequestSpec(project_id="p", flavor=flavor, num_instances=3,
                    scheduler_hints={"same_host": ("a",), "different_host": ("b", "c"), "odd": ("?",)},
                    instance_group=InstanceGroupSpec(uuid="g", policy="anti-affinity", hosts=frozenset({"full"}))),
        RequestSpec(project_id="p", flavor=flavor, scheduler_hints={"same_host": ()},
                    instance_group=InstanceGroupSpec(uuid="g", policy="affinity"),
                    image_properties={"img_hv_requested_version": "not-a-version"}),
    ]


@pytest.fixture
def flt(driver):
    if not isinstance(driver, Filter):
        pytest.skip("not a filter")
    return driver


@pytest.fixture
def weigher(driver):
    if not isinstance(driver, Weigher):
        pytest.skip("not a weigher")
    return driver


def test_a_filter_answers_every_request_with_a_bool_twice_the_same(flt):
    for spec in specs():
        for host in hosts():
            first = flt.host_passes(host, spec)
            assert isinstance(first, bool)
            assert flt.host_passes(host, spec) is first


def test_a_filter_passes_at_once_the_hosts_it_passes_one_by_one(flt):
    for spec in specs():
        assert flt.filter_all(hosts(), spec) == [h for h in hosts() if flt.host_passes(h, spec)]


def test_a_filter_explains_a_rejection(flt):
    for spec in specs():
        for host in hosts():
            if not flt.host_passes(host, spec):
                reason = flt.describe_rejection(host, spec)
                assert isinstance(reason, str) and reason and "\n" not in reason


def test_a_weigher_scores_every_host_with_a_finite_number(weigher):
    for spec in specs():
        scores = [weigher.weigh(host, spec) for host in hosts()]
        assert all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores)
        assert scores == [weigher.weigh(host, spec) for host in hosts()]
    assert isinstance(weigher.multiplier(), float) and math.isfinite(weigher.multiplier())


def test_a_weigher_scores_at_once_as_one_by_one(weigher):
    for spec in specs():
        assert weigher.weigh_all(hosts(), spec) == [weigher.weigh(host, spec) for host in hosts()]
