"""The conductor: orchestrates builds and moves between the scheduler and the hosts.

``build_instances`` is cast by the API for new servers and by a compute host for a
reschedule; it asks the scheduler service (:mod:`stratus.scheduler.service`) for hosts,
which answers once it has claimed them, and casts ``build_and_run_instance`` to each.
When nothing fits (or the scheduler does not answer) the servers go to ``ERROR`` with
the explanation as their fault. It also notices builds on hosts that stopped
heartbeating and reschedules them.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from stratus.compute import binaries, claims, models, states
from stratus.compute.instances import LAZY, finish_delete, record_fault, utcnow
from stratus.compute.periodic import Periodic
from stratus.compute.topics import CONDUCTOR_TOPIC, HOST_STATE_TOPIC, SCHEDULER_TOPIC, TOPIC
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable, MessagingTimeout
from stratus.rpc import RPCClient, RPCServer
from stratus.scheduler.selection import NoValidHost
from stratus.servicegroup.registry import Heartbeat, registry_from_conf

LOG = logging.getLogger(__name__)
BINARY = binaries.CONDUCTOR


class Conductor:
    def __init__(self, conf: Any, db: Any, transport: Any, host: str) -> None:
        self.conf, self.db, self.transport, self.host = conf, db, transport, host
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        self.compute = RPCClient(transport, TOPIC)
        self.scheduler = RPCClient(transport, SCHEDULER_TOPIC)
        self.server: RPCServer | None = None
        self.state_server: RPCServer | None = None
        self.network: Any = None  # set by whoever starts the conductor, to free ports of dead builds
        self._reaper = Periodic("conductor-reaper", lambda: conf.service.report_interval, self.reap_builds)
        self._heartbeat = Heartbeat(self.registry, host, BINARY, CONDUCTOR_TOPIC, conf.service.report_interval)
        from stratus.compute.host_state import HostState

        self.states = HostState(conf, db, self.registry)  # what compute hosts read and write through us

    def start(self) -> None:
        from stratus.compute.host_state import HostStateEndpoint

        self.server = RPCServer(self.transport, CONDUCTOR_TOPIC, self.host, [self], workers=8)
        self.server.start()
        self.state_server = RPCServer(self.transport, HOST_STATE_TOPIC, self.host, [HostStateEndpoint(self.states)],
                                      workers=self.conf.compute.conductor_state_workers)
        self.state_server.start()
        self._reaper.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()
        self._reaper.stop()
        if self.server is not None:
            self.server.stop()
        if self.state_server is not None:
            self.state_server.stop()
        self.compute.close()
        self.scheduler.close()
        self.services_db.dispose()

    def reap_builds(self) -> list[str]:
        """Builds whose host stopped heartbeating, and builds no conductor placed (see
        :meth:`reap_unplaced`); returns their UUIDs."""
        return self.reap_dead_hosts_builds() + self.reap_unplaced()

    def reap_unplaced(self) -> list[str]:
        """Builds still waiting for a host long after any scheduler would have answered: the
        conductor that had them stopped (a restart of the embedded cloud loses its in-process
        messages). They are placed again; the scheduler claims an unplaced server only once,
        so a build still under way elsewhere is not placed twice."""
        Instance = models.Instance
        now = utcnow()
        cutoff = now - datetime.timedelta(seconds=2 * self.conf.messaging.rpc_response_timeout + 10)
        stale = (Instance.vm_state == states.BUILDING, Instance.task_state == states.SCHEDULING,
                 Instance.host.is_(None), Instance.deleted.is_(False), Instance.updated_at < cutoff)
        with self.db.transaction() as session:
            found = list(session.scalars(sa.select(Instance.uuid).where(*stale)))
            taken = [uuid for uuid in found if session.execute(  # one conductor takes each
                sa.update(Instance).where(Instance.uuid == uuid, *stale).values(updated_at=now)
                .execution_options(synchronize_session=False)).rowcount == 1]
        if taken:
            LOG.warning("placing again builds no conductor placed: %s", ", ".join(taken))
            self.build_instances(None, taken)
        return taken

    def reap_dead_hosts_builds(self) -> list[str]:
        """Builds whose host stopped heartbeating: give back what they held and reschedule
        them (or ERROR once ``max_attempts`` hosts were tried). Returns their UUIDs."""
        down = {s.host for s in self.registry.list(binary=binaries.COMPUTE) if not s.up}
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
                self.network.release(instance_uuid, ports)
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
        try:
            hosts = self.scheduler.call(context, "select_destinations", instance_uuids=instance_uuids)
        except NoValidHost as exc:
            self._fail(instance_uuids, str(exc))
            return
        except (MessagingTimeout, BackendUnavailable) as exc:
            LOG.error("the scheduler did not place %s: %s", ", ".join(instance_uuids), exc)
            self._fail(instance_uuids, f"No valid host was found. The scheduler did not answer: {exc}")
            return
        for instance_uuid, host in zip(instance_uuids, hosts, strict=True):
            if host is not None:
                self.compute.cast(context, "build_and_run_instance", server=host, instance_uuid=instance_uuid)

    # -- resize ------------------------------------------------------------------------

    def resize_instance(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        """Have the scheduler choose and claim a host for the server's new flavor (a
        migration: another host, the one it names if any; the old claim is parked under the
        migration), then cast ``resize_instance`` to the server's host. The API calls this
        and waits.

        :raises NoValidHost: no host took it; the migration is ``error``, the server as it
            was, with the reason as its fault.
        """
        from stratus.compute.host_state import give_back, load_migration

        with self.db.reading() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            if instance is None or instance.deleted:
                return
            source = instance.host
        try:
            host = self.scheduler.call(context, "select_resize_destination", instance_uuid=instance_uuid,
                                       migration_uuid=migration_uuid)
        except (NoValidHost, MessagingTimeout, BackendUnavailable) as exc:
            reason = str(exc) if isinstance(exc, NoValidHost) else f"The scheduler did not answer: {exc}"
            with self.db.transaction() as session:
                give_back(session, instance_uuid, migration_uuid)
                migration = load_migration(session, migration_uuid)
                migration.status, migration.updated_at = "error", utcnow()
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                instance.task_state, instance.updated_at = None, utcnow()
                what = "resize" if migration.migration_type == "resize" else "migration"
                message = reason.removeprefix("No valid host was found. ")
                record_fault(session, instance, 500, f"No valid host was found for the {what}.", details=message)
            raise NoValidHost(f"No valid host found for {'resize' if what == 'resize' else 'cold migrate'}. "
                              f"{message}") from None
        if host is not None:
            self.compute.cast(context, "resize_instance", server=source, instance_uuid=instance_uuid,
                              migration_uuid=migration_uuid)

    def _fail(self, instance_uuids: list[str], message: str) -> None:
        with self.db.transaction() as session:
            for instance_uuid in instance_uuids:
                instance = session.get(models.Instance, instance_uuid, options=LAZY, with_for_update=True)
                if instance is None or instance.deleted:
                    continue
                if instance.task_state == states.DELETING:
                    finish_delete(session, instance)
                    continue
                claims.release(session, instance_uuid)  # a scheduler that answered too late may have claimed
                instance.host = instance.node = None
                instance.vm_state, instance.task_state, instance.updated_at = states.ERROR, None, utcnow()
                # Nova's plain message for everyone; why, from the filters, for administrators
                plain, _, why = message.partition("No valid host was found. ")
                record_fault(session, instance, 500, "No valid host was found." if why or not plain else message,
                             details=why)
