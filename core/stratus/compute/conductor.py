"""The conductor: places servers (scheduler + atomic claims) and hands them to their hosts.

``build_instances`` is cast by the API for new servers and by a compute host for a
reschedule; it reads every node's state, asks the scheduler, claims on the chosen node
(a claim that lost a race makes it choose again without that node) and casts
``build_and_run_instance`` to the host. When nothing fits the servers go to ``ERROR``
with the scheduler's explanation as their fault.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import sqlalchemy as sa

from stratus.compute import claims, models, states
from stratus.compute.manager import CONDUCTOR_TOPIC, TOPIC, finish_delete, record_fault, utcnow
from stratus.interfaces.scheduler import FlavorSpec, InstanceGroupSpec, RequestSpec
from stratus.rpc import RPCClient, RPCServer
from stratus.scheduler.selection import NoValidHost, Scheduler
from stratus.servicegroup.registry import registry_from_conf

LOG = logging.getLogger(__name__)


def request_spec(instance: models.Instance, count: int) -> RequestSpec:
    flavor, spec = instance.flavor, instance.request_spec
    group = spec.get("group")
    return RequestSpec(
        project_id=instance.project_id, num_instances=count,
        flavor=FlavorSpec(vcpus=flavor["vcpus"], memory_mb=flavor["ram"], root_gb=flavor["disk"],
                          ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
                          extra_specs=flavor.get("extra_specs", {})),
        image_properties=spec.get("image_properties", {}), availability_zone=instance.availability_zone,
        scheduler_hints={k: tuple(v) for k, v in spec.get("scheduler_hints", {}).items()},
        instance_group=InstanceGroupSpec(uuid=group["uuid"], policy=group["policy"],
                                         hosts=frozenset(group.get("hosts", ()))) if group else None,
        ignore_hosts=frozenset(instance.tried_hosts))


class Conductor:
    def __init__(self, conf: Any, db: Any, transport: Any, host: str) -> None:
        self.conf, self.db, self.transport, self.host = conf, db, transport, host
        self.scheduler = Scheduler.from_conf(conf)
        self.registry = registry_from_conf(conf, db)
        self.compute = RPCClient(transport, TOPIC)
        self.server: RPCServer | None = None

    def start(self) -> None:
        self.server = RPCServer(self.transport, CONDUCTOR_TOPIC, self.host, [self], workers=8)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.compute.close()

    def build_instances(self, context: Any, instance_uuids: list[str]) -> None:
        with self.db.transaction() as session:
            instances = [i for i in (session.get(models.Instance, u) for u in instance_uuids)
                         if i is not None and not i.deleted]
            if not instances:
                return
            spec = request_spec(instances[0], len(instances))
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
        """A host per instance, each with its claim taken (None: deleted meanwhile)."""
        hosts = self._host_states()
        chosen = self.scheduler.select(hosts, spec)
        result: list[str | None] = []
        for instance, choice in zip(instances, chosen, strict=True):
            avoid = set(spec.ignore_hosts)
            for _ in range(self.conf.scheduler.max_attempts):
                outcome = self._claim(instance.uuid, choice.host, choice.nodename)
                if outcome != "lost":
                    result.append(choice.host if outcome == "claimed" else None)
                    break
                avoid.add(choice.host)  # another request took what was left there: choose again
                hosts = self._host_states()
                single = dataclasses.replace(spec, num_instances=1, ignore_hosts=frozenset(avoid))
                choice = self.scheduler.select(hosts, single)[0]
            else:
                raise NoValidHost(f"Claims on {', '.join(sorted(avoid))} lost to concurrent requests.")
        return result

    def _host_states(self) -> list[Any]:
        services = self.registry.list(binary="stratus-compute")  # its own transaction, not nested
        with self.db.transaction() as session:
            return claims.host_states(session, services)

    def _claim(self, instance_uuid: str, host: str, nodename: str) -> str:
        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid)
            if instance is None or instance.deleted:
                return "gone"
            if instance.task_state == states.DELETING:
                finish_delete(session, instance)
                return "gone"
            node = session.scalars(sa.select(models.ComputeNode).where(models.ComputeNode.host == host,
                                                                       models.ComputeNode.nodename == nodename)).one()
            if not claims.claim(session, node.id, instance_uuid, instance.flavor):
                session.rollback()
                return "lost"
            instance.host, instance.node = host, nodename
            instance.tried_hosts = [*instance.tried_hosts, host]
            instance.updated_at = utcnow()
        return "claimed"

    def _fail(self, instance_uuids: list[str], message: str) -> None:
        with self.db.transaction() as session:
            for instance_uuid in instance_uuids:
                instance = session.get(models.Instance, instance_uuid)
                if instance is None or instance.deleted:
                    continue
                if instance.task_state == states.DELETING:
                    finish_delete(session, instance)
                    continue
                instance.vm_state, instance.task_state, instance.updated_at = states.ERROR, None, utcnow()
                record_fault(session, instance, 500, message)
