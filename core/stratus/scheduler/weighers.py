"""The standard weighers (entry points in ``stratus.scheduler.weighers``), as Nova's:
raw scores are what is free (or busy, for I/O); the multiplier, from ``[scheduler]``,
decides spreading (positive) or stacking (negative)."""

from __future__ import annotations

from stratus.interfaces.scheduler import HostState, RequestSpec, Weigher
from stratus.scheduler.filters import fast_path, free_disk_gb, free_ram, free_vcpus


class _Base(Weigher):
    api_version = (1, 0)
    option = ""

    def multiplier(self) -> float:
        return float(self.conf.scheduler[self.option])


class RAMWeigher(_Base):
    option = "ram_weight_multiplier"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return free_ram(host)

    @fast_path
    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        return [free_ram(h) for h in hosts]


class CPUWeigher(_Base):
    option = "cpu_weight_multiplier"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return free_vcpus(host)

    @fast_path
    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        return [free_vcpus(h) for h in hosts]


class DiskWeigher(_Base):
    option = "disk_weight_multiplier"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return free_disk_gb(host)

    @fast_path
    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        return [free_disk_gb(h) for h in hosts]


class IoOpsWeigher(_Base):
    """Busy hosts score high; the default multiplier (-1.0) prefers idle ones."""

    option = "io_ops_weight_multiplier"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return float(host.num_io_ops)

    @fast_path
    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        return [float(h.num_io_ops) for h in hosts]


class ServerGroupSoftAffinityWeigher(_Base):
    """Members of a ``soft-affinity`` group prefer hosts that already run one of them (when
    none fits, any host does: it is a preference, not a filter)."""

    option = "soft_affinity_weight_multiplier"
    policy = "soft-affinity"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        group = spec.instance_group
        if group is None or group.policy != self.policy:
            return 0.0
        return 1.0 if host.host in group.hosts else 0.0

    @fast_path
    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        group = spec.instance_group
        if group is None or group.policy != self.policy:
            return [0.0] * len(hosts)
        return super().weigh_all(hosts, spec)


class ServerGroupSoftAntiAffinityWeigher(ServerGroupSoftAffinityWeigher):
    """Members of a ``soft-anti-affinity`` group prefer hosts that run none of them."""

    option = "soft_anti_affinity_weight_multiplier"
    policy = "soft-anti-affinity"

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return -super().weigh(host, spec)
