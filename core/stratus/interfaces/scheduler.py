"""The scheduler slots: filters (``stratus.scheduler.filters``) and weighers
(``stratus.scheduler.weighers``).

The scheduler builds one :class:`HostState` per compute node from its cache, runs the
enabled filters in the order configured (``[scheduler] enabled_filters``), then sums the
enabled weighers' normalised scores times their multipliers and claims resources on the
best host. Filters and weighers are pure functions of their inputs: no I/O, no shared
mutable state, safe to call from several threads.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

#: 1.1: ``Filter.filter_all`` and ``Weigher.weigh_all``
API_VERSION: ApiVersion = (1, 1)


class FilterCapability(enum.Flag):
    """What a filter or weigher needs loaded into :class:`HostState` (loading costs)."""

    NONE = 0
    #: result is the same for every instance of a multi-create request: run once
    RUN_ONCE_PER_REQUEST = enum.auto()
    #: needs ``HostState.instances`` (the UUIDs on the host)
    INSTANCE_LIST = enum.auto()
    #: needs ``HostState.aggregate_metadata``
    AGGREGATES = enum.auto()


@dataclass(frozen=True, slots=True)
class FlavorSpec:
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap_mb: int = 0
    extra_specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InstanceGroupSpec:
    """A server group: ``policy`` is ``affinity`` or ``anti-affinity`` (or the soft ones).

    ``hosts``: where its members already run; ``members``: how many on each of those hosts;
    ``max_server_per_host``: how many members an ``anti-affinity`` group allows on one host
    (the group's rule, 1 unless it says more)."""

    uuid: str
    policy: str
    hosts: frozenset[str] = frozenset()
    max_server_per_host: int = 1
    members: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What the user asked to boot."""

    project_id: str
    flavor: FlavorSpec
    num_instances: int = 1
    image_properties: Mapping[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    scheduler_hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    instance_group: InstanceGroupSpec | None = None
    #: hosts to avoid (a reschedule after a failed build)
    ignore_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class HostState:
    """One compute node as the scheduler sees it.

    Totals are the hypervisor's figures; ``*_allocation_ratio`` are the operator's
    over-commit ratios; ``*_used`` is what claims already hold.
    """

    host: str
    nodename: str
    availability_zone: str
    service_up: bool
    service_disabled: bool
    vcpus_total: int
    vcpus_used: int
    memory_mb_total: int
    memory_mb_used: int
    disk_gb_total: int
    disk_gb_used: int
    cpu_allocation_ratio: float = 1.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    num_instances: int = 0
    num_io_ops: int = 0
    hypervisor_type: str = ""
    hypervisor_version: int = 0
    capabilities: Mapping[str, str] = field(default_factory=dict)
    instances: frozenset[str] = frozenset()
    aggregate_metadata: Mapping[str, frozenset[str]] = field(default_factory=dict)


class Filter(Driver):
    """Decides whether a host can take one instance of the request."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = FilterCapability
    capabilities: ClassVar[enum.Flag] = FilterCapability.NONE

    @abc.abstractmethod
    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Return True when ``host`` may take one instance of ``spec``.

        Must not raise for any well-formed input; malformed hints make it return False.
        """

    def describe_rejection(self, host: HostState, spec: RequestSpec) -> str:
        """One line saying why ``host`` was rejected; shown in ``NoValidHost`` faults."""
        return f"{type(self).__name__} rejected {host.host}"

    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        """The hosts of ``hosts`` that :meth:`host_passes`, in their order: what the scheduler
        calls, once per instance over every candidate. Override only to answer faster (a
        request the filter cannot concern passes every host at once); the answer must be
        the same as :meth:`host_passes` host by host."""
        return [host for host in hosts if self.host_passes(host, spec)]


class Weigher(Driver):
    """Scores hosts; higher means preferred.

    The scheduler normalises raw scores over the candidate hosts to [0, 1] and
    multiplies them by :meth:`multiplier` (negative values invert the preference, e.g.
    stacking instead of spreading).
    """

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = FilterCapability
    capabilities: ClassVar[enum.Flag] = FilterCapability.NONE

    @abc.abstractmethod
    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        """Return the raw score of ``host`` for ``spec``. Pure; never raises."""

    def weigh_all(self, hosts: list[HostState], spec: RequestSpec) -> list[float]:
        """:meth:`weigh` of each of ``hosts``, in their order: what the scheduler calls.
        Override only to answer faster; the scores must be :meth:`weigh`'s."""
        return [self.weigh(host, spec) for host in hosts]

    @abc.abstractmethod
    def multiplier(self) -> float:
        """Return the configured multiplier (read from the weigher's own option)."""
