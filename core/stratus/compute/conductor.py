"""The conductor: places servers (scheduler + atomic claims) and hands them to their hosts.

``build_instances`` is cast by the API for new servers and by a compute host for a
reschedule; it reads every node's state, asks the scheduler, claims on the chosen node
(a claim that lost a race makes it choose again without that node) and casts
``build_and_run_instance`` to the host. When nothing fits the servers go to ``ERROR``
with the scheduler's explanation as their fault.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from typing import Any

import sqlalchemy as sa

from stratus.compute import claims, models, states, zones
from stratus.compute.hoststates import HostStateView
from stratus.compute.instances import LAZY
from stratus.compute.manager import CONDUCTOR_TOPIC, TOPIC, finish_delete, record_fault, utcnow
from stratus.compute.periodic import Periodic
from stratus.db.engine import Database
from stratus.interfaces.scheduler import FilterCapability, FlavorSpec, InstanceGroupSpec, RequestSpec
from stratus.rpc import RPCClient, RPCServer
from stratus.scheduler.selection import NoValidHost, Scheduler
from stratus.servicegroup.registry import Heartbeat, registry_from_conf

LOG = logging.getLogger(__name__)
BINARY = "stratus-conductor"


def group_hosts(session: Any, group_uuid: str, excluding: set[str]) -> dict[str, int]:
    """Hosts of the group's placed members other than ``excluding``, with how many on each."""
    return collections.Counter(session.scalars(sa.select(models.Instance.host).join(
        models.InstanceGroupMember, models.InstanceGroupMember.instance_uuid == models.Instance.uuid).where(
        models.InstanceGroupMember.group_uuid == group_uuid, models.Instance.host.is_not(None),
        models.Instance.deleted.is_(False), models.Instance.uuid.not_in(excluding))))


def per_host(group: dict[str, Any]) -> int:
    """How many members of an anti-affinity group one host may run (its rule; 1 by default)."""
    return int((group.get("rules") or {}).get("max_server_per_host", 1))


def request_spec(instance: models.Instance, count: int, hosts: dict[str, int] | None = None) -> RequestSpec:
    flavor, spec = instance.flavor, instance.request_spec
    group = spec.get("group")
    return RequestSpec(
        project_id=instance.project_id, num_instances=count,
        flavor=FlavorSpec(vcpus=flavor["vcpus"], memory_mb=flavor["ram"], root_gb=flavor["disk"],
                          ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
                          extra_specs=flavor.get("extra_specs", {})),
        image_properties=spec.get("image_properties", {}),
        availability_zone=spec.get("availability_zone", instance.availability_zone),
        scheduler_hints={k: tuple(v) for k, v in spec.get("scheduler_hints", {}).items()},
        instance_group=InstanceGroupSpec(uuid=group["uuid"], policy=group["policy"],
                                         hosts=frozenset(hosts or ()), members=dict(hosts or {}),
                                         max_server_per_host=per_host(group)) if group else None,
        ignore_hosts=frozenset(instance.tried_hosts))


