"""The standard filters (entry points in ``stratus.scheduler.filters``), as Nova's.

Resource filters compare what a flavor asks with what a host has left after its
allocation ratio: usable = total * ratio - used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from stratus.interfaces.scheduler import Filter, FilterCapability, HostState, RequestSpec


def free_vcpus(host: HostState) -> float:
    return host.vcpus_total * host.cpu_allocation_ratio - host.vcpus_used


def free_ram(host: HostState) -> float:
    return host.memory_mb_total * host.ram_allocation_ratio - host.memory_mb_used


def free_disk_gb(host: HostState) -> float:
    return host.disk_gb_total * host.disk_allocation_ratio - host.disk_gb_used


def disk_gb(root_gb: int, ephemeral_gb: int = 0, swap_mb: int = 0) -> int:
    """The whole GiB a flavor's disks take on a host (swap rounded up): what filters check
    and claims take, so a host a filter passes is one a claim fits."""
    return root_gb + ephemeral_gb + (swap_mb + 1023) // 1024


def _requested_disk_gb(spec: RequestSpec) -> int:
    return disk_gb(spec.flavor.root_gb, spec.flavor.ephemeral_gb, spec.flavor.swap_mb)


class _FastPath:
    """A standard filter's ``filter_all`` (or weigher's ``weigh_all``) that answers faster
    than asking host by host. It holds only while the per-host method is one of this
    package's: a subclass elsewhere that answers ``host_passes`` (or ``weigh``) its own way is
    asked host by host, as the interface promises."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name
        self.per_host = "host_passes" if name == "filter_all" else "weigh"

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self.method
        if getattr(type(obj), self.per_host).__module__ not in _STANDARD:
            return getattr(super(self.owner, obj), self.name)
        return self.method.__get__(obj, objtype)


def fast_path(method: Callable[..., Any]) -> Any:
    """Mark a standard filter's ``filter_all`` or weigher's ``weigh_all`` (see :class:`_FastPath`)."""
    return _FastPath(method)


#: the modules whose filters and weighers the fast paths were written for
_STANDARD = frozenset({__name__, "stratus.scheduler.weighers"})


class _Base(Filter):
    api_version = (1, 0)

    def __init__(self, conf: object = None) -> None:
        super().__init__(conf)


