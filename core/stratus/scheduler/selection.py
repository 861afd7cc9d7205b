"""Choosing hosts: the enabled filters, then the weighers, per instance of a request.

Each chosen host's state is charged with the flavor before the next instance is placed,
so one multi-create request never over-fills a host, and an anti-affinity group's new
member counts at once. This is the decision only: the claim that makes it stick (and
refuses it if another scheduler was faster) is the caller's, in the database.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Sequence
from typing import Any

from stratus import loading
from stratus.exceptions import StratusError
from stratus.interfaces.scheduler import Filter, FilterCapability, HostState, RequestSpec, Weigher
from stratus.scheduler.filters import disk_gb

EXAMPLES = 3


class NoValidHost(StratusError):
    """No host passed every filter; the message says which filter removed how many."""

    def __init__(self, message: str) -> None:
        super().__init__(f"No valid host was found. {message}")


def charged(host: HostState, spec: RequestSpec, instance_uuid: str | None = None) -> HostState:
    """``host`` after one more instance of ``spec``."""
    flavor = spec.flavor
    return dataclasses.replace(
        host, vcpus_used=host.vcpus_used + flavor.vcpus, memory_mb_used=host.memory_mb_used + flavor.memory_mb,
        disk_gb_used=host.disk_gb_used + disk_gb(flavor.root_gb, flavor.ephemeral_gb, flavor.swap_mb),
        num_instances=host.num_instances + 1, num_io_ops=host.num_io_ops + 1,
        instances=host.instances | ({instance_uuid} if instance_uuid else set()))


class Scheduler:
    def __init__(self, conf: Any, filters: Sequence[Filter], weighers: Sequence[Weigher]) -> None:
        self.conf, self.filters, self.weighers = conf, list(filters), list(weighers)

    @classmethod
    def from_conf(cls, conf: Any) -> Scheduler:
        """The filters and weighers named in ``[scheduler]``, in that order.

        :raises DriverError: a name is not installed or does not load.
        """
        filters = [loading.load_driver("stratus.scheduler.filters", name, conf)
                   for name in conf.scheduler.enabled_filters]
        weighers = [loading.load_driver("stratus.scheduler.weighers", name, conf)
                    for name in conf.scheduler.weighers]
        return cls(conf, filters, weighers)  # type: ignore[arg-type]

    def select(self, hosts: Sequence[HostState], spec: RequestSpec, use_filters: bool = True) -> list[HostState]:
        """One host per instance of ``spec`` (the same host may come more than once);
        ``use_filters=False`` only weighs (an administrator forced the host).

        :raises NoValidHost: some instance fits nowhere.
        """
        states = {(h.host, h.nodename): h for h in hosts if h.host not in spec.ignore_hosts}
        if hosts and not states:
            raise NoValidHost(f"There are not enough hosts available: every known host was tried already "
                              f"({', '.join(sorted({h.host for h in hosts}))}).")
        once: dict[int, set[tuple[str, str]]] = {}
        chosen: list[HostState] = []
        for _ in range(spec.num_instances):
            candidates = self._filter(list(states.values()), spec, once) if use_filters else list(states.values())
            if not candidates:
                raise NoValidHost("There are not enough hosts available: no compute host is known.")
            best = self._pick(candidates, spec)
            chosen.append(best)
            states[(best.host, best.nodename)] = charged(best, spec)
            group = spec.instance_group
            if group is not None:
                spec = dataclasses.replace(spec, instance_group=dataclasses.replace(
                    group, hosts=group.hosts | {best.host},
                    members={**group.members, best.host: group.members.get(best.host, 0) + 1}))
        return chosen

    def _filter(self, hosts: list[HostState], spec: RequestSpec,
                once: dict[int, set[tuple[str, str]]]) -> list[HostState]:
        report = []
        for index, flt in enumerate(self.filters):
            before = len(hosts)
            remember = spec.num_instances > 1 and flt.capabilities & FilterCapability.RUN_ONCE_PER_REQUEST
            if remember and index in once:
                passed = [h for h in hosts if (h.host, h.nodename) in once[index]]
            else:
                passed = flt.filter_all(hosts, spec)
                if remember:
                    once[index] = {(h.host, h.nodename) for h in passed}
            name = type(flt).__name__
            removed = before - len(passed)
            if not passed and hosts:
                rejected = [flt.describe_rejection(h, spec) for h in hosts[:EXAMPLES]]
                report.append(f"{name} removed {removed} of {before} hosts ({'; '.join(rejected)}"
                              f"{'; ...' if before > EXAMPLES else ''})")
                raise NoValidHost("There are not enough hosts available. Filters: " + ", ".join(report))
            report.append(f"{name} removed {removed} of {before}")
            hosts = passed
        if not hosts:
            raise NoValidHost("There are not enough hosts available: no compute host is known.")
        return hosts

    def _pick(self, candidates: list[HostState], spec: RequestSpec) -> HostState:
        totals = [0.0] * len(candidates)
        for weigher in self.weighers:
            multiplier = weigher.multiplier()
            if not multiplier:
                continue
            raw = weigher.weigh_all(candidates, spec)
            low, high = min(raw), max(raw)
            if high > low:
                scale = multiplier / (high - low)
                totals = [total + scale * (value - low) for total, value in zip(totals, raw, strict=True)]

        def rank(i: int) -> tuple[float, str, str]:
            return -totals[i], candidates[i].host, candidates[i].nodename

        size = max(1, self.conf.scheduler.host_subset_size)
        if size == 1:
            return candidates[min(range(len(candidates)), key=rank)]
        subset = heapq.nsmallest(size, range(len(candidates)), key=rank)
        return candidates[random.choice(subset)]  # noqa: S311 (spreading, not secrecy)
