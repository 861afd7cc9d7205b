"""The volume service of one backend (``cinder-volume`` on ``<host>@<backend>``).

It runs the backend's driver: the scheduler casts creates to it once it has claimed room
on its pool, the API casts deletes, extends and snapshots, and calls it for connections.
Every outcome lands in the volume's or snapshot's row (``available``/``error``...), so no
request is left in a transitional status by a failing driver. It reports its pool's
capacity at start and every ``[volume] stats_interval`` seconds, and heartbeats in the
service registry so ``os-services`` and the scheduler see whether it is up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from typing import Any

import sqlalchemy as sa

from stratus import loading
from stratus.conf.volume import BACKEND_OPTS
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable, Invalid, MissingDependency, NotFound, StratusError
from stratus.interfaces.volume import (
    Clone,
    Connector,
    Extend,
    Manage,
    Revert,
    Snapshots,
    SnapshotSpec,
    VolumeBackend,
    VolumeCapability,
    VolumeSpec,
)
from stratus.rpc import RPCServer
from stratus.servicegroup.registry import Heartbeat, registry_from_conf
from stratus.volume import models, states
from stratus.volume.models import utcnow
from stratus.volume.topics import VOLUME_BINARY, VOLUME_TOPIC

LOG = logging.getLogger(__name__)
COPY_CHUNK = 1024 * 1024


def volume_spec(volume: models.Volume) -> VolumeSpec:
    return VolumeSpec(volume.id, volume.size, volume.name or "", dict(volume.volume_type.specs))


def snapshot_spec(snapshot: models.Snapshot) -> SnapshotSpec:
    return SnapshotSpec(snapshot.id, snapshot.volume_id, snapshot.size, snapshot.name or "")


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, StratusError) else f"{type(exc).__name__}: {exc}"


class VolumeManager:
    """One backend's volume service; its public methods are the RPC endpoint."""

    def __init__(self, conf: Any, db: Database, transport: Any, host: str, backend: str, images: Any = None) -> None:
        conf.register_opts(BACKEND_OPTS, group=backend)
        self.conf, self.db, self.transport = conf, db, transport
        #: the image service's client: volumes from images
        self.images = images
        self.options = conf[backend]
        self.backend = backend
        #: ``<host>@<backend>``: the RPC server name and the service's host in the registry
        self.host = f"{host}@{backend}"
        self.backend_name = self.options.volume_backend_name or backend
        self.pool = f"{self.host}#{self.backend_name}"
        self.zone = self.options.backend_availability_zone or conf.volume.default_availability_zone
        self.driver: VolumeBackend = loading.load_driver("stratus.volume", self.options.volume_driver, conf,
                                                         backend_name=backend)
        self.services_db = Database.for_service(conf, "servicegroup")
        self._heartbeat = Heartbeat(registry_from_conf(conf, self.services_db), self.host, VOLUME_BINARY,
                                    VOLUME_TOPIC, conf.service.report_interval)
        self.server: RPCServer | None = None
        self._target: Any = None
        self._target_lock = threading.Lock()
        self._stopping = threading.Event()
        self._reporter: threading.Thread | None = None

    def start(self) -> None:
        """Prepare the backend, report its pool, then serve. :raises MissingDependency,
        BackendUnavailable: the driver's :meth:`setup` could not make the backend usable."""
        self.driver.setup()
        self.report_stats()
        self.server = RPCServer(self.transport, VOLUME_TOPIC, self.host, [self], workers=4)
        self.server.start()
        self._heartbeat.start()
        self._reporter = threading.Thread(target=self._report_loop, name=f"volume-stats-{self.backend}",
                                          daemon=True)
        self._reporter.start()

    def stop(self) -> None:
        self._stopping.set()
        self._heartbeat.stop()
        if self.server is not None:
            self.server.stop()
        if self._reporter is not None:
            self._reporter.join(5)
        self.services_db.dispose()

    # -- capacity ----------------------------------------------------------------------

    def _report_loop(self) -> None:
        while not self._stopping.wait(self.conf.volume.stats_interval):
            try:
                self.report_stats()
            except Exception:
                LOG.exception("volume service %s could not report its capacity", self.host)

    def report_stats(self) -> None:
        """Write the pool's row: the driver's figures, the backend group's ratios, and what
        is placed on it counted again from the volumes (claims made meanwhile stay counted)."""
        stats = self.driver.get_stats()
        caps = self.driver.capabilities
        values = {
            "host": self.host, "volume_backend_name": self.backend_name, "availability_zone": self.zone,
            "vendor_name": stats.vendor_name, "storage_protocol": stats.storage_protocol,
            "total_gb": stats.total_gb, "free_gb": stats.free_gb,
            "provisioned_gb": stats.provisioned_gb,
            "max_over_subscription_ratio": self.options.max_over_subscription_ratio,
            "reserved_percentage": self.options.reserved_percentage,
            "thin_provisioning": bool(caps & VolumeCapability.THIN_PROVISIONING),
            "multiattach": bool(caps & VolumeCapability.MULTIATTACH),
            "capabilities": sorted(c.name.lower() for c in VolumeCapability if c and c in caps),
            "updated_at": utcnow(),
        }
        with self.db.transaction() as session:
            placed = sa.select(sa.func.coalesce(sa.func.sum(models.Volume.size), 0)).where(
                models.Volume.host == self.pool).scalar_subquery()
            if not session.execute(sa.update(models.Pool).where(models.Pool.name == self.pool)
                                   .values(**values, allocated_gb=placed)).rowcount:
                session.add(models.Pool(name=self.pool, allocated_gb=session.scalar(sa.select(placed)), **values))

    def _release(self, session: Any, size: int) -> None:
        session.execute(sa.update(models.Pool).where(models.Pool.name == self.pool)
                        .values(allocated_gb=sa.func.max(models.Pool.allocated_gb - size, 0)
                                if session.get_bind().dialect.name == "sqlite"
                                else sa.func.greatest(models.Pool.allocated_gb - size, 0)))

    # -- volumes -----------------------------------------------------------------------

    def _set(self, volume_id: str, **values: Any) -> None:
        with self.db.transaction() as session:
            session.execute(sa.update(models.Volume).where(models.Volume.id == volume_id)
                            .values(updated_at=utcnow(), **values))

    def _volume(self, session: Any, volume_id: str) -> models.Volume:
        volume = session.get(models.Volume, volume_id)
        if volume is None:
            raise NotFound(f"Volume {volume_id} could not be found.")
        return volume

    def create_volume(self, context: Any, volume_id: str) -> None:
        """Make the backend's volume for the row (empty, or from its snapshot or source
        volume); ``available``, or ``error`` with the reason."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.CREATING:
                return  # deleted (or made) meanwhile
            spec = volume_spec(volume)
            snapshot = session.get(models.Snapshot, volume.snapshot_id) if volume.snapshot_id else None
            source = session.get(models.Volume, volume.source_volid) if volume.source_volid else None
            snapshot_as = snapshot_spec(snapshot) if snapshot is not None else None
            source_as = volume_spec(source) if source is not None else None
        try:
            if volume.snapshot_id:
                if snapshot_as is None or not isinstance(self.driver, Snapshots):
                    raise NotFound(f"Snapshot {volume.snapshot_id} could not be found.")
                self.driver.create_volume_from_snapshot(spec, snapshot_as)
            elif volume.source_volid:
                if source_as is None or not isinstance(self.driver, Clone):
                    raise NotFound(f"Volume {volume.source_volid} could not be found.")
                self.driver.create_cloned_volume(spec, source_as)
            else:
                self.driver.create_volume(spec)
                if volume.image_id:
                    self._copy_image(spec, volume.image_id)
                elif volume.backup_id:
                    self._restore_into(spec, volume.backup_id)
        except Exception as exc:
            LOG.warning("volume %s could not be created on %s: %s", volume_id, self.host, _reason(exc))
            self._set(volume_id, status=states.ERROR, error=_reason(exc))
            return
        made = {"bootable": True} if volume.image_id else {}
        with self.db.transaction() as session:
            done = session.execute(sa.update(models.Volume).where(
                models.Volume.id == volume_id, models.Volume.status == states.CREATING).values(
                status=states.AVAILABLE, launched_at=utcnow(), updated_at=utcnow(), error=None, **made)).rowcount
        if not done:  # deleted while it was made: the backend's copy goes too
            self.driver.delete_volume(spec)

    def _scratch(self) -> Any:
        """A temporary directory for image data on its way in or out, removed after."""
        workdir = os.path.join(self.conf.state_path, "volume-images")
        os.makedirs(workdir, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=workdir)

    def _copy_image(self, spec: VolumeSpec, image_id: str) -> None:
        """Write the image's data into the new volume, as raw (other formats through ``qemu-img``).

        :raises MissingDependency: a non-raw image and no ``qemu-img``.
        :raises Invalid: the image is larger than the volume."""
        if self.images is None:
            raise BackendUnavailable("this volume service reaches no image service")
        info = self.images.show(image_id)
        if info is None:
            raise NotFound(f"Image {image_id} could not be found.")
        with self._scratch() as scratch:
            path = os.path.join(scratch, "image")
            self.images.download(image_id, path)
            if (info.disk_format or "raw") not in ("raw", "iso"):
                path = _to_raw(path, info.disk_format or "", os.path.join(scratch, "raw"))
            with open(path, "rb") as data:
                self.driver.copy_image_to_volume(spec, iter(lambda: data.read(COPY_CHUNK), b""))

    def delete_volume(self, context: Any, volume_id: str, snapshot_ids: list[str] | None = None) -> None:
        """Delete ``snapshot_ids`` (a cascade), then the backend's volume, then the row (its pool's
        room and its quota return); ``error_deleting`` if the backend refuses either."""
        for snapshot_id in snapshot_ids or []:
            if not self.delete_snapshot(context, snapshot_id):
                self._set(volume_id, status=states.ERROR_DELETING,
                          error=f"snapshot {snapshot_id} could not be deleted")
                return
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None:
                return
            spec, size = volume_spec(volume), volume.size
        try:
            self.driver.delete_volume(spec)
        except Exception as exc:
            LOG.warning("volume %s could not be deleted on %s: %s", volume_id, self.host, _reason(exc))
            self._set(volume_id, status=states.ERROR_DELETING, error=_reason(exc))
            return
        with self.db.transaction() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is not None:
                session.delete(volume)
                self._release(session, size)

    def extend_volume(self, context: Any, volume_id: str, new_size: int) -> None:
        """Grow the volume (its pool's room was claimed by the API); ``available`` at the new
        size, or ``error_extending`` with the claim given back."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.EXTENDING:
                return
            spec, old = volume_spec(volume), volume.size
            attached = any(a.attach_status == states.ATTACHED for a in volume.attachments)
        try:
            if not isinstance(self.driver, Extend):
                raise NotFound(f"backend {self.backend!r} cannot extend volumes")
            self.driver.extend_volume(spec, new_size)
        except Exception as exc:
            with self.db.transaction() as session:
                self._release(session, new_size - old)
            self._set(volume_id, status=states.ERROR_EXTENDING, error=_reason(exc))
            return
        self._set(volume_id, status=states.IN_USE if attached else states.AVAILABLE, size=new_size, error=None)

    def upload_to_image(self, context: Any, volume_id: str, image_id: str, disk_format: str,
                        previous: str = states.AVAILABLE) -> None:
        """Copy the volume into the queued image (converted from raw with ``qemu-img`` for other
        formats); the volume goes back to ``previous``. A failure deletes the image and says why
        on the volume."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.UPLOADING:
                return
            spec = volume_spec(volume)
        try:
            if self.images is None:
                raise BackendUnavailable("this volume service reaches no image service")
            with self._scratch() as scratch:
                path = os.path.join(scratch, "volume")
                with open(path, "wb") as out:
                    for chunk in self.driver.copy_volume_to_image(spec):
                        out.write(chunk)
                if disk_format not in ("raw", "iso"):
                    path = _convert(path, "raw", disk_format, os.path.join(scratch, "image"))
                self.images.upload(image_id, path, disk_format)
        except Exception as exc:
            LOG.warning("volume %s could not be uploaded to image %s: %s", volume_id, image_id, _reason(exc))
            with contextlib.suppress(Exception):
                self.images.delete(image_id)
            self._set(volume_id, status=previous, error=f"upload to image {image_id} failed: {_reason(exc)}")
            return
        self._set(volume_id, status=previous, error=None)

    # -- manage ------------------------------------------------------------------------

    def manage_existing(self, context: Any, volume_id: str, ref: dict[str, str]) -> None:
        """Adopt ``ref`` as the volume: ``available`` at its size (the pool counts it), or
        ``error_managing`` with the reason."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.MANAGING:
                return
            spec = volume_spec(volume)
        try:
            if not isinstance(self.driver, Manage):
                raise NotFound(f"backend {self.backend!r} cannot manage existing storage")
            size = self.driver.manage_existing(spec, ref)
        except Exception as exc:
            self._set(volume_id, status=states.ERROR_MANAGING, error=_reason(exc))
            return
        with self.db.transaction() as session:
            session.execute(sa.update(models.Volume).where(models.Volume.id == volume_id).values(
                status=states.AVAILABLE, size=size, launched_at=utcnow(), updated_at=utcnow(), error=None))
            session.execute(sa.update(models.Pool).where(models.Pool.name == self.pool).values(
                allocated_gb=models.Pool.allocated_gb + size))

    def unmanage(self, context: Any, volume_id: str) -> None:
        """Let the volume go: the backend keeps its data under another name, the row goes."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.UNMANAGING:
                return
            spec, size = volume_spec(volume), volume.size
        try:
            if not isinstance(self.driver, Manage):
                raise NotFound(f"backend {self.backend!r} cannot let volumes go")
            name = self.driver.unmanage(spec)
        except Exception as exc:
            self._set(volume_id, status=states.ERROR, error=_reason(exc))
            return
        LOG.info("volume %s let go on %s: its data stays as %s", volume_id, self.host, name)
        with self.db.transaction() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is not None:
                session.delete(volume)
                self._release(session, size)

    # -- backups -----------------------------------------------------------------------

    def backup_target(self) -> Any:
        """``[backup] backup_driver``, loaded and set up at first use."""
        with self._target_lock:
            if self._target is None:
                target = loading.load_driver("stratus.backup_target", self.conf.backup.backup_driver, self.conf)
                target.setup()
                self._target = target
            return self._target

    def _set_backup(self, backup_id: str, **values: Any) -> None:
        with self.db.transaction() as session:
            session.execute(sa.update(models.Backup).where(models.Backup.id == backup_id)
                            .values(updated_at=utcnow(), **values))

    def create_backup(self, context: Any, backup_id: str, previous: str = states.AVAILABLE) -> None:
        """Copy the volume into the backup target (only what changed since the parent, for an
        incremental one), counting chunks as they go; the volume goes back to ``previous``."""
        from stratus.volume import backups

        with self.db.reading() as session:
            backup = session.get(models.Backup, backup_id)
            volume = session.get(models.Volume, backup.volume_id) if backup is not None else None
            if backup is None or volume is None or backup.status != "creating":
                return
            spec, parent_id, size = volume_spec(volume), backup.parent_id, volume.size
            kept = {m.key: m.value for m in volume.metadata_items}
        chunk = self.conf.backup.chunk_size_mb * 1024 * 1024
        last = [0]

        def progress(done: int, total: int) -> None:
            if done - last[0] >= 8 or done == total:
                last[0] = done
                self._set_backup(backup_id, object_count=done, chunk_count=total)

        try:
            target = self.backup_target()
            parent = backups.metadata(target, parent_id) if parent_id else None
            backups.write(target, backup_id, self.driver.copy_volume_to_image(spec), size, chunk, parent, progress,
                          kept)
        except Exception as exc:
            LOG.warning("backup %s of volume %s failed: %s", backup_id, spec.id, _reason(exc))
            with contextlib.suppress(Exception):
                self.backup_target().delete(backup_id)
            self._set_backup(backup_id, status="error", fail_reason=_reason(exc))
        else:
            self._set_backup(backup_id, status="available", fail_reason=None, data_timestamp=utcnow())
        self._set(spec.id, status=previous)

    def _restore_into(self, spec: VolumeSpec, backup_id: str) -> None:
        """The backup's data over the volume, and its metadata into the volume's."""
        from stratus.volume import backups

        try:
            target = self.backup_target()
            self.driver.copy_image_to_volume(spec, backups.read(target, backup_id))
            kept = backups.metadata(target, backup_id).get("volume_metadata") or {}
            with self.db.transaction() as session:
                volume = session.get(models.Volume, spec.id)
                if volume is not None and kept:
                    merged = {**{m.key: m.value for m in volume.metadata_items}, **kept}
                    volume.metadata_items = [models.VolumeMetadata(key=k, value=v) for k, v in merged.items()]
        finally:
            self._set_backup(backup_id, status="available")

    def restore_backup(self, context: Any, backup_id: str, volume_id: str) -> None:
        """Write the backup over the volume (``restoring-backup``): ``available`` after, or
        ``error_restoring`` with the reason; the backup is ``available`` again either way."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.RESTORING_BACKUP:
                self._set_backup(backup_id, status="available")
                return
            spec = volume_spec(volume)
        try:
            self._restore_into(spec, backup_id)
        except Exception as exc:
            LOG.warning("restore of backup %s to volume %s failed: %s", backup_id, volume_id, _reason(exc))
            self._set(volume_id, status="error_restoring", error=_reason(exc))
            return
        self._set(volume_id, status=states.AVAILABLE, error=None)

    def delete_backup(self, context: Any, backup_id: str) -> None:
        """Remove the backup's objects, then its row; ``error_deleting`` if the target refuses."""
        try:
            self.backup_target().delete(backup_id)
        except Exception as exc:
            self._set_backup(backup_id, status="error_deleting", fail_reason=_reason(exc))
            return
        with self.db.transaction() as session:
            backup = session.get(models.Backup, backup_id)
            if backup is not None:
                session.delete(backup)

    def revert_to_snapshot(self, context: Any, volume_id: str, snapshot_id: str) -> None:
        """The volume holds its snapshot's data again: both ``available``; on failure the volume
        is ``error`` (the backend leaves it as it was) and the snapshot ``available``."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            snapshot = session.get(models.Snapshot, snapshot_id)
            if volume is None or snapshot is None or volume.status != states.REVERTING:
                return
            spec, snap = volume_spec(volume), snapshot_spec(snapshot)
        try:
            if not isinstance(self.driver, Revert):
                raise NotFound(f"backend {self.backend!r} cannot revert volumes")
            self.driver.revert_to_snapshot(spec, snap)
        except Exception as exc:
            self._set(volume_id, status=states.ERROR, error=_reason(exc))
        else:
            self._set(volume_id, status=states.AVAILABLE, error=None)
        self._set_snapshot(snapshot_id, status=states.SNAPSHOT_AVAILABLE)

    # -- snapshots ---------------------------------------------------------------------

    def _set_snapshot(self, snapshot_id: str, **values: Any) -> None:
        with self.db.transaction() as session:
            session.execute(sa.update(models.Snapshot).where(models.Snapshot.id == snapshot_id)
                            .values(updated_at=utcnow(), **values))

    def create_snapshot(self, context: Any, snapshot_id: str) -> None:
        with self.db.reading() as session:
            snapshot = session.get(models.Snapshot, snapshot_id)
            if snapshot is None or snapshot.status != states.SNAPSHOT_CREATING:
                return
            spec = snapshot_spec(snapshot)
        try:
            if not isinstance(self.driver, Snapshots):
                raise NotFound(f"backend {self.backend!r} cannot take snapshots")
            self.driver.create_snapshot(spec)
        except Exception as exc:
            self._set_snapshot(snapshot_id, status=states.SNAPSHOT_ERROR, error=_reason(exc))
            return
        self._set_snapshot(snapshot_id, status=states.SNAPSHOT_AVAILABLE, progress="100%", error=None)

    def delete_snapshot(self, context: Any, snapshot_id: str) -> bool:
        """Delete the backend's snapshot, then its row; False (and ``error_deleting``) if the
        backend refuses."""
        with self.db.reading() as session:
            snapshot = session.get(models.Snapshot, snapshot_id)
            if snapshot is None:
                return True
            spec = snapshot_spec(snapshot)
        try:
            if isinstance(self.driver, Snapshots):
                self.driver.delete_snapshot(spec)
        except Exception as exc:
            self._set_snapshot(snapshot_id, status=states.SNAPSHOT_ERROR_DELETING, error=_reason(exc))
            return False
        with self.db.transaction() as session:
            snapshot = session.get(models.Snapshot, snapshot_id)
            if snapshot is not None:
                session.delete(snapshot)
        return True

    # -- connections -------------------------------------------------------------------

    def initialize_connection(self, context: Any, volume_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """``connection_info`` for ``connector`` (``driver_volume_type`` and ``data``, as
        Cinder answers os-initialize_connection)."""
        with self.db.reading() as session:
            spec = volume_spec(self._volume(session, volume_id))
        connection = self.driver.initialize_connection(spec, _connector(connector))
        return {"driver_volume_type": connection.driver_volume_type,
                "data": {**connection.data, "volume_id": volume_id}}

    def terminate_connection(self, context: Any, volume_id: str, connector: dict[str, Any]) -> None:
        with self.db.reading() as session:
            spec = volume_spec(self._volume(session, volume_id))
        self.driver.terminate_connection(spec, _connector(connector))


def _to_raw(path: str, disk_format: str, target: str) -> str:
    """The image at ``path`` converted to raw at ``target``."""
    return _convert(path, disk_format, "raw", target)


def _convert(path: str, source: str, wanted: str, target: str) -> str:
    """The disk at ``path`` (format ``source``) written as ``wanted`` at ``target``.

    :raises MissingDependency: ``qemu-img`` is not installed.
    :raises Invalid: it cannot read the disk as ``source`` or write ``wanted``."""
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        raise MissingDependency(f"converting {source} to {wanted} needs qemu-img: install it (Debian: qemu-utils)")
    formats = {"vhd": "vpc", "vhdx": "vhdx", "vmdk": "vmdk", "vdi": "vdi", "qcow2": "qcow2", "raw": "raw"}
    done = subprocess.run([qemu_img, "convert", "-f", formats.get(source, source), "-O",
                           formats.get(wanted, wanted), path, target],
                          capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise Invalid(f"qemu-img could not convert {source} to {wanted}: {done.stderr.strip()[:300]}")
    return target


def _connector(connector: dict[str, Any]) -> Connector:
    return Connector(host=str(connector.get("host") or ""), ip=connector.get("ip"),
                     initiator=connector.get("initiator"), multipath=bool(connector.get("multipath")))
