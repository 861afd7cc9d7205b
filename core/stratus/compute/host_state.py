"""What compute hosts read and write of compute's state, as named operations.

Compute hosts never open a database (DESIGN §4-§5, as Nova's compute reaches its state
through nova-conductor): in the many-process shape each operation is an RPC call to a
conductor (:class:`RemoteHostState`), which runs it on its own connection
(:class:`HostState`, served by :meth:`stratus.compute.conductor.Conductor.host_state`); the
embedded cloud, one process, calls :class:`HostState` directly. Arguments and answers are
JSON values (rows as dicts, datetimes as ISO 8601 strings), so both shapes see the same.

Every write to a server is compare-and-set on what the caller saw (a delete or another
action that came meanwhile is never overwritten) and touches only a live (not deleted) row
unless it says otherwise.
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any

import sqlalchemy as sa

from stratus.compute import claims, history, models, states, zones
from stratus.compute.instances import LAZY, columns, finish_delete, record_fault, utcnow

LOG = logging.getLogger(__name__)
Instance, Migration = models.Instance, models.Migration

#: the operations a compute host may ask a conductor to run (nothing else is dispatched)
OPERATIONS: frozenset[str] = frozenset({
    "instance", "update", "fault", "finish_delete", "record_action", "event_start", "event_finish", "begin",
    "start_build", "reschedule", "untry_host", "take_power_update", "add_network_info", "remove_network_info",
    "add_block_device", "remove_block_device", "set_block_devices",
    "requested_ports", "busy", "settled", "migration", "moves", "migration_step", "resize_failed", "resized",
    "disk_sent", "clear_disk_location", "moved_back", "confirm_started", "confirmed", "reverted_here",
    "revert_finished", "images_in_use", "deleted_guests", "reclaimable", "report_nodes", "heartbeat",
    "audit_usage",
})


def plain(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings (JSON for the wire, the same in-process)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _migration_row(migration: Migration) -> dict[str, Any]:
    return plain({c.name: getattr(migration, c.name) for c in Migration.__table__.columns})


def load_migration(session: Any, migration_uuid: str) -> Migration | None:
    return session.scalars(sa.select(Migration).where(Migration.uuid == migration_uuid)).first()


def give_back(session: Any, instance_uuid: str, migration_uuid: str) -> None:
    """The server's claim goes back to what it was before the resize (if the resize took
    one: until then the server's claim is still its old one)."""
    if session.get(models.Allocation, migration_uuid) is None:
        return
    claims.release(session, instance_uuid)
    claims.move(session, migration_uuid, instance_uuid)


_ROW_OF = sa.select(Instance.__table__).where(Instance.__table__.c.uuid == sa.bindparam("b_uuid"))
_ROW_LOCKED = _ROW_OF.with_for_update()
_METADATA_OF = sa.select(models.InstanceMetadata.key, models.InstanceMetadata.value).where(
    models.InstanceMetadata.instance_uuid == sa.bindparam("b_uuid"))


@functools.cache
def update_of(where: tuple[tuple[str, bool], ...], names: tuple[str, ...]) -> Any:
    """The UPDATE of a live server's ``names`` where each column of ``where`` holds its value
    (``True``: is NULL), built once per shape: the steps of every build and delete write
    through it, and building a statement costs more than running it."""
    conditions = [Instance.uuid == sa.bindparam("b_uuid"), Instance.deleted.is_(False)]
    for name, null in where:
        column = getattr(Instance, name)
        conditions.append(column.is_(None) if null else column == sa.bindparam(f"w_{name}", type_=column.type))
    return sa.update(Instance).where(*conditions).values(
        {name: sa.bindparam(f"v_{name}", type_=getattr(Instance, name).type) for name in names}) \
        .execution_options(synchronize_session=False)


