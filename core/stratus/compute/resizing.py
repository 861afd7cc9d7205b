"""The compute hosts' side of a resize (Nova's resize → ``VERIFY_RESIZE`` → confirm/revert).

The conductor has claimed the new flavor on the destination (the server's old claim is
parked under the migration's uuid) and casts ``resize_instance`` to the source. On one host
the driver's ``resize`` does it all. Between hosts the source stops the server, streams its
disk into the image service's default store and casts ``finish_resize`` to the destination,
which takes the ports, fetches the disk and spawns the server with the new flavor; the
source keeps its stopped copy until ``confirm_resize`` (destroyed there) or
``revert_resize`` (destroyed on the destination, started again on the source). A failure
at any step puts everything back as it was before the resize and records a fault.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa

from stratus.compute import claims, history, models, states, zones
from stratus.compute.instances import LAZY, columns, instance_spec, record_fault, utcnow
from stratus.interfaces.hypervisor import PowerState

LOG = logging.getLogger(__name__)
Migration = models.Migration


def load_migration(session: Any, migration_uuid: str) -> Migration | None:
    return session.scalars(sa.select(Migration).where(Migration.uuid == migration_uuid)).first()


def drop_parked(db: Any, images: Any, migration_uuid: str, where: str | None) -> None:
    """The disk a move between hosts parked is removed and the migration no longer names it."""
    if not where:
        return
    images.drop(where)
    with db.transaction() as session:
        session.execute(sa.update(Migration).where(Migration.uuid == migration_uuid).values(disk_location=None))


def give_back(session: Any, instance_uuid: str, migration_uuid: str) -> None:
    """The server's claim goes back to what it was before the resize (if the resize took
    one: until then the server's claim is still its old one)."""
    if session.get(models.Allocation, migration_uuid) is None:
        return
    claims.release(session, instance_uuid)
    claims.move(session, migration_uuid, instance_uuid)