class ComputeFilter(_Base):
    """The host's compute service is up and enabled."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.service_up and not host.service_disabled

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        return [h for h in hosts if h.service_up and not h.service_disabled]

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        return f"{host.host}: compute service {'disabled' if host.service_disabled else 'down'}"


class RamFilter(_Base):
    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return free_ram(host) >= spec.flavor.memory_mb

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        need = spec.flavor.memory_mb
        return [h for h in hosts if free_ram(h) >= need]

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        return f"{host.host}: {free_ram(host):.0f} MiB RAM usable, {spec.flavor.memory_mb} requested"


class CoreFilter(_Base):
    """vCPUs (Nova's VCPU resource)."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return free_vcpus(host) >= spec.flavor.vcpus

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        need = spec.flavor.vcpus
        return [h for h in hosts if free_vcpus(h) >= need]

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        return f"{host.host}: {free_vcpus(host):.0f} vCPUs usable, {spec.flavor.vcpus} requested"


class DiskFilter(_Base):
    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return free_disk_gb(host) >= _requested_disk_gb(spec)

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        need = _requested_disk_gb(spec)
        return [h for h in hosts if free_disk_gb(h) >= need]

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        return f"{host.host}: {free_disk_gb(host):.0f} GiB disk usable, {_requested_disk_gb(spec):g} requested"


class AvailabilityZoneFilter(_Base):
    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return not spec.availability_zone or spec.availability_zone == host.availability_zone

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        zone = spec.availability_zone
        return list(hosts) if not zone else [h for h in hosts if h.availability_zone == zone]


def _dotted(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


def _host_version(number: int) -> tuple[int, int, int]:
    """Nova's integer hypervisor version (major*1e6 + minor*1e3 + micro) as a tuple."""
    return number // 1000000, number // 1000 % 1000, number % 1000


def _pad(version: tuple[int, ...]) -> tuple[int, ...]:
    return (*version, 0, 0, 0)[:3]


class ImagePropertiesFilter(_Base):
    """The image's ``hw_architecture``, ``img_hv_type`` and ``img_hv_requested_version``
    (``>=``, ``<=`` or ``==`` a dotted version; bare means ``>=``) match the host."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        props = spec.image_properties
        arch = props.get("hw_architecture") or props.get("architecture")
        if arch and arch != host.capabilities.get("cpu_arch", arch):
            return False
        hv_type = props.get("img_hv_type") or props.get("hypervisor_type")
        if hv_type and hv_type != host.hypervisor_type:
            return False
        wanted = (props.get("img_hv_requested_version") or "").strip()
        if not wanted:
            return True
        op = next((o for o in (">=", "<=", "==") if wanted.startswith(o)), "")
        target = _dotted(wanted[len(op):].strip())
        if target is None:
            return False
        have, target = _host_version(host.hypervisor_version), _pad(target)
        return {"": have >= target, ">=": have >= target, "<=": have <= target, "==": have == target}[op]

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        props = spec.image_properties
        if not any(props.get(key) for key in _IMAGE_KEYS):
            return list(hosts)
        return super().filter_all(hosts, spec)


#: the image properties :class:`ImagePropertiesFilter` reads
_IMAGE_KEYS = ("hw_architecture", "architecture", "img_hv_type", "hypervisor_type", "img_hv_requested_version")


_OPERATORS = {
    "=": lambda have, want: _float(have) is not None and _float(have) >= _float(want),
    "==": lambda have, want: _float(have) == _float(want),
    "!=": lambda have, want: _float(have) != _float(want),
    ">=": lambda have, want: _float(have) is not None and _float(want) is not None and _float(have) >= _float(want),
    "<=": lambda have, want: _float(have) is not None and _float(want) is not None and _float(have) <= _float(want),
    "s==": lambda have, want: have == want,
    "s!=": lambda have, want: have != want,
    "s>=": lambda have, want: have >= want,
    "s<=": lambda have, want: have <= want,
    "s>": lambda have, want: have > want,
    "s<": lambda have, want: have < want,
    "<in>": lambda have, want: want in have,
}


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def matches(have: str, requirement: str) -> bool:
    """Nova's extra-spec operators: ``<or> a <or> b``, ``<in> x``, ``<all-in> x y``, ``s== x``,
    ``>= 2``, or equality."""
    words = requirement.split()
    if not words:
        return have == requirement
    if words[0] == "<or>":
        return have in words[1::2]
    if words[0] == "<all-in>" and len(words) > 1:
        return all(word in have for word in words[1:])
    if words[0] in _OPERATORS and len(words) == 2:
        return bool(_OPERATORS[words[0]](have, words[1]))
    return have == requirement


_HOST_FIGURES = {
    "host": lambda h: h.host, "hypervisor_hostname": lambda h: h.nodename, "nodename": lambda h: h.nodename,
    "hypervisor_type": lambda h: h.hypervisor_type, "hypervisor_version": lambda h: h.hypervisor_version,
    "vcpus": lambda h: h.vcpus_total, "vcpus_total": lambda h: h.vcpus_total, "vcpus_used": lambda h: h.vcpus_used,
    "memory_mb": lambda h: h.memory_mb_total, "memory_mb_used": lambda h: h.memory_mb_used,
    "local_gb": lambda h: h.disk_gb_total, "local_gb_used": lambda h: h.disk_gb_used,
    "free_ram_mb": lambda h: h.memory_mb_total - h.memory_mb_used,
    "free_disk_gb": lambda h: h.disk_gb_total - h.disk_gb_used,
    "total_usable_ram_mb": lambda h: h.memory_mb_total * h.ram_allocation_ratio,
    "total_usable_disk_gb": lambda h: h.disk_gb_total * h.disk_allocation_ratio,
    "num_instances": lambda h: h.num_instances, "running_vms": lambda h: h.num_instances,
    "num_io_ops": lambda h: h.num_io_ops, "cpu_allocation_ratio": lambda h: h.cpu_allocation_ratio,
    "ram_allocation_ratio": lambda h: h.ram_allocation_ratio,
    "disk_allocation_ratio": lambda h: h.disk_allocation_ratio,
}


def capability(host: HostState, name: str) -> str | None:
    """What a host has for ``name`` as Nova's ``capabilities:`` extra specs name it: its
    figures (``vcpus``, ``free_ram_mb``, ``hypervisor_type``...), ``cpu_info:KEY``, or one
    of the capabilities its driver reports."""
    if name in _HOST_FIGURES:
        return str(_HOST_FIGURES[name](host))
    if name.startswith("cpu_info:"):
        name = name.removeprefix("cpu_info:")
    value = host.capabilities.get(name)
    return None if value is None else str(value)


def _scoped(spec: RequestSpec, scope: str) -> list[tuple[str, str]]:
    """The flavor's extra specs a filter of ``scope`` reads, as ``(name, requirement)``: the
    keys ``scope:NAME`` and the unscoped ones (no ``:``), as Nova's filters read them."""
    found = []
    for key, requirement in spec.flavor.extra_specs.items():
        prefix, _, name = key.partition(":")
        if not name or prefix == scope:
            found.append((name or prefix, str(requirement)))
    return found


class ComputeCapabilitiesFilter(_Base):
    """Flavor extra specs ``capabilities:KEY`` (or unscoped keys without ``:``) match the
    host's capabilities (see :func:`capability`)."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        for name, requirement in _scoped(spec, "capabilities"):
            have = capability(host, name)
            if have is None or not matches(have, requirement):
                return False
        return True

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        return super().filter_all(hosts, spec) if _scoped(spec, "capabilities") else list(hosts)


class AggregateInstanceExtraSpecsFilter(_Base):
    """Flavor extra specs ``aggregate_instance_extra_specs:KEY`` (or unscoped keys without
    ``:``) match the metadata of one of the host's aggregates (Nova's operators apply)."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST | FilterCapability.AGGREGATES

    def _failing(self, host: HostState, spec: RequestSpec) -> tuple[str, str] | None:
        for name, requirement in _scoped(spec, "aggregate_instance_extra_specs"):
            values = host.aggregate_metadata.get(name, ())
            if not any(matches(value, requirement) for value in values):
                return name, requirement
        return None

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return self._failing(host, spec) is None

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        return super().filter_all(hosts, spec) if _scoped(spec, "aggregate_instance_extra_specs") else list(hosts)

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        name, requirement = self._failing(host, spec) or ("", "")
        have = ", ".join(sorted(host.aggregate_metadata.get(name, ()))) or "nothing"
        return f"{host.host}: aggregate metadata {name} is {have}, the flavor asks {requirement}"


class AggregateMultiTenancyIsolation(_Base):
    """A host in aggregates with ``filter_tenant_id*`` metadata takes only those projects'
    servers; other hosts take anyone's."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.RUN_ONCE_PER_REQUEST | FilterCapability.AGGREGATES

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        allowed = {v for k, values in host.aggregate_metadata.items() if k.startswith("filter_tenant_id")
                   for v in values}
        return not allowed or spec.project_id in allowed

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        return f"{host.host}: its aggregates take only other projects' servers"


def _hint(spec: RequestSpec, name: str) -> tuple[str, ...]:
    value = spec.scheduler_hints.get(name, ())
    return (value,) if isinstance(value, str) else tuple(value)


class SameHostFilter(_Base):
    """Hint ``same_host``: only hosts running one of the given servers."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.INSTANCE_LIST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        wanted = _hint(spec, "same_host")
        return not wanted or bool(host.instances & set(wanted))

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        return super().filter_all(hosts, spec) if _hint(spec, "same_host") else list(hosts)


class DifferentHostFilter(_Base):
    """Hint ``different_host``: only hosts running none of the given servers."""

    capabilities: ClassVar[FilterCapability] = FilterCapability.INSTANCE_LIST

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return not (host.instances & set(_hint(spec, "different_host")))

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        return super().filter_all(hosts, spec) if _hint(spec, "different_host") else list(hosts)


class ServerGroupAffinityFilter(_Base):
    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        group = spec.instance_group
        if group is None or group.policy != "affinity" or not group.hosts:
            return True
        return host.host in group.hosts

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        group = spec.instance_group
        return list(hosts) if group is None or group.policy != "affinity" else super().filter_all(hosts, spec)


class ServerGroupAntiAffinityFilter(_Base):
    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        group = spec.instance_group
        if group is None or group.policy != "anti-affinity":
            return True
        if group.max_server_per_host > 1:
            return group.members.get(host.host, 0) < group.max_server_per_host
        return host.host not in group.hosts

    @fast_path
    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        group = spec.instance_group
        return list(hosts) if group is None or group.policy != "anti-affinity" else super().filter_all(hosts, spec)


class NumInstancesFilter(_Base):
    """At most ``[scheduler] max_instances_per_host`` servers on a host."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.num_instances < self.conf.scheduler.max_instances_per_host


class IoOpsFilter(_Base):
    """At most ``[scheduler] max_io_ops_per_host`` builds, resizes and snapshots at once."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        return host.num_io_ops < self.conf.scheduler.max_io_ops_per_host