class HostState:
    """The operations, run on ``db`` (the compute database) with ``conf``."""

    def __init__(self, conf: Any, db: Any, registry: Any = None, plugins: Any = None) -> None:
        """``registry``: the service group registry heartbeats go to; ``plugins``: the pluggy
        manager usage audits notify (made when first needed)."""
        self.conf, self.db, self.registry, self._plugins = conf, db, registry, plugins

    def close(self) -> None:
        """Nothing of its own (the database and registry are its maker's)."""

    # -- one server --------------------------------------------------------------------

    def instance(self, context: Any, uuid: str, with_metadata: bool = False) -> dict[str, Any] | None:
        """The live server's row (and its ``metadata`` as a dict); None if gone or deleted."""
        with self.db.reading() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is None or row.deleted:
                return None
            found = plain(columns(row))
            if with_metadata:
                found["metadata"] = {m.key: m.value for m in row.metadata_items}
            return found

    def update(self, context: Any, uuid: str, values: dict[str, Any], where: dict[str, Any] | None = None,
               stamp: tuple[str, ...] | list[str] = (), touch: bool = True,
               end_event: list[int] | None = None) -> bool:
        """Write ``values`` (and now into each column of ``stamp``) if the server is live and
        each column of ``where`` still holds its value; whether it was written. ``end_event``:
        an event's ids (:class:`history.Ending`), ended as Success in the same transaction
        whether or not the server was written."""
        now = utcnow()
        values = {**values, **{name: now for name in stamp}, **({"updated_at": now} if touch else {})}
        where = where or {}
        statement = update_of(tuple((name, value is None) for name, value in where.items()), tuple(values))
        with self.db.transaction() as session:
            history.end_event_in(session, end_event)
            return session.execute(statement, {"b_uuid": uuid, **{f"w_{k}": v for k, v in where.items()},
                                               **{f"v_{k}": v for k, v in values.items()}}).rowcount == 1

    def fault(self, context: Any, uuid: str, values: dict[str, Any], message: str, details: str, host: str,
              tasks: list[str | None] | None = None, where: dict[str, Any] | None = None) -> bool:
        """Write ``values`` and record a fault (500, ``message``) if the server is live, its
        task is one of ``tasks`` (when given) and ``where`` holds; whether it was."""
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is None or row.deleted or (tasks is not None and row.task_state not in tasks):
                return False
            if any(getattr(row, name) != value for name, value in (where or {}).items()):
                return False
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            record_fault(session, row, 500, message, details, host)
            return True

    def finish_delete(self, context: Any, uuid: str, only_if_deleting: bool = False,
                      end_event: list[int] | None = None) -> bool:
        """The last step of the server's delete (only when a delete was asked, if so told);
        ``end_event`` as :meth:`update`'s."""
        with self.db.transaction() as session:
            history.end_event_in(session, end_event)
            row = session.get(Instance, uuid, options=LAZY)
            if row is None or row.deleted or (only_if_deleting and row.task_state != states.DELETING):
                return False
            finish_delete(session, row)
            return True

    def record_action(self, context: Any, uuid: str, action: str) -> None:
        if not getattr(context, "user_id", None):
            return
        with self.db.transaction() as session:
            history.record_action(session, uuid, context, action)

    def event_start(self, context: Any, uuid: str, name: str, host: str) -> list[int] | None:
        return history.start_event(self.db, context, uuid, name, host)

    def event_finish(self, context: Any, action_id: int, event_id: int, result: str, trace: str | None,
                     details: str | None) -> None:
        history.finish_event(self.db, action_id, event_id, result, trace, details)

    # -- building ----------------------------------------------------------------------

    def start_build(self, context: Any, uuid: str, host: str, event: str | None = None) -> dict[str, Any] | None:
        """The build of a server placed on ``host`` begins (task ``networking``; ``event``
        recorded begun for the request, in the same transaction): its row with ``metadata``
        and ``event`` (the event's ids, for :func:`history.finishing`); None if it is gone,
        placed elsewhere, or deleted meanwhile (the delete is finished here)."""
        with self.db.transaction() as session:
            row = session.execute(_ROW_LOCKED, {"b_uuid": uuid}).first()
            if row is None or row.deleted or row.host != host:
                return None
            if row.task_state == states.DELETING:
                finish_delete(session, session.get(Instance, uuid, options=LAZY))
                return None
            now = utcnow()
            session.execute(update_of((), ("task_state", "updated_at")),
                            {"b_uuid": uuid, "v_task_state": states.NETWORKING, "v_updated_at": now})
            found = plain({**row._mapping, "task_state": states.NETWORKING, "updated_at": now})
            found["metadata"] = dict(session.execute(_METADATA_OF, {"b_uuid": uuid}).all())
            found["event"] = history.start_event_in(session, context, uuid, event, host) if event else None
            return found

    def begin(self, context: Any, uuid: str, event: str, host: str) -> dict[str, Any]:
        """A step on a server begins: ``event`` recorded begun for the request (``event``: its
        ids, or None) and the live server's row (``instance``, None if gone), in one transaction."""
        with self.db.transaction() as session:
            row = session.execute(_ROW_OF, {"b_uuid": uuid}).first()  # the row as is: nothing here changes it
            live = row is not None and not row.deleted
            return {"instance": plain(dict(row._mapping)) if live else None,
                    "event": history.start_event_in(session, context, uuid, event, host)}

    def reschedule(self, context: Any, uuid: str, failure: str, host: str) -> bool:
        """A build failed on ``host``: its claim goes, and it is placed again (True) unless it
        was deleted meanwhile (the delete finished) or tried ``[scheduler] max_attempts``
        times (``ERROR`` with a fault)."""
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is None or row.deleted:
                return False
            claims.release(session, uuid)
            row.host = row.node = None
            row.network_info, row.updated_at = [], utcnow()
            if row.task_state == states.DELETING:
                finish_delete(session, row)
                return False
            if len(row.tried_hosts) >= self.conf.scheduler.max_attempts:
                row.vm_state, row.task_state = states.ERROR, None
                record_fault(session, row, 500, f"Exceeded maximum number of retries. Exhausted all hosts "
                             f"available for retrying build failures for instance {uuid}.", failure, host)
                return False
            row.task_state = states.SCHEDULING
            return True

    def untry_host(self, context: Any, uuid: str, host: str) -> list[dict[str, Any]]:
        """A restart cut the build short (not the host's fault: it may be tried again); the
        ports the server recorded."""
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is None:
                return []
            row.tried_hosts = [h for h in row.tried_hosts if h != host]
            return list(row.network_info)

    def take_power_update(self, context: Any, uuid: str, vm_state: str, power: int, task: str,
                          action: str) -> bool:
        """``power-update``: take ``task`` if the server is settled in ``vm_state``/``power``."""
        with self.db.transaction() as session:
            taken = session.execute(sa.update(Instance).where(
                Instance.uuid == uuid, Instance.vm_state == vm_state, Instance.power_state == power,
                Instance.task_state.is_(None)).values(task_state=task, updated_at=utcnow())).rowcount
            if taken and getattr(context, "request_id", None) and getattr(context, "user_id", None):
                history.record_action(session, uuid, context, action)
            return bool(taken)

    def add_network_info(self, context: Any, uuid: str, entry: dict[str, Any]) -> None:
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is not None:
                row.network_info, row.updated_at = [*row.network_info, entry], utcnow()

    def remove_network_info(self, context: Any, uuid: str, port_id: str) -> None:
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is not None:
                row.network_info = [a for a in row.network_info if a["port_id"] != port_id]
                row.updated_at = utcnow()

    def add_block_device(self, context: Any, uuid: str, entry: dict[str, Any]) -> None:
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is not None:
                row.block_device_mapping, row.updated_at = [*(row.block_device_mapping or []), entry], utcnow()

    def set_block_devices(self, context: Any, uuid: str, entries: list[dict[str, Any]]) -> None:
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is not None:
                row.block_device_mapping, row.updated_at = entries, utcnow()

    def remove_block_device(self, context: Any, uuid: str, volume_id: str) -> None:
        with self.db.transaction() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is not None:
                row.block_device_mapping = [b for b in row.block_device_mapping or []
                                            if not (b.get("destination_type") == "volume"
                                                    and b.get("volume_id") == volume_id)]
                row.updated_at = utcnow()

    def requested_ports(self, context: Any, uuid: str) -> dict[str, list[str]] | None:
        """The ports the server was given (``given``) and those it recorded (``recorded``)."""
        with self.db.reading() as session:
            row = session.get(Instance, uuid, options=LAZY)
            if row is None:
                return None
            return {"given": sorted({r["port"] for r in row.requested_networks or () if r.get("port")}),
                    "recorded": [a["port_id"] for a in row.network_info]}

    # -- a host's servers ----------------------------------------------------------------

    def busy(self, context: Any, host: str) -> list[list[Any]]:
        """``[uuid, vm_state, task_state]`` of the host's servers with a task or building."""
        with self.db.reading() as session:
            return [list(r) for r in session.execute(sa.select(Instance.uuid, Instance.vm_state,
                                                               Instance.task_state).where(
                Instance.host == host, Instance.deleted.is_(False),
                sa.or_(Instance.task_state.is_not(None), Instance.vm_state == states.BUILDING)))]

    def settled(self, context: Any, host: str, vm_states: list[str]) -> list[list[Any]]:
        """``[uuid, vm_state, power_state]`` of the host's servers without a task in ``vm_states``."""
        with self.db.reading() as session:
            return [list(r) for r in session.execute(sa.select(Instance.uuid, Instance.vm_state,
                                                               Instance.power_state).where(
                Instance.host == host, Instance.deleted.is_(False), Instance.task_state.is_(None),
                Instance.vm_state.in_(vm_states)))]

    # -- moves -------------------------------------------------------------------------

    def migration(self, context: Any, migration_uuid: str) -> dict[str, Any] | None:
        with self.db.reading() as session:
            found = load_migration(session, migration_uuid)
            return _migration_row(found) if found is not None else None

    def moves(self, context: Any, host: str, statuses: list[str]) -> list[dict[str, Any]]:
        """The migrations in ``statuses`` the host is the source or destination of."""
        with self.db.reading() as session:
            return [_migration_row(m) for m in session.scalars(sa.select(Migration).where(
                Migration.status.in_(statuses),
                sa.or_(Migration.source_compute == host, Migration.dest_compute == host)))]

    def migration_step(self, context: Any, instance_uuid: str, migration_uuid: str, expected: str, status: str,
                       task: str | None) -> dict[str, Any] | None:
        """Move the migration from ``expected`` to ``status`` (and the server's task):
        ``{"row", "metadata", "migration"}``, or None if either moved on."""
        with self.db.transaction() as session:
            row = session.get(Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if row is None or row.deleted or migration is None or migration.status != expected:
                return None
            migration.status, migration.updated_at = status, utcnow()
            if task is not None:
                row.task_state, row.updated_at = task, utcnow()
            return {"row": plain(columns(row)), "metadata": {m.key: m.value for m in row.metadata_items},
                    "migration": _migration_row(migration)}

    def resize_failed(self, context: Any, instance_uuid: str, migration_uuid: str, message: str, details: str,
                      host: str) -> None:
        """The resize is undone in the records: claims as before, migration ``error``, a fault."""
        with self.db.transaction() as session:
            row = session.get(Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            give_back(session, instance_uuid, migration_uuid)
            if migration is not None:
                migration.status, migration.updated_at = "error", utcnow()
            if row is not None and not row.deleted:
                row.task_state, row.updated_at = None, utcnow()
                record_fault(session, row, 500, message, details, host)

    def resized(self, context: Any, instance_uuid: str, migration_uuid: str, power: int,
                values: dict[str, Any]) -> bool:
        """The server is in its new flavor (``values``: where it now is); False if it was
        deleted meanwhile (the migration then ends in error)."""
        with self.db.transaction() as session:
            row = session.get(Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if row is None or row.deleted:
                migration.status, migration.updated_at = "error", utcnow()
                return False
            migration.status, migration.updated_at = "finished", utcnow()
            for name, value in values.items():
                setattr(row, name, value)
            if "host" in values:
                row.availability_zone = zones.zone_of(session, self.conf, values["host"])
            row.flavor, row.vm_state, row.task_state = migration.new_flavor, states.RESIZED, None
            row.power_state, row.updated_at = power, utcnow()
            return True

    def disk_sent(self, context: Any, instance_uuid: str, migration_uuid: str, where: str) -> None:
        """The source parked the disk at ``where``: the destination's turn."""
        with self.db.transaction() as session:
            session.execute(sa.update(Migration).where(Migration.uuid == migration_uuid).values(
                status="post-migrating", disk_location=where, updated_at=utcnow()))
            session.execute(sa.update(Instance).where(Instance.uuid == instance_uuid).values(
                task_state=states.RESIZE_MIGRATED, updated_at=utcnow()))

    def clear_disk_location(self, context: Any, migration_uuid: str) -> None:
        with self.db.transaction() as session:
            session.execute(sa.update(Migration).where(Migration.uuid == migration_uuid).values(disk_location=None))

    def moved_back(self, context: Any, instance_uuid: str, migration_uuid: str,
                   network_info: list[dict[str, Any]]) -> None:
        """The destination gave the server back: claims as before, ports on the source."""
        with self.db.transaction() as session:
            give_back(session, instance_uuid, migration_uuid)
            session.execute(sa.update(Instance).where(Instance.uuid == instance_uuid).values(
                network_info=network_info, updated_at=utcnow()))

    def confirm_started(self, context: Any, instance_uuid: str, migration_uuid: str,
                        host: str) -> dict[str, Any] | None:
        """A confirm on the source: ``{"same", "network_info", "gone"}``, None if not confirming."""
        with self.db.reading() as session:
            migration = load_migration(session, migration_uuid)
            row = session.get(Instance, instance_uuid, options=LAZY)
            if migration is None or migration.status != "confirming" or row is None:
                return None
            return {"same": migration.dest_compute == host, "network_info": list(row.network_info),
                    "gone": row.deleted}

    def confirmed(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        with self.db.transaction() as session:
            migration = load_migration(session, migration_uuid)
            row = session.get(Instance, instance_uuid, options=LAZY)
            claims.release(session, migration_uuid)
            migration.status, migration.updated_at = "confirmed", utcnow()
            if not row.deleted and row.vm_state == states.RESIZED:
                row.vm_state = migration.old_vm_state
                row.task_state, row.updated_at = None, utcnow()

    def reverted_here(self, context: Any, instance_uuid: str, migration_uuid: str, power: int) -> None:
        """A resize on one host reverted: the old flavor and state again."""
        with self.db.transaction() as session:
            migration = load_migration(session, migration_uuid)
            give_back(session, instance_uuid, migration_uuid)
            migration.status, migration.updated_at = "reverted", utcnow()
            session.execute(sa.update(Instance).where(Instance.uuid == instance_uuid).values(
                flavor=migration.old_flavor, vm_state=migration.old_vm_state, task_state=None, power_state=power,
                updated_at=utcnow()))

    def revert_finished(self, context: Any, instance_uuid: str, migration_uuid: str, status: str, host: str,
                        power: int, failure: str | None) -> None:
        """The source runs its copy again: the server is back there as before the resize."""
        with self.db.transaction() as session:
            migration = load_migration(session, migration_uuid)
            row = session.get(Instance, instance_uuid, options=LAZY)
            migration.status, migration.updated_at = status, utcnow()
            if row is None or row.deleted:
                return
            row.host, row.node, row.flavor = host, migration.source_node, migration.old_flavor
            row.availability_zone = zones.zone_of(session, self.conf, host)
            row.vm_state, row.task_state, row.power_state = migration.old_vm_state, None, power
            row.updated_at = utcnow()
            if failure:
                record_fault(session, row, 500, f"Failed to resize instance: {failure}", failure, host)

    # -- the hosts of a process ----------------------------------------------------------

    def images_in_use(self, context: Any, hosts: list[str]) -> dict[str, list[str]]:
        """The images each host's servers (and moves to or from it) use."""
        in_use: dict[str, set[str]] = {}
        with self.db.reading() as session:
            for host, image_ref in session.execute(sa.select(Instance.host, Instance.image_ref).where(
                    Instance.host.in_(hosts), Instance.deleted.is_(False))):
                in_use.setdefault(host, set()).add(image_ref)
            for migration in session.scalars(sa.select(Migration).where(
                    Migration.status.not_in(("confirmed", "reverted", "error")))):
                for host in (migration.source_compute, migration.dest_compute):
                    row = session.get(Instance, migration.instance_uuid)
                    if host in hosts and row is not None:
                        in_use.setdefault(host, set()).add(row.image_ref)
        return {host: sorted(i for i in refs if i) for host, refs in in_use.items()}

    def deleted_guests(self, context: Any, uuids: list[str], hosts: list[str]) -> dict[str, Any]:
        """Of ``uuids`` (guests on the hosts), the deleted servers' ``network_info``
        (``deleted``); and ``[migration uuid, disk location]`` of disks parked for moves of
        deleted servers to the hosts (``parked``)."""
        deleted: dict[str, Any] = {}
        with self.db.reading() as session:
            for start in range(0, len(uuids), 500):
                deleted.update(session.execute(sa.select(Instance.uuid, Instance.network_info).where(
                    Instance.uuid.in_(uuids[start:start + 500]), Instance.deleted.is_(True))).all())
            moved = Instance.uuid == Migration.instance_uuid
            parked = [list(r) for r in session.execute(sa.select(Migration.uuid, Migration.disk_location)
                                                       .join(Instance, moved).where(
                Migration.disk_location.is_not(None), Instance.deleted.is_(True),
                Migration.dest_compute.in_(hosts)))]
        return {"deleted": {k: v or [] for k, v in deleted.items()}, "parked": parked}

    def reclaimable(self, context: Any, hosts: list[str], interval: int) -> list[list[str]]:
        """``[uuid, host]`` of the hosts' servers soft-deleted more than ``interval`` seconds ago."""
        cutoff = utcnow() - datetime.timedelta(seconds=interval)
        with self.db.reading() as session:
            return [list(r) for r in session.execute(sa.select(Instance.uuid, Instance.host).where(
                Instance.host.in_(hosts), Instance.vm_state == states.SOFT_DELETED, Instance.task_state.is_(None),
                Instance.deleted.is_(False), Instance.deleted_at <= cutoff))]

    def report_nodes(self, context: Any, nodes: dict[str, dict[str, Any]]) -> None:
        """Each host's totals as its driver reports them (``compute_nodes``, made when new).

        A process of many hosts reports them all at once: one read, one bulk UPDATE of the
        nodes whose totals changed and one timestamp for the rest, so the write transaction
        (the only writer of a SQLite database while it runs) stays short."""
        import uuid as uuidlib

        Node = models.ComputeNode
        now = utcnow()
        keys = sorted({key for values in nodes.values() for key in values} - {"nodename"})
        columns = [getattr(Node, key) for key in keys]
        with self.db.transaction() as session:
            query = sa.select(Node.id, Node.host, Node.nodename, *columns)
            if len(nodes) <= 500:
                query = query.where(Node.host.in_(list(nodes)))
            known = {(row[1], row[2]): row for row in session.execute(query)}
            changed, unchanged = [], []
            for name, values in nodes.items():
                row = known.get((name, values["nodename"]))
                if row is None:
                    session.add(Node(uuid=str(uuidlib.uuid4()), host=name, vcpus_used=0, memory_mb_used=0,
                                     local_gb_used=0, running_vms=0, created_at=now, updated_at=now, **values))
                elif all(row[3 + i] == values.get(key) for i, key in enumerate(keys)):
                    unchanged.append(row[0])
                else:
                    changed.append({"id": row[0], "updated_at": now, **{key: values.get(key) for key in keys}})
            if changed:
                session.execute(sa.update(Node), changed)
            for start in range(0, len(unchanged), 500):
                session.execute(sa.update(Node).where(Node.id.in_(unchanged[start:start + 500]))
                                .values(updated_at=now).execution_options(synchronize_session=False))

    def heartbeat(self, context: Any, hosts: list[str], binary: str, topic: str) -> None:
        self.registry.heartbeat_many(hosts, binary, topic)

    def audit_usage(self, context: Any, hosts: list[str], period: str) -> dict[str, int]:
        from stratus.compute import usage_audit
        from stratus.hooks.manager import create_plugin_manager

        if self._plugins is None:
            self._plugins = create_plugin_manager(self.conf)
        return usage_audit.audit(self.db, self._plugins, hosts, period)


class HostStateEndpoint:
    """What a conductor serves on ``conductor_state``: the operations, nothing else."""

    def __init__(self, states: HostState) -> None:
        self.states = states

    def host_state(self, context: Any, operation: str, args: dict[str, Any]) -> Any:
        """A compute host's read or write of compute's state: one of :data:`OPERATIONS`.

        :raises Invalid: not such an operation.
        """
        from stratus.exceptions import Invalid

        if operation not in OPERATIONS:
            raise Invalid(f"no host state operation {operation!r}")
        return getattr(self.states, operation)(context, **args)


class RemoteHostState:
    """The same operations, each an RPC call to a conductor (``conductor``: an RPCClient on
    :data:`~stratus.compute.topics.HOST_STATE_TOPIC`); the context goes with the call."""

    def __init__(self, conductor: Any) -> None:
        self.conductor = conductor

    def close(self) -> None:
        """The RPC client is its maker's."""

    def wait(self, stopping: Any = None, timeout: float = 5.0) -> None:
        """Return once a conductor answers (a compute host cannot work without one), logging
        while none does; give up quietly when ``stopping`` (a threading.Event) is set."""
        from stratus.exceptions import BackendUnavailable, MessagingTimeout

        while stopping is None or not stopping.is_set():
            try:
                self.conductor.call(None, "host_state", timeout=timeout, operation="busy", args={"host": ""})
                return
            except (MessagingTimeout, BackendUnavailable) as exc:
                LOG.warning("waiting for a conductor to answer on %s (%s)", self.conductor.topic, exc)
                if stopping is not None:
                    stopping.wait(1.0)

    def __getattr__(self, name: str) -> Any:
        if name not in OPERATIONS:
            raise AttributeError(name)

        def call(context: Any, *args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(f"host state operation {name} takes keyword arguments only")
            return self.conductor.call(context, "host_state", operation=name, args=kwargs)

        return call


__all__ = ["OPERATIONS", "HostState", "RemoteHostState", "plain"]