class Conductor:
    def __init__(self, conf: Any, db: Any, transport: Any, host: str) -> None:
        self.conf, self.db, self.transport, self.host = conf, db, transport, host
        self.scheduler = Scheduler.from_conf(conf)
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        self.view = HostStateView(conf, db, self.registry, any(
            part.capabilities & FilterCapability.INSTANCE_LIST
            for part in [*self.scheduler.filters, *self.scheduler.weighers]))
        self.compute = RPCClient(transport, TOPIC)
        self.server: RPCServer | None = None
        self.network: Any = None  # set by whoever starts the conductor, to free ports of dead builds
        self._reaper = Periodic("conductor-reaper", lambda: conf.service.report_interval, self.reap_builds)
        self._heartbeat = Heartbeat(self.registry, host, BINARY, CONDUCTOR_TOPIC, conf.service.report_interval)

    def start(self) -> None:
        self.server = RPCServer(self.transport, CONDUCTOR_TOPIC, self.host, [self], workers=8)
        self.server.start()
        self._reaper.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()
        self._reaper.stop()
        if self.server is not None:
            self.server.stop()
        self.compute.close()
        self.services_db.dispose()

    def reap_builds(self) -> list[str]:
        """Builds whose host stopped heartbeating: give back what they held and reschedule
        them (or ERROR once ``max_attempts`` hosts were tried). Returns their UUIDs."""
        down = {s.host for s in self.registry.list(binary="stratus-compute") if not s.up}
        if not down:
            return []
        with self.db.transaction() as session:
            stuck = list(session.scalars(sa.select(models.Instance).where(
                models.Instance.vm_state == states.BUILDING, models.Instance.deleted.is_(False),
                models.Instance.host.in_(down))))
            found = [(i.uuid, i.host, list(i.network_info)) for i in stuck]
        again = []
        for instance_uuid, host, ports in found:
            if self.network is not None:
                from stratus.network import attachments

                attachments.release(self.network, instance_uuid, ports)
            with self.db.transaction() as session:
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                if instance is None or instance.host != host or instance.vm_state != states.BUILDING:
                    continue  # it moved on meanwhile
                claims.release(session, instance_uuid)
                instance.host = instance.node = None
                instance.network_info, instance.updated_at = [], utcnow()
                if instance.task_state == states.DELETING:
                    finish_delete(session, instance)
                elif len(instance.tried_hosts) >= self.conf.scheduler.max_attempts:
                    instance.vm_state, instance.task_state = states.ERROR, None
                    record_fault(session, instance, 500, f"Compute host {host} went down while building instance "
                                 f"{instance_uuid}, and no other host may be tried.")
                else:
                    instance.task_state = states.SCHEDULING
                    again.append(instance_uuid)
        for instance_uuid in again:
            self.build_instances(None, [instance_uuid])
        return [u for u, _, _ in found]

    def build_instances(self, context: Any, instance_uuids: list[str]) -> None:
        with self.db.transaction() as session:
            instances = [i for i in (session.get(models.Instance, u, options=LAZY) for u in instance_uuids)
                         if i is not None and not i.deleted]
            if not instances:
                return
            group = instances[0].request_spec.get("group")
            hosts = group_hosts(session, group["uuid"], {i.uuid for i in instances}) if group else None
            spec = request_spec(instances[0], len(instances), hosts)
        placed: list[tuple[str, str]] = []
        try:
            for instance_uuid, host in zip([i.uuid for i in instances], self._place(spec, instances), strict=True):
                if host is not None:
                    placed.append((instance_uuid, host))
        except NoValidHost as exc:
            self._fail([i.uuid for i in instances if i.uuid not in {p for p, _ in placed}], str(exc))
        for instance_uuid, host in placed:
            self.compute.cast(context, "build_and_run_instance", server=host, instance_uuid=instance_uuid)

    def _place(self, spec: RequestSpec, instances: list[models.Instance]) -> list[str | None]:
        """A host per instance, each with its claim taken (None: deleted meanwhile). A
        request for a host or node (an administrator's) considers only that one; a forced
        one (``zone:host:node``) skips the filters."""
        target = instances[0].request_spec
        force = bool(target.get("force"))

        def states() -> list[Any]:
            return [h for h in self._host_states() if (not target.get("host") or h.host == target["host"])
                    and (not target.get("node") or h.nodename == target["node"])]

        hosts = states()
        chosen = self.scheduler.select(hosts, spec, use_filters=not force)
        result: list[str | None] = []
        for instance, choice in zip(instances, chosen, strict=True):
            avoid = set(spec.ignore_hosts)
            for _ in range(self.conf.scheduler.max_attempts):
                outcome = self._claim(instance.uuid, choice.host, choice.nodename)
                if outcome != "lost":
                    if outcome == "claimed":
                        self.view.charge(choice.host, choice.nodename, spec, instance.uuid)
                    result.append(choice.host if outcome == "claimed" else None)
                    break
                self.view.drop()
                avoid.add(choice.host)  # another request took what was left there: choose again
                single = dataclasses.replace(spec, num_instances=1, ignore_hosts=frozenset(avoid))
                choice = self.scheduler.select(states(), single, use_filters=not force)[0]
            else:
                raise NoValidHost(f"Claims on {', '.join(sorted(avoid))} lost to concurrent requests.")
        return result

    def _host_states(self) -> list[Any]:
        return self.view.get()

    def host_states_changed(self, context: Any) -> None:
        """Fanned out by the API when services or aggregates change: read the nodes again."""
        self.view.drop()

    def _claim(self, instance_uuid: str, host: str, nodename: str) -> str:
        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            if instance is None or instance.deleted:
                return "gone"
            if instance.task_state == states.DELETING:
                finish_delete(session, instance)
                return "gone"
            group = instance.request_spec.get("group")
            if group and not self._group_allows(session, group, instance_uuid, host):
                return "lost"
            node = session.scalars(sa.select(models.ComputeNode).where(models.ComputeNode.host == host,
                                                                       models.ComputeNode.nodename == nodename)).one()
            if not claims.claim(session, node.id, instance_uuid, instance.flavor):
                session.rollback()
                return "lost"
            instance.host, instance.node = host, nodename
            instance.availability_zone = zones.zone_of(session, self.conf, host)
            instance.tried_hosts = [*instance.tried_hosts, host]
            instance.updated_at = utcnow()
        return "claimed"

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

    # -- resize ------------------------------------------------------------------------

    def resize_instance(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        """Choose a host for the server's new flavor (a migration: another host, the one it
        names if any), claim it there (the old claim is parked under the migration) and cast
        ``resize_instance`` to the server's host."""
        from stratus.compute.resizing import give_back, load_migration

        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if instance is None or instance.deleted or migration is None or migration.status != "pre-migrating":
                return
            group = instance.request_spec.get("group")
            hosts = group_hosts(session, group["uuid"], {instance_uuid}) if group else None
            spec = request_spec(instance, 1, hosts)
            new = migration.new_flavor
            spec = dataclasses.replace(spec, flavor=FlavorSpec(
                vcpus=new["vcpus"], memory_mb=new["ram"], root_gb=new["disk"], ephemeral_gb=new.get("ephemeral", 0),
                swap_mb=new.get("swap", 0), extra_specs=new.get("extra_specs", {})),
                ignore_hosts=frozenset() if self.conf.compute.allow_resize_to_same_host
                and migration.migration_type == "resize" else frozenset({instance.host}))
            source, wanted = instance.host, migration.dest_compute
        avoid = set(spec.ignore_hosts)
        try:
            for _ in range(self.conf.scheduler.max_attempts):
                candidates = [h for h in self._host_states() if wanted is None or h.host == wanted]
                choice = self.scheduler.select(candidates, dataclasses.replace(spec, ignore_hosts=frozenset(avoid)))[0]
                if self._claim_resize(instance_uuid, migration_uuid, new, choice.host, choice.nodename):
                    self.view.charge(choice.host, choice.nodename, spec, instance_uuid)
                    break
                self.view.drop()
                avoid.add(choice.host)
            else:
                raise NoValidHost(f"Claims on {', '.join(sorted(avoid))} lost to concurrent requests.")
        except NoValidHost as exc:
            with self.db.transaction() as session:
                give_back(session, instance_uuid, migration_uuid)
                migration = load_migration(session, migration_uuid)
                migration.status, migration.updated_at = "error", utcnow()
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                instance.task_state, instance.updated_at = None, utcnow()
                what = "resize" if migration.migration_type == "resize" else "migration"
                record_fault(session, instance, 500, f"No valid host was found for the {what}. {exc}")
            return
        self.compute.cast(context, "resize_instance", server=source, instance_uuid=instance_uuid,
                          migration_uuid=migration_uuid)

    def _claim_resize(self, instance_uuid: str, migration_uuid: str, flavor: dict[str, Any], host: str,
                      nodename: str) -> bool:
        from stratus.compute.resizing import load_migration

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

    def _fail(self, instance_uuids: list[str], message: str) -> None:
        with self.db.transaction() as session:
            for instance_uuid in instance_uuids:
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                if instance is None or instance.deleted:
                    continue
                if instance.task_state == states.DELETING:
                    finish_delete(session, instance)
                    continue
                instance.vm_state, instance.task_state, instance.updated_at = states.ERROR, None, utcnow()
                record_fault(session, instance, 500, message)
