"""The scheduler's view of every compute node, as one scheduler process keeps it.

Reading every node, service, aggregate (and placed server, when a filter needs the
lists) for each request took most of a scheduler's time at a thousand hosts. So the
view is read at most every ``[scheduler] host_state_max_age`` seconds; in between, each
claim this scheduler takes is charged to it. That is safe because the view only proposes:
the claim (:mod:`stratus.compute.claims`) is a conditional UPDATE that refuses a node
which no longer has room, and a refused claim makes the view re-read before the next
choice. Changes an operator expects at once — a service disabled or forced down, an
aggregate's hosts or metadata — reach every scheduler as a ``host_states_changed``
fanout, which drops the view.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import sqlalchemy as sa

from stratus.compute import binaries, models, states, zones
from stratus.compute.topics import HOSTS_CHANGED
from stratus.interfaces.scheduler import HostState, RequestSpec
from stratus.scheduler.selection import charged

Node = models.ComputeNode
#: what the API fans out when the view must be re-read at once
CHANGED = HOSTS_CHANGED


def read(session: Any, services: list[Any], default_zone: str, with_instances: bool,
         built: dict[tuple[str, str], tuple[tuple, HostState]]) -> list[HostState]:
    """Every node as the scheduler sees it: claims, service liveness (``services``: the
    compute services' statuses), builds under way, its zone and aggregate metadata, and
    (``with_instances``) the servers on it.

    ``built`` (kept by the caller between reads, replaced here) maps each node to what its
    state was built from (its row first, the row id third in it: :func:`node_id`) and the
    state: a node whose inputs are unchanged keeps its state, so a read of a thousand nodes
    builds only the few whose claims moved."""
    services = {s.host: s for s in services}
    metadata = zones.host_metadata(session)
    busy = dict(session.execute(
        sa.select(models.Instance.host, sa.func.count()).where(
            models.Instance.vm_state == states.BUILDING, models.Instance.deleted.is_(False),
            models.Instance.host.is_not(None)).group_by(models.Instance.host)).all())
    placed: dict[str, set[str]] = {}
    if with_instances:
        for uuid, host in session.execute(sa.select(models.Instance.uuid, models.Instance.host).where(
                models.Instance.deleted.is_(False), models.Instance.host.is_not(None))):
            placed.setdefault(host, set()).add(uuid)
    result = []
    seen: dict[tuple[str, str], tuple[tuple, HostState]] = {}
    # cpu_info as stored (its JSON decoded only for a node whose inputs changed)
    for row in session.execute(sa.select(
            Node.host, Node.nodename, Node.id, Node.vcpus, Node.vcpus_used, Node.memory_mb, Node.memory_mb_used,
            Node.local_gb, Node.local_gb_used, Node.cpu_allocation_ratio, Node.ram_allocation_ratio,
            Node.disk_allocation_ratio, Node.running_vms, Node.hypervisor_type, Node.hypervisor_version,
            sa.type_coerce(Node.cpu_info, sa.Text)).order_by(Node.host)):
        key = (row[0], row[1])
        service = services.get(row[0])
        inputs = (row, bool(service and service.up), bool(service and service.disabled), busy.get(row[0], 0),
                  placed.get(row[0]), metadata.get(row[0]))
        known = built.get(key)
        state = known[1] if known is not None and known[0] == inputs else _state(inputs, default_zone)
        seen[key] = (inputs, state)
        result.append(state)
    built.clear()
    built.update(seen)
    return result


def node_id(built: dict[tuple[str, str], tuple[tuple, HostState]], host: str, nodename: str) -> int | None:
    """The row id of a node in :func:`read`'s ``built`` (None: not there)."""
    entry = built.get((host, nodename))
    return None if entry is None else entry[0][0][2]


def _state(inputs: tuple, default_zone: str) -> HostState:
    row, up, disabled, busy, placed, metadata = inputs
    (host, nodename, _, vcpus, vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used, cpu_ratio, ram_ratio,
     disk_ratio, running_vms, hypervisor_type, hypervisor_version, cpu_info) = row
    metadata = metadata or {}
    cpu_info = (json.loads(cpu_info) if isinstance(cpu_info, str) else cpu_info) or {}
    return HostState(
        host=host, nodename=nodename,
        availability_zone=min(metadata.get(zones.ZONE_KEY, ()), default=default_zone),
        service_up=up, service_disabled=disabled, vcpus_total=vcpus, vcpus_used=vcpus_used,
        memory_mb_total=memory_mb, memory_mb_used=memory_mb_used, disk_gb_total=local_gb,
        disk_gb_used=local_gb_used, cpu_allocation_ratio=cpu_ratio, ram_allocation_ratio=ram_ratio,
        disk_allocation_ratio=disk_ratio, num_instances=running_vms, num_io_ops=busy,
        hypervisor_type=hypervisor_type, hypervisor_version=hypervisor_version,
        capabilities={k: str(v) for k, v in cpu_info.items()} | {"cpu_arch": str(cpu_info.get("arch", ""))},
        instances=frozenset(placed or ()), aggregate_metadata=metadata)


class HostStateView:
    """One scheduler's cached :func:`read`; thread-safe. ``with_instances``: whether an
    enabled filter or weigher needs the servers on each host (``INSTANCE_LIST``)."""

    def __init__(self, conf: Any, db: Any, registry: Any, with_instances: bool) -> None:
        self.conf, self.db, self.registry, self.with_instances = conf, db, registry, with_instances
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], HostState] = {}
        self._built: dict[tuple[str, str], tuple[tuple, HostState]] = {}
        self._read_at = float("-inf")

    def get(self) -> list[HostState]:
        """The nodes, re-read if the view is older than ``[scheduler] host_state_max_age``."""
        with self._lock:
            if time.monotonic() - self._read_at >= self.conf.scheduler.host_state_max_age:
                started = time.monotonic()
                services = self.registry.list(binary=binaries.COMPUTE)
                with self.db.reading() as session:
                    found = read(session, services, self.conf.compute.default_availability_zone,
                                 self.with_instances, self._built)
                self._states = {(h.host, h.nodename): h for h in found}
                self._read_at = started
            return list(self._states.values())

    def node_id(self, host: str, nodename: str) -> int | None:
        """The node's row id as last read (None: not in the view)."""
        with self._lock:
            return node_id(self._built, host, nodename)

    def charge(self, host: str, nodename: str, spec: RequestSpec, instance_uuid: str) -> None:
        """A claim this scheduler took: the view shows it until the next read."""
        with self._lock:
            state = self._states.get((host, nodename))
            if state is not None:
                self._states[(host, nodename)] = charged(state, spec, instance_uuid if self.with_instances else None)

    def drop(self) -> None:
        """Read everything again at the next :meth:`get` (a claim was refused, or an
        operator changed services or aggregates)."""
        with self._lock:
            self._read_at = float("-inf")