class Resizing:
    """Mixed into :class:`~stratus.compute.manager.ComputeManager`."""

    conf: Any
    host: str
    db: Any
    driver: Any
    cache: Any
    peers: Any

    def _migration_step(self, instance_uuid: str, migration_uuid: str, expected: str, status: str,
                        task: str | None) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]] | None:
        """Move the migration from ``expected`` to ``status`` (and the server's task); the
        server's row, metadata and the migration's row — or None if either moved on."""

        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if instance is None or instance.deleted or migration is None or migration.status != expected:
                return None
            migration.status, migration.updated_at = status, utcnow()
            if task is not None:
                instance.task_state, instance.updated_at = task, utcnow()
            return (columns(instance), {m.key: m.value for m in instance.metadata_items},
                    {c.name: getattr(migration, c.name) for c in Migration.__table__.columns})

    # -- source: start ------------------------------------------------------------------

    def resize_instance(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        with self._locked(instance_uuid), history.event(self.db, context, instance_uuid, "compute_resize_instance",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "pre-migrating", "migrating",
                                        states.RESIZE_MIGRATING)
            if step is None:
                return
            row, metadata, migration = step
            if migration["dest_compute"] == self.host:
                self._resize_here(context, row, metadata, migration)
            else:
                self._send_disk(context, row, migration)

    def _resize_here(self, context: Any, row: dict[str, Any], metadata: dict[str, str],
                     migration: dict[str, Any]) -> None:

        try:
            self._capable("RESIZE").resize(row["uuid"], instance_spec(row, metadata, None, migration["new_flavor"],
                                                                         self.config_drive(row, metadata)))
        except Exception as exc:
            self._resize_failed(row["uuid"], migration["uuid"], exc)
            raise
        self._resized(row["uuid"], migration["uuid"])

    def _send_disk(self, context: Any, row: dict[str, Any], migration: dict[str, Any]) -> None:
        uuid = row["uuid"]
        path = os.path.join(self.cache.dir, f"resize-{migration['uuid']}.out")
        powered_off = False
        try:
            snapshot = self._capable("SNAPSHOT")
            if self.driver.get_info(uuid).power_state != PowerState.SHUTDOWN:
                self.driver.power_off(uuid)
                powered_off = True
            os.makedirs(self.cache.dir, exist_ok=True)
            with open(path, "wb") as out:
                snapshot.snapshot(uuid, out.write)
            where = self.cache.images.park(f"resize-{migration['uuid']}", path)
        except Exception as exc:
            if powered_off:
                self.driver.power_on(uuid)
            self._resize_failed(uuid, migration["uuid"], exc)
            raise
        finally:
            if os.path.exists(path):
                os.unlink(path)
        with self.db.transaction() as session:
            session.execute(sa.update(Migration).where(Migration.uuid == migration["uuid"]).values(
                status="post-migrating", disk_location=where, updated_at=utcnow()))
            session.execute(sa.update(models.Instance).where(models.Instance.uuid == uuid).values(
                task_state=states.RESIZE_MIGRATED, updated_at=utcnow()))
        self.peers.cast(context, "finish_resize", server=migration["dest_compute"], instance_uuid=uuid,
                        migration_uuid=migration["uuid"])

    def _resize_failed(self, instance_uuid: str, migration_uuid: str, exc: Exception) -> None:
        """Nothing changed on the guest that was not undone: the server is as before, with a fault."""

        LOG.warning("resize of %s on %s failed: %s", instance_uuid, self.host, exc)
        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            give_back(session, instance_uuid, migration_uuid)
            if migration is not None:
                migration.status, migration.updated_at = "error", utcnow()
            if instance is not None and not instance.deleted:
                instance.task_state, instance.updated_at = None, utcnow()
                record_fault(session, instance, 500, f"Failed to resize instance: {exc}",
                             f"{type(exc).__name__}: {exc}", self.host)

    def _resized(self, instance_uuid: str, migration_uuid: str, **values: Any) -> bool:
        """The server is in its new flavor (``values``: where it now is); False if it was
        deleted meanwhile (the migration then ends in error)."""
        power = self.driver.get_info(instance_uuid).power_state
        with self.db.transaction() as session:
            instance = session.get(models.Instance, instance_uuid, options=LAZY)
            migration = load_migration(session, migration_uuid)
            if instance is None or instance.deleted:
                migration.status, migration.updated_at = "error", utcnow()
                return False
            migration.status, migration.updated_at = "finished", utcnow()
            for name, value in values.items():
                setattr(instance, name, value)
            if "host" in values:
                instance.availability_zone = zones.zone_of(session, self.conf, values["host"])
            instance.flavor, instance.vm_state, instance.task_state = migration.new_flavor, states.RESIZED, None
            instance.power_state, instance.updated_at = power, utcnow()
        return True

    # -- destination: finish ------------------------------------------------------------

    def finish_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        with self._locked(instance_uuid), history.event(self.db, context, instance_uuid, "compute_finish_resize",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "post-migrating", "post-migrating",
                                        states.RESIZE_FINISH)
            if step is None:  # deleted while its disk was on the way: nobody will fetch it
                with self.db.reading() as session:
                    migration = load_migration(session, migration_uuid)
                    where = migration.disk_location if migration is not None else None
                drop_parked(self.db, self.cache.images, migration_uuid, where)
                return
            row, metadata, migration = step
            path = os.path.join(self.cache.dir, f"resize-{migration_uuid}.in")
            network_info: list[dict[str, Any]] = []
            try:
                os.makedirs(self.cache.dir, exist_ok=True)
                self.cache.images.fetch(migration["disk_location"], path)
                network_info = self._rebind(instance_uuid, row["project_id"], row["network_info"])
                nics = self._plug(instance_uuid, row["project_id"], network_info)
                self._wait_for_plug(instance_uuid, network_info)
                self.driver.spawn(instance_spec(row, metadata, path, migration["new_flavor"],
                                                self.config_drive(row, metadata)), nics, [])
                if migration["old_vm_state"] == states.STOPPED:
                    self.driver.power_off(instance_uuid)
            except Exception as exc:
                LOG.warning("finishing the resize of %s on %s failed: %s", instance_uuid, self.host, exc)
                self.driver.destroy(instance_uuid)
                self._move_back(context, row, migration, network_info, "error", exc)
                raise
            finally:
                if os.path.exists(path):
                    os.unlink(path)
            if not self._resized(instance_uuid, migration_uuid, host=self.host, node=migration["dest_node"],
                                 network_info=network_info):
                self.reap(instance_uuid, network_info)  # deleted while it moved here
            drop_parked(self.db, self.cache.images, migration_uuid, migration["disk_location"])

    def _move_back(self, context: Any, row: dict[str, Any], migration: dict[str, Any],
                   network_info: list[dict[str, Any]], status: str, failure: Exception | None) -> None:
        """Undo the destination's part (its guest is already destroyed): ports back to the
        source, the claims as before the resize; the source then starts its copy again."""

        if network_info:
            self._unplug(row["uuid"], network_info)
        try:
            source_ports = self._rebind(row["uuid"], row["project_id"], row["network_info"],
                                        host=migration["source_compute"])
        except Exception:
            LOG.exception("could not bind the ports of %s back to %s", row["uuid"], migration["source_compute"])
            source_ports = row["network_info"]
        with self.db.transaction() as session:
            give_back(session, row["uuid"], migration["uuid"])
            session.execute(sa.update(models.Instance).where(models.Instance.uuid == row["uuid"]).values(
                network_info=source_ports, updated_at=utcnow()))
        drop_parked(self.db, self.cache.images, migration["uuid"], migration["disk_location"])
        self.peers.cast(context, "finish_revert_resize", server=migration["source_compute"],
                        instance_uuid=row["uuid"], migration_uuid=migration["uuid"], status=status,
                        failure=f"{type(failure).__name__}: {failure}" if failure else None)

    # -- confirm (source) and revert (destination, then source) ------------------------

    def confirm_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:

        with self._locked(instance_uuid), history.event(self.db, context, instance_uuid, "compute_confirm_resize",
                                                         self.host):
            with self.db.transaction() as session:
                migration = load_migration(session, migration_uuid)
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                if migration is None or migration.status != "confirming" or instance is None:
                    return
                same, network_info = migration.dest_compute == self.host, list(instance.network_info)
                gone = instance.deleted
            if gone and same:
                pass  # deleted meanwhile: the driver already forgot it
            elif same:
                self._capable("RESIZE").confirm_resize(instance_uuid)
            else:
                self.driver.destroy(instance_uuid)
                self._unplug(instance_uuid, network_info)
            with self.db.transaction() as session:
                migration = load_migration(session, migration_uuid)
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                claims.release(session, migration_uuid)
                migration.status, migration.updated_at = "confirmed", utcnow()
                if not instance.deleted and instance.vm_state == states.RESIZED:
                    instance.vm_state = migration.old_vm_state
                    instance.task_state, instance.updated_at = None, utcnow()

    def revert_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:

        with self._locked(instance_uuid), history.event(self.db, context, instance_uuid, "compute_revert_resize",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "reverting", "reverting", None)
            if step is None:
                return
            row, _, migration = step
            if migration["source_compute"] == self.host:
                self._capable("RESIZE").revert_resize(instance_uuid)
                power = self.driver.get_info(instance_uuid).power_state
                with self.db.transaction() as session:
                    give_back(session, instance_uuid, migration_uuid)
                    session.execute(sa.update(Migration).where(Migration.uuid == migration_uuid).values(
                        status="reverted", updated_at=utcnow()))
                    session.execute(sa.update(models.Instance).where(models.Instance.uuid == instance_uuid).values(
                        flavor=migration["old_flavor"], vm_state=migration["old_vm_state"], task_state=None,
                        power_state=power, updated_at=utcnow()))
                return
            self.driver.destroy(instance_uuid)
            self._move_back(context, row, migration, row["network_info"], "reverted", None)

    def finish_revert_resize(self, context: Any, instance_uuid: str, migration_uuid: str, status: str,
                             failure: str | None = None) -> None:

        with self._locked(instance_uuid), history.event(self.db, context, instance_uuid,
                                                         "compute_finish_revert_resize", self.host):
            with self.db.transaction() as session:
                migration = load_migration(session, migration_uuid)
                if migration is None:
                    return
                old_state, node = migration.old_vm_state, migration.source_node
            if old_state != states.STOPPED:
                self.driver.power_on(instance_uuid)
            power = self.driver.get_info(instance_uuid).power_state
            with self.db.transaction() as session:
                migration = load_migration(session, migration_uuid)
                instance = session.get(models.Instance, instance_uuid, options=LAZY)
                migration.status, migration.updated_at = status, utcnow()
                if instance is None or instance.deleted:
                    return
                instance.host, instance.node, instance.flavor = self.host, node, migration.old_flavor
                instance.availability_zone = zones.zone_of(session, self.conf, self.host)
                instance.vm_state, instance.task_state, instance.power_state = old_state, None, power
                instance.updated_at = utcnow()
                if failure:
                    record_fault(session, instance, 500, f"Failed to resize instance: {failure}", failure, self.host)
