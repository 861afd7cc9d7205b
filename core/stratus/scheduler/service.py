"""The scheduler service: picks a host for each server and claims it there.

The conductor asks it over RPC (``select_destinations`` for builds,
``select_resize_destination`` for resizes and migrations). It runs the filters and
weighers of :class:`~stratus.scheduler.selection.Scheduler` over its cached view of the
nodes (:class:`~stratus.scheduler.hoststates.HostStateView`) and takes each claim with a
conditional UPDATE (:mod:`stratus.compute.claims`): a claim that lost a race makes it
choose again without that host, so several schedulers never over-commit a node. It
answers with the hosts only once their claims are taken, so a conductor never casts to a
host that has not reserved the room.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from typing import Any

import sqlalchemy as sa

from stratus.compute import binaries, claims, models, states
from stratus.compute.host_state import update_of
from stratus.compute.instances import LAZY, finish_delete, utcnow
from stratus.compute.topics import SCHEDULER_TOPIC
from stratus.db.engine import Database
from stratus.interfaces.scheduler import FilterCapability, FlavorSpec, InstanceGroupSpec, RequestSpec
from stratus.rpc import RPCServer
from stratus.scheduler.hoststates import HostStateView
from stratus.scheduler.selection import NoValidHost, Scheduler
from stratus.servicegroup.registry import Heartbeat, registry_from_conf

_SERVERS = models.Instance.__table__
#: what placing reads of the servers asked for, and what a claim reads of the server it places
#: (its row locked, then written through :func:`update_of`): statements built once, as every
#: boot runs them and building a statement costs more than running it on SQLite
_PLACED = ("host", "node", "availability_zone", "tried_hosts", "updated_at")
_TO_PLACE = sa.select(*(_SERVERS.c[name] for name in (
    "uuid", "deleted", "host", "project_id", "flavor", "availability_zone", "request_spec", "tried_hosts"))).where(
    _SERVERS.c.uuid.in_(sa.bindparam("b_uuids", expanding=True)))
_PLACING = sa.select(*(_SERVERS.c[name] for name in (
    "deleted", "vm_state", "task_state", "host", "request_spec", "flavor", "tried_hosts"))).where(
    _SERVERS.c.uuid == sa.bindparam("b_uuid")).with_for_update()

LOG = logging.getLogger(__name__)
TOPIC = SCHEDULER_TOPIC
BINARY = binaries.SCHEDULER


def group_hosts(session: Any, group_uuid: str, excluding: set[str]) -> dict[str, int]:
    """Hosts of the group's placed members other than ``excluding``, with how many on each."""
    return collections.Counter(session.scalars(sa.select(models.Instance.host).join(
        models.InstanceGroupMember, models.InstanceGroupMember.instance_uuid == models.Instance.uuid).where(
        models.InstanceGroupMember.group_uuid == group_uuid, models.Instance.host.is_not(None),
        models.Instance.deleted.is_(False), models.Instance.uuid.not_in(excluding))))


def per_host(group: dict[str, Any]) -> int:
    """How many members of an anti-affinity group one host may run (its rule; 1 by default)."""
    return int((group.get("rules") or {}).get("max_server_per_host", 1))


def flavor_spec(flavor: dict[str, Any]) -> FlavorSpec:
    return FlavorSpec(vcpus=flavor["vcpus"], memory_mb=flavor["ram"], root_gb=flavor["disk"],
                      ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
                      extra_specs=flavor.get("extra_specs", {}))


def request_spec(instance: Any, count: int, hosts: dict[str, int] | None = None) -> RequestSpec:
    """What the filters see of placing ``count`` servers like ``instance`` (a server's row or
    entity: its project, flavor, zone, request spec and tried hosts)."""
    spec = instance.request_spec
    group = spec.get("group")
    return RequestSpec(
        project_id=instance.project_id, num_instances=count, flavor=flavor_spec(instance.flavor),
        image_properties=spec.get("image_properties", {}),
        availability_zone=spec.get("availability_zone", instance.availability_zone),
        scheduler_hints={k: tuple(v) for k, v in spec.get("scheduler_hints", {}).items()},
        instance_group=InstanceGroupSpec(uuid=group["uuid"], policy=group["policy"],
                                         hosts=frozenset(hosts or ()), members=dict(hosts or {}),
                                         max_server_per_host=per_host(group)) if group else None,
        ignore_hosts=frozenset(instance.tried_hosts))


class SchedulerService:
    """``stratus scheduler``'s RPC endpoint (topic ``scheduler``)."""

    def __init__(self, conf: Any, db: Any, transport: Any, host: str) -> None:
        self.conf, self.db, self.transport, self.host = conf, db, transport, host
        self.scheduler = Scheduler.from_conf(conf)
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        self.view = HostStateView(conf, db, self.registry, any(
            part.capabilities & FilterCapability.INSTANCE_LIST
            for part in [*self.scheduler.filters, *self.scheduler.weighers]))
        self.server: RPCServer | None = None
        self._heartbeat = Heartbeat(self.registry, host, BINARY, TOPIC, conf.service.report_interval)

    def start(self) -> None:
        self.server = RPCServer(self.transport, TOPIC, self.host, [self], workers=8)
        self.server.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()
        if self.server is not None:
            self.server.stop()
        self.services_db.dispose()

    # -- RPC ---------------------------------------------------------------------------

    def host_states_changed(self, context: Any) -> None:
        """Fanned out by the API when services or aggregates change: read the nodes again."""
        self.view.drop()

    def select_destinations(self, context: Any, instance_uuids: list[str]) -> list[str | None]:
        """A host for each of these servers (one request: ``min_count``/``max_count``
        siblings), each with its claim taken; ``None`` for a server deleted or placed meanwhile.

        :raises NoValidHost: nothing fits one of them; the servers before it keep their
            claims (the caller casts those and fails the rest).
        """
        with self.db.reading() as session:
            # placed already: a build cast twice (a conductor's reaper and a late original) is placed once
            rows = {row.uuid: row for row in session.execute(_TO_PLACE, {"b_uuids": instance_uuids})}
            instances = [i for i in (rows.get(u) for u in instance_uuids)
                         if i is not None and not i.deleted and i.host is None]
            if not instances:
                return [None] * len(instance_uuids)
            group = instances[0].request_spec.get("group")
            hosts = group_hosts(session, group["uuid"], {i.uuid for i in instances}) if group else None
            spec = request_spec(instances[0], len(instances), hosts)
            target = dict(instances[0].request_spec)
            found = [i.uuid for i in instances]
        chosen = dict(zip(found, self._place(spec, target, found), strict=True))
        return [chosen.get(u) for u in instance_uuids]

    def select_resize_destination(self, context: Any, instance_uuid: str, migration_uuid: str) -> str | None:
        """The host for a resize's new flavor (a migration: another host, the one it names
        if any), claimed there with the server's old claim parked under the migration;
        ``None`` if the server or migration went away.

        :raises NoValidHost: no host fits or every claim lost its race.
        """
        from stratus.compute.host_state import load_migration

        with self.db.reading() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if instance is None or instance.deleted or migration is None or migration.status != "pre-migrating":
                return None
            group = instance.request_spec.get("group")
            hosts = group_hosts(session, group["uuid"], {instance_uuid}) if group else None
            new = dict(migration.new_flavor)
            spec = dataclasses.replace(
                request_spec(instance, 1, hosts), flavor=flavor_spec(new),
                ignore_hosts=frozenset() if self.conf.compute.allow_resize_to_same_host
                and migration.migration_type == "resize" else frozenset({instance.host}))
            wanted = migration.dest_compute
        avoid = set(spec.ignore_hosts)
        for _ in range(self.conf.scheduler.max_attempts):
            candidates = [h for h in self.view.get() if wanted is None or h.host == wanted]
            choice = self.scheduler.select(candidates, dataclasses.replace(spec, ignore_hosts=frozenset(avoid)))[0]
            if self._claim_resize(instance_uuid, migration_uuid, new, choice.host, choice.nodename):
                self.view.charge(choice.host, choice.nodename, spec, instance_uuid)
                return choice.host
            self.view.drop()
            avoid.add(choice.host)
        raise NoValidHost(f"Claims on {', '.join(sorted(avoid))} lost to concurrent requests.")

    # -- placing and claiming ----------------------------------------------------------

    def _place(self, spec: RequestSpec, target: dict[str, Any], instance_uuids: list[str]) -> list[str | None]:
        """A host per instance, each with its claim taken (None: deleted meanwhile). A
        request for a host or node (an administrator's) considers only that one; a forced
        one (``zone:host:node``) skips the filters."""
        force = bool(target.get("force"))
        host, node = target.get("host"), target.get("node")

        def candidates() -> list[Any]:
            hosts = self.view.get()
            if not host and not node:
                return hosts
            return [h for h in hosts if (not host or h.host == host) and (not node or h.nodename == node)]

        chosen = self.scheduler.select(candidates(), spec, use_filters=not force)
        result: list[str | None] = []
        try:
            for instance_uuid, choice in zip(instance_uuids, chosen, strict=True):
                avoid = set(spec.ignore_hosts)
                for _ in range(self.conf.scheduler.max_attempts):
                    outcome = self._claim(instance_uuid, choice)
                    if outcome != "lost":
                        if outcome == "claimed":
                            self.view.charge(choice.host, choice.nodename, spec, instance_uuid)
                        result.append(choice.host if outcome == "claimed" else None)
                        break
                    self.view.drop()
                    avoid.add(choice.host)  # another request took what was left there: choose again
                    single = dataclasses.replace(spec, num_instances=1, ignore_hosts=frozenset(avoid))
                    choice = self.scheduler.select(candidates(), single, use_filters=not force)[0]
                else:
                    raise NoValidHost(f"Claims on {', '.join(sorted(avoid))} lost to concurrent requests.")
        except NoValidHost:
            self._unclaim([u for u, host in zip(instance_uuids, result, strict=False) if host is not None])
            raise
        return result

    def _unclaim(self, instance_uuids: list[str]) -> None:
        """Give back the claims of a request that could not place all its servers (one
        request places all of them or none, as Nova)."""
        if not instance_uuids:
            return
        with self.db.transaction() as session:
            for instance_uuid in instance_uuids:
                claims.release(session, instance_uuid)
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                if instance is not None and instance.host is not None:
                    instance.tried_hosts = instance.tried_hosts[:-1]
                    instance.host = instance.node = None
        self.view.drop()

    def _claim(self, instance_uuid: str, choice: Any) -> str:
        """Claim the node ``choice`` (a HostState of the view) names: ``claimed``, ``lost``
        (the node or the group's policy refused it) or ``gone`` (deleted, or failed by the
        conductor meanwhile). The server's zone is the one the view read for the host (the
        API fans out every aggregate change, which drops the view), as Nova's cached zones."""
        host, nodename = choice.host, choice.nodename
        node_id = self.view.node_id(host, nodename)
        with self.db.transaction() as session:
            instance = session.execute(_PLACING, {"b_uuid": instance_uuid}).first()
            if instance is None or instance.deleted or instance.vm_state != states.BUILDING \
                    or instance.host is not None:  # placed already (a build cast twice): one claim only
                return "gone"
            if instance.task_state == states.DELETING:
                finish_delete(session, session.get(models.Instance, instance_uuid, options=LAZY))
                return "gone"
            group = instance.request_spec.get("group")
            if group and not self._group_allows(session, group, instance_uuid, host):
                return "lost"
            if node_id is None:
                node_id = session.scalars(sa.select(models.ComputeNode.id).where(
                    models.ComputeNode.host == host, models.ComputeNode.nodename == nodename)).one()
            if not claims.claim(session, node_id, instance_uuid, instance.flavor):
                session.rollback()
                return "lost"
            session.execute(update_of((), _PLACED), {
                "b_uuid": instance_uuid, "v_host": host, "v_node": nodename,
                "v_availability_zone": choice.availability_zone, "v_tried_hosts": [*instance.tried_hosts, host],
                "v_updated_at": utcnow()})
        return "claimed"

    def _claim_resize(self, instance_uuid: str, migration_uuid: str, flavor: dict[str, Any], host: str,
                      nodename: str) -> bool:
        from stratus.compute.host_state import load_migration

        with self.db.transaction() as session:
            group = session.get(models.Instance, instance_uuid, options=LAZY).request_spec.get("group")
            if group and not self._group_allows(session, group, instance_uuid, host):
                return False
            node = session.scalars(sa.select(models.ComputeNode).where(models.ComputeNode.host == host,
                                                                       models.ComputeNode.nodename == nodename)).one()
            if session.get(models.Allocation, migration_uuid) is None:
                claims.move(session, instance_uuid, migration_uuid)
            if not claims.claim(session, node.id, instance_uuid, flavor):
                session.rollback()
                return False
            migration = load_migration(session, migration_uuid)
            migration.dest_compute, migration.dest_node, migration.updated_at = host, nodename, utcnow()
        return True

    @staticmethod
    def _group_allows(session: Any, group: dict[str, Any], instance_uuid: str, host: str) -> bool:
        """The late policy check, under the group's row lock: concurrent placements of one
        group's members take turns here, so anti-affinity holds even when they race."""
        if group["policy"].startswith("soft-"):
            return True  # a preference the weighers applied, never a reason to refuse a host
        session.scalars(sa.select(models.InstanceGroup).where(models.InstanceGroup.uuid == group["uuid"])
                        .with_for_update()).first()
        others = group_hosts(session, group["uuid"], {instance_uuid})
        if group["policy"] == "anti-affinity":
            return others.get(host, 0) < per_host(group)
        return not others or set(others) == {host}
