"""The block-storage service's API side: what its responders (and, later, its in-process
client) call. It records each request in the database (quota counted in the same
transaction) and casts the work to the volume scheduler or the volume service of the
backend concerned, which record the outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.rpc import RPCClient
from stratus.servicegroup.registry import registry_from_conf
from stratus.volume import models, quotas, states
from stratus.volume.models import utcnow
from stratus.volume.scheduler import capacity
from stratus.volume.topics import SCHEDULER_TOPIC, VOLUME_TOPIC

GIB = 1024 ** 3


def image_metadata(image: Any) -> dict[str, Any]:
    """``volume_image_metadata`` of a volume made from ``image`` (an ImageInfo), as Cinder copies it."""
    found = {"image_id": image.id, "image_name": image.name, "checksum": image.checksum, "size": image.size,
             "min_disk": image.min_disk, "min_ram": image.min_ram, "disk_format": image.disk_format,
             "container_format": image.container_format, **image.properties}
    return {k: v for k, v in found.items() if v is not None}


def _backup_status(session: Any, backup_id: str, status: str) -> None:
    session.execute(sa.update(models.Backup).where(models.Backup.id == backup_id)
                    .values(status=status, updated_at=utcnow()))


def ensure_default_type(db: Database, name: str) -> str:
    """The default volume type's id, made if missing (as Cinder makes ``__DEFAULT__``)."""
    with db.transaction() as session:
        found = session.scalar(sa.select(models.VolumeType.id).where(models.VolumeType.name == name))
        if found:
            return found
    try:
        with db.transaction() as session:
            type_id = str(uuid.uuid4())
            session.add(models.VolumeType(id=type_id, name=name, description="Default Volume Type",
                                          is_public=True))
            return type_id
    except sa.exc.IntegrityError:  # made by a concurrent start
        with db.reading() as session:
            return session.scalar(sa.select(models.VolumeType.id).where(models.VolumeType.name == name))


class VolumeService:
    def __init__(self, conf: Any, transport: Any, db: Database | None = None, images: Any = None) -> None:
        self.conf = conf
        #: the image service's client (volumes from images, uploads to images)
        self.images = images
        self.db = db or Database.for_service(conf, "volume")
        self.transport = transport
        self.scheduler = RPCClient(transport, SCHEDULER_TOPIC)
        self.volumes = RPCClient(transport, VOLUME_TOPIC)
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        ensure_default_type(self.db, conf.volume.default_volume_type)

    def close(self) -> None:
        if self.images is not None and hasattr(self.images, "close"):
            self.images.close()
        self.scheduler.close()
        self.volumes.close()
        self.services_db.dispose()
        self.db.dispose()

    # -- types -------------------------------------------------------------------------

    def find_type(self, session: Any, ref: str | None, project_id: str | None, is_admin: bool) -> models.VolumeType:
        """The type ``ref`` names (id or name; None: the default) that the project may use.

        :raises NotFound: no such type, or a private one not shared with the project.
        """
        ref = ref or self.conf.volume.default_volume_type
        found = session.get(models.VolumeType, ref) or session.scalars(
            sa.select(models.VolumeType).where(models.VolumeType.name == ref)).first()
        if found is None or not (found.is_public or is_admin or session.get(
                models.VolumeTypeProject, (found.id, project_id)) is not None):
            raise NotFound(f"Volume type with name {ref} could not be found.")
        return found

    # -- volumes -----------------------------------------------------------------------

    def create_volume(self, ctx: Any, request: dict[str, Any]) -> str:
        """Record a volume (``creating``) and cast it to the scheduler; its id.

        ``request``: size, name, description, volume_type, availability_zone, metadata,
        snapshot_id, source_volid, image_id, multiattach.

        :raises Invalid: a size below its source's (or its image's), an unknown zone, a source
            not available, an image not active.
        :raises NotFound: an unknown type, snapshot, source volume or image.
        :raises OverLimit: the project's quotas would be passed.
        """
        volume_id = str(uuid.uuid4())
        image = self._image(ctx, request["image_id"]) if request.get("image_id") else None
        with self.db.transaction() as session:
            snapshot = source = None
            if request.get("snapshot_id"):
                snapshot = self._snapshot(session, ctx, request["snapshot_id"])
                if snapshot.status != states.SNAPSHOT_AVAILABLE:
                    raise Invalid(f"Invalid snapshot: Originating snapshot status must be one of 'available' "
                                  f"values, not {snapshot.status!r}.")
            if request.get("source_volid"):
                source = self.volume(session, ctx, request["source_volid"])
                if source.status not in (states.AVAILABLE, states.IN_USE):
                    raise Invalid(f"Invalid volume: Volume {source.id} status must be available or in-use, "
                                  f"but current status is: {source.status}.")
            parent = session.get(models.Volume, snapshot.volume_id) if snapshot is not None else source
            size = request.get("size")
            minimum = snapshot.size if snapshot is not None else source.size if source is not None else 1
            if image is not None:
                needed = max(-(-(image.size or 0) // GIB), image.min_disk, 1)
                if size is not None and size < needed:
                    raise Invalid(f"Invalid input received: Size of specified image {image.id} is "
                                  f"{needed}GB, larger than the volume size {size}GB (or below its min_disk).")
            if size is None:
                if parent is None:
                    raise Invalid("Invalid input received: size is required without a source")
                size = minimum
            if size < minimum:
                raise Invalid(f"Invalid input received: Volume size '{size}GB' cannot be smaller than the "
                              f"{'snapshot' if snapshot is not None else 'source volume'} size "
                              f"{minimum}GB. They must be >= original size.")
            type_ref = request.get("volume_type")
            volume_type = (parent.volume_type if type_ref is None and parent is not None
                           else self.find_type(session, type_ref, ctx.project_id, ctx.is_admin))
            zone = request.get("availability_zone") or (parent.availability_zone if parent is not None else None)
            zone = self._zone(session, zone)
            quotas.check(self.db, session, self.conf, ctx.project_id, {"volumes": 1, "gigabytes": size, "size": size},
                         volume_type.name)
            volume = models.Volume(
                id=volume_id, project_id=ctx.project_id, user_id=ctx.user_id, name=request.get("name"),
                description=request.get("description"), size=size, status=states.CREATING,
                attach_status=states.DETACHED, availability_zone=zone, volume_type_id=volume_type.id,
                bootable=bool(parent.bootable) if parent is not None else False,
                image_id=image.id if image is not None else None, backup_id=request.get("backup_id"),
                multiattach=bool(request.get("multiattach")),
                snapshot_id=snapshot.id if snapshot is not None else None,
                source_volid=source.id if source is not None else None, created_at=utcnow())
            volume.metadata_items = [models.VolumeMetadata(key=k, value=v)
                                     for k, v in (request.get("metadata") or {}).items()]
            if parent is not None:
                volume.image_metadata_items = [models.VolumeImageMetadata(key=m.key, value=m.value)
                                               for m in parent.image_metadata_items]
            elif image is not None:
                volume.image_metadata_items = [models.VolumeImageMetadata(key=k, value=str(v))
                                               for k, v in image_metadata(image).items()]
            session.add(volume)
        self.scheduler.cast(ctx, "create_volume", volume_id=volume_id)
        return volume_id

    def _image(self, ctx: Any, image_id: str) -> Any:
        if self.images is None:
            raise Invalid("Invalid input received: this block-storage service reaches no image service")
        image = self.images.show(image_id, ctx)
        if image is None:
            raise NotFound(f"Image {image_id} could not be found.")
        if image.status != "active":
            raise Invalid(f"Invalid input received: Image {image_id} is not active (it is {image.status}).")
        return image

    def _zone(self, session: Any, zone: str | None) -> str:
        default = self.conf.volume.default_availability_zone
        if zone is None:
            return default
        known = set(session.scalars(sa.select(models.Pool.availability_zone).distinct())) | {default}
        if zone in known:
            return zone
        if self.conf.volume.allow_availability_zone_fallback:
            return default
        raise Invalid(f"Invalid input received: Availability zone '{zone}' is invalid.")

    def volume(self, session: Any, ctx: Any, volume_id: str) -> models.Volume:
        """:raises NotFound: no such volume the caller may see (another project's is absent too)."""
        volume = session.get(models.Volume, volume_id)
        if volume is None or not (ctx.is_admin or volume.project_id == ctx.project_id):
            raise NotFound(f"Volume {volume_id} could not be found.")
        return volume

    def _snapshot(self, session: Any, ctx: Any, snapshot_id: str) -> models.Snapshot:
        snapshot = session.get(models.Snapshot, snapshot_id)
        if snapshot is None or not (ctx.is_admin or snapshot.project_id == ctx.project_id):
            raise NotFound(f"Snapshot {snapshot_id} could not be found.")
        return snapshot

    def delete_volume(self, ctx: Any, volume_id: str, cascade: bool = False, force: bool = False) -> None:
        """Start deleting the volume (its snapshots too with ``cascade``).

        :raises Invalid: attached, or in a status that cannot be deleted (unless ``force``),
            or with snapshots (unless ``cascade``) — 400, as Cinder answers.
        """
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.attachments and not force:
                raise Invalid("Invalid volume: Volume status must be available or error or error_restoring or "
                              "error_extending or error_managing and must not be migrating, attached, belong "
                              "to a group, have snapshots or be disassociated from snapshots after volume "
                              "transfer.")
            if volume.status not in states.DELETABLE and not force:
                raise Invalid(f"Invalid volume: Volume status must be available or error or error_restoring or "
                              f"error_extending or error_managing and must not be migrating, attached, belong "
                              f"to a group, have snapshots or be disassociated from snapshots after volume "
                              f"transfer. (it is {volume.status})")
            snapshots = list(session.scalars(sa.select(models.Snapshot).where(models.Snapshot.volume_id == volume_id)))
            if snapshots and not cascade:
                raise Invalid(f"Invalid volume: Volume {volume_id} still has {len(snapshots)} dependent "
                              "snapshots.")
            if any(s.status not in states.SNAPSHOT_DELETABLE for s in snapshots) and not force:
                raise Invalid("Invalid volume: a snapshot of the volume is busy (creating or deleting).")
            if volume.host is None:  # never placed: nothing exists on a backend
                for snapshot in snapshots:
                    session.delete(snapshot)
                session.delete(volume)
                return
            volume.status = states.DELETING
            volume.updated_at = utcnow()
            for snapshot in snapshots:
                snapshot.status = states.SNAPSHOT_DELETING
            server = volume.backend_host
            snapshot_ids = [s.id for s in snapshots]
        self.volumes.cast(ctx, "delete_volume", server=server, volume_id=volume_id, snapshot_ids=snapshot_ids)

    def extend_volume(self, ctx: Any, volume_id: str, new_size: int, in_use: bool = False) -> None:
        """Claim the growth on the volume's pool and cast the extend.

        :raises Invalid: not ``available`` (nor ``in-use`` when ``in_use`` and the backend
            extends attached volumes), or not larger. :raises OverLimit: quota.
        :raises Conflict: its pool has no room for the growth.
        """
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status == states.IN_USE and in_use:
                pool = session.get(models.Pool, volume.host) if volume.host else None
                if pool is None or "online_extend" not in pool.capabilities:
                    raise Invalid(f"Invalid volume: Volume {volume_id} is in use and its backend cannot extend "
                                  "attached volumes.")
            elif volume.status != states.AVAILABLE:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be 'available' to extend, "
                              f"currently {volume.status!r}.")
            if new_size <= volume.size:
                raise Invalid(f"Invalid input received: New size for extend must be greater than current size. "
                              f"(current: {volume.size}, extended: {new_size}).")
            growth = new_size - volume.size
            quotas.check(self.db, session, self.conf, volume.project_id, {"gigabytes": growth, "size": new_size},
                         volume.volume_type.name)
            pool = session.get(models.Pool, volume.host) if volume.host else None
            if pool is None or not session.execute(sa.update(models.Pool).where(
                    models.Pool.name == pool.name, models.Pool.allocated_gb + growth <= capacity(pool))
                    .values(allocated_gb=models.Pool.allocated_gb + growth)).rowcount:
                raise Conflict(f"Volume {volume_id} cannot be extended: its backend has no room for {growth} GiB "
                               "more.")
            volume.status = states.EXTENDING
            volume.updated_at = utcnow()
            server = volume.backend_host
        self.volumes.cast(ctx, "extend_volume", server=server, volume_id=volume_id, new_size=new_size)

    def upload_to_image(self, ctx: Any, volume_id: str, request: dict[str, Any], force: bool = False) -> dict[str, Any]:
        """Start copying the volume into a new image (``uploading``); the image's id and attributes.

        ``request``: image_name, disk_format, container_format, visibility, protected.

        :raises Invalid: not available (in-use needs ``force``), or a format the image service
            refuses. :raises PayloadTooLarge: the project's image quota."""
        if self.images is None:
            raise Invalid("Invalid input received: this block-storage service reaches no image service")
        allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
        with self.db.reading() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status not in allowed:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be "
                              f"{'available or in-use' if force else 'available'} to upload it to an image, but "
                              f"current status is: {volume.status}.")
            properties = {m.key: m.value for m in volume.image_metadata_items
                          if m.key not in ("image_id", "image_name", "checksum", "size", "container_format",
                                           "disk_format", "min_disk", "min_ram")}
            state = {"name": request["image_name"], "disk_format": request["disk_format"],
                     "container_format": request["container_format"], "min_disk": volume.size,
                     "visibility": request.get("visibility", "private"), "protected": request.get("protected", False),
                     **{k: v for k, v in properties.items() if isinstance(v, str)}}
            project_id, previous = volume.project_id, volume.status
        # the image is made outside the volume's transaction: in one process both may share a database
        image_id = self.images.create_snapshot(project_id, state)
        with self.db.transaction() as session:
            taken = session.execute(sa.update(models.Volume).where(
                models.Volume.id == volume_id, models.Volume.status == previous).values(
                status=states.UPLOADING, updated_at=utcnow())).rowcount
            volume = session.get(models.Volume, volume_id)
            if taken:
                server = volume.backend_host
                answer = {"id": volume_id, "updated_at": volume.updated_at, "status": states.UPLOADING,
                          "display_description": volume.description, "size": volume.size,
                          "volume_type": {"id": volume.volume_type.id, "name": volume.volume_type.name,
                                          "description": volume.volume_type.description,
                                          "is_public": volume.volume_type.is_public,
                                          "extra_specs": volume.volume_type.specs},
                          "image_id": image_id, "container_format": request["container_format"],
                          "disk_format": request["disk_format"], "image_name": request["image_name"],
                          "visibility": state["visibility"], "protected": state["protected"]}
        if not taken:
            self.images.delete(image_id)
            raise Invalid(f"Invalid volume: Volume {volume_id} changed status while its upload was asked.")
        self.volumes.cast(ctx, "upload_to_image", server=server, volume_id=volume_id, image_id=image_id,
                          disk_format=request["disk_format"], previous=previous)
        return answer

    def retype(self, ctx: Any, volume_id: str, new_type: str, migration_policy: str = "never") -> None:
        """Give the volume another type its backend also serves (no data moves).

        :raises Invalid: not available or in-use, the same type, or a type of another backend
            (moving a volume between backends is not done here, whatever ``migration_policy``).
        :raises NotFound: no such type the project may use."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status not in (states.AVAILABLE, states.IN_USE):
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be available or in-use to retype, "
                              f"but current status is: {volume.status}.")
            target = self.find_type(session, new_type, ctx.project_id, ctx.is_admin)
            if target.id == volume.volume_type_id:
                raise Invalid("Invalid input received: Retype requires a different type.")
            wanted = target.specs.get("volume_backend_name")
            pool = session.get(models.Pool, volume.host) if volume.host else None
            if wanted and (pool is None or pool.volume_backend_name != wanted):
                raise Invalid(f"Invalid volume: type {target.name} is served by backend {wanted!r}, not by the "
                              f"volume's; moving a volume between backends (migration_policy "
                              f"{migration_policy}) is not supported here.")
            volume.volume_type_id, volume.updated_at = target.id, utcnow()

    def revert(self, ctx: Any, volume_id: str, snapshot_id: str) -> None:
        """Start bringing the volume back to its latest snapshot (``reverting``/``restoring``).

        :raises Invalid: the volume is not available, the snapshot not available, not the
            volume's or not its latest, or the backend cannot revert."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            snapshot = self._snapshot(session, ctx, snapshot_id)
            if volume.status != states.AVAILABLE or snapshot.status != states.SNAPSHOT_AVAILABLE:
                raise Invalid(f"Invalid volume: Volume {volume_id} and snapshot {snapshot_id} must both be "
                              f"available to revert (they are {volume.status} and {snapshot.status}).")
            latest = session.scalars(sa.select(models.Snapshot).where(models.Snapshot.volume_id == volume_id)
                                     .order_by(models.Snapshot.created_at.desc(), models.Snapshot.id.desc())).first()
            if snapshot.volume_id != volume_id or latest is None or latest.id != snapshot_id:
                raise Invalid(f"Invalid snapshot: Snapshot {snapshot_id} is not the latest one of volume "
                              f"{volume_id}.")
            pool = session.get(models.Pool, volume.host) if volume.host else None
            if pool is None or "revert" not in pool.capabilities:
                raise Invalid(f"Invalid volume: the backend of volume {volume_id} cannot revert to a snapshot.")
            volume.status, snapshot.status = states.REVERTING, states.SNAPSHOT_RESTORING
            volume.updated_at = snapshot.updated_at = utcnow()
            server = volume.backend_host
        self.volumes.cast(ctx, "revert_to_snapshot", server=server, volume_id=volume_id, snapshot_id=snapshot_id)

    # -- snapshots ---------------------------------------------------------------------

    def create_snapshot(self, ctx: Any, volume_id: str, name: str | None, description: str | None,
                        metadata: dict[str, str], force: bool = False) -> str:
        """Record a snapshot (``creating``) and cast it to the volume's backend.

        :raises Invalid: the volume is not available (in-use needs ``force``).
        :raises OverLimit: the project's quotas would be passed.
        """
        snapshot_id = str(uuid.uuid4())
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
            if volume.status not in allowed:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be available, but current status "
                              f"is: {volume.status}.")
            quotas.check(self.db, session, self.conf, volume.project_id, {"snapshots": 1, "gigabytes": volume.size},
                         volume.volume_type.name)
            snapshot = models.Snapshot(id=snapshot_id, volume_id=volume_id, project_id=volume.project_id,
                                       user_id=ctx.user_id, name=name, description=description, size=volume.size,
                                       status=states.SNAPSHOT_CREATING, progress="0%", created_at=utcnow())
            snapshot.metadata_items = [models.SnapshotMetadata(key=k, value=v) for k, v in metadata.items()]
            session.add(snapshot)
            server = volume.backend_host
        self.volumes.cast(ctx, "create_snapshot", server=server, snapshot_id=snapshot_id)
        return snapshot_id

    def snapshot(self, session: Any, ctx: Any, snapshot_id: str) -> models.Snapshot:
        return self._snapshot(session, ctx, snapshot_id)

    def delete_snapshot(self, ctx: Any, snapshot_id: str, force: bool = False) -> None:
        """:raises Invalid: not in a status that may be deleted (unless ``force``), or
        volumes made from it still exist."""
        with self.db.transaction() as session:
            snapshot = self._snapshot(session, ctx, snapshot_id)
            if snapshot.status not in states.SNAPSHOT_DELETABLE and not force:
                raise Invalid(f"Invalid snapshot: Snapshot status must be available or error and must not be part "
                              f"of a group. (it is {snapshot.status})")
            snapshot.status = states.SNAPSHOT_DELETING
            snapshot.updated_at = utcnow()
            server = session.get(models.Volume, snapshot.volume_id).backend_host
        self.volumes.cast(ctx, "delete_snapshot", server=server, snapshot_id=snapshot_id)

    # -- connections -------------------------------------------------------------------

    def initialize_connection(self, ctx: Any, volume_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        with self.db.reading() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.host is None:
                raise Invalid(f"Invalid volume: Volume {volume_id} is not on a backend yet.")
            server = volume.backend_host
        return self.volumes.call(ctx, "initialize_connection", server=server, volume_id=volume_id,
                                 connector=connector)

    # -- the attach flow before the attachments API (os-reserve, os-attach, os-detach...) --

    def _transition(self, ctx: Any, volume_id: str, allowed: tuple[str, ...], to: str, action: str) -> None:
        """Move the volume from one of ``allowed`` to ``to`` in one conditional UPDATE.

        :raises Invalid: it is in another status (Cinder's 400)."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status not in allowed:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be {' or '.join(allowed)} to "
                              f"{action}, but current status is: {volume.status}.")
            volume.status = to
            volume.updated_at = utcnow()

    def reserve(self, ctx: Any, volume_id: str) -> None:
        """``os-reserve``: available (or in-use, when multiattach) -> attaching."""
        with self.db.reading() as session:
            multi = self.volume(session, ctx, volume_id).multiattach
        allowed = (states.AVAILABLE, states.IN_USE) if multi else (states.AVAILABLE,)
        self._transition(ctx, volume_id, allowed, states.ATTACHING, "reserve")

    def unreserve(self, ctx: Any, volume_id: str) -> None:
        """``os-unreserve``: attaching -> available, or in-use while it has attachments."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status != states.ATTACHING:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be attaching to unreserve, but "
                              f"current status is: {volume.status}.")
            volume.status = states.IN_USE if self._attached(volume) else states.AVAILABLE
            volume.updated_at = utcnow()

    @staticmethod
    def _attached(volume: models.Volume) -> list[models.VolumeAttachment]:
        return [a for a in volume.attachments if a.attach_status == states.ATTACHED]

    def attach(self, ctx: Any, volume_id: str, instance_uuid: str | None, host_name: str | None,
               mountpoint: str, mode: str = "rw") -> str:
        """``os-attach``: record the attachment a hypervisor made; in-use. Its id.

        :raises Invalid: not reserved or available, attached elsewhere without multiattach,
            or ``rw`` asked of a read-only volume."""
        if mode not in ("rw", "ro"):
            raise Invalid(f"Invalid input received: attach mode must be rw or ro, not {mode!r}")
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status not in (states.ATTACHING, states.AVAILABLE, states.IN_USE) or (
                    volume.status == states.IN_USE and not volume.multiattach):
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be attaching or available to "
                              f"attach, but current status is: {volume.status}.")
            if volume.readonly and mode == "rw":
                raise Invalid(f"Invalid volume: Volume {volume_id} is read-only: attach it with mode ro.")
            attachment = models.VolumeAttachment(
                id=str(uuid.uuid4()), volume_id=volume_id, instance_uuid=instance_uuid, attached_host=host_name,
                mountpoint=mountpoint, attach_mode=mode, attach_status=states.ATTACHED, attach_time=utcnow(),
                created_at=utcnow())
            session.add(attachment)
            volume.status = states.IN_USE
            volume.attach_status = states.ATTACHED
            volume.updated_at = utcnow()
            return attachment.id

    def begin_detaching(self, ctx: Any, volume_id: str) -> None:
        self._transition(ctx, volume_id, (states.IN_USE,), states.DETACHING, "begin detaching")

    def roll_detaching(self, ctx: Any, volume_id: str) -> None:
        """``os-roll_detaching``: detaching -> in-use (a detach the hypervisor gave up)."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status == states.DETACHING:
                volume.status = states.IN_USE if self._attached(volume) else states.AVAILABLE
                volume.updated_at = utcnow()

    def detach(self, ctx: Any, volume_id: str, attachment_id: str | None) -> None:
        """``os-detach``: drop the attachment (the only one when none is named); available
        once none is left. Without attachments and none named, nothing happens.

        :raises Invalid: not attached, or several attachments and none named.
        :raises NotFound: no such attachment of this volume."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            attached = self._attached(volume)
            if not attached and attachment_id is None:
                return  # nothing attached: nothing to do, as Cinder answers a repeated detach
            if volume.status not in (states.IN_USE, states.DETACHING) or not attached:
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be in-use or detaching to detach, "
                              f"but current status is: {volume.status}.")
            if attachment_id is None:
                if len(attached) > 1:
                    raise Invalid(f"Invalid volume: Volume {volume_id} has several attachments: name the "
                                  "attachment_id to detach.")
                attachment = attached[0]
            else:
                attachment = next((a for a in attached if a.id == attachment_id), None)
                if attachment is None:
                    raise NotFound(f"Volume attachment {attachment_id} could not be found.")
            session.delete(attachment)
            session.flush()
            session.refresh(volume)
            left = self._attached(volume)
            volume.status = states.IN_USE if left else states.AVAILABLE
            volume.attach_status = states.ATTACHED if left else states.DETACHED
            volume.updated_at = utcnow()

    def force_detach(self, ctx: Any, volume_id: str, attachment_id: str | None,
                     connector: dict[str, Any] | None) -> None:
        """``os-force_detach`` (administrators): drop the named attachment (every one when none is
        named) whatever the status, stopping the export to ``connector`` when given."""
        if connector:
            self.terminate_connection(ctx, volume_id, connector)
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            doomed = [a for a in volume.attachments if attachment_id in (None, a.id)]
            if attachment_id is not None and not doomed:
                raise NotFound(f"Volume attachment {attachment_id} could not be found.")
            for attachment in doomed:
                session.delete(attachment)
            session.flush()
            session.refresh(volume)
            left = self._attached(volume)
            volume.status = states.IN_USE if left else states.AVAILABLE
            volume.attach_status = states.ATTACHED if left else states.DETACHED
            volume.updated_at = utcnow()

    def terminate_connection(self, ctx: Any, volume_id: str, connector: dict[str, Any]) -> None:
        with self.db.reading() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.host is None:
                return
            server = volume.backend_host
        self.volumes.call(ctx, "terminate_connection", server=server, volume_id=volume_id, connector=connector)

    # -- backups -----------------------------------------------------------------------

    def backup(self, session: Any, ctx: Any, backup_id: str) -> models.Backup:
        backup = session.get(models.Backup, backup_id)
        if backup is None or not (ctx.is_admin or backup.project_id == ctx.project_id):
            raise NotFound(f"Backup {backup_id} could not be found.")
        return backup

    def create_backup(self, ctx: Any, volume_id: str, name: str | None, description: str | None,
                      incremental: bool = False, force: bool = False, metadata: dict[str, str] | None = None) -> str:
        """Record a backup (``creating``; the volume ``backing-up``) and cast it to the volume's
        backend; its id.

        :raises Invalid: the volume is not available (in-use needs ``force``), or an incremental
            one has no available backup to build on. :raises OverLimit: backup quotas.
        """
        backup_id = str(uuid.uuid4())
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
            if volume.status not in allowed:
                raise Invalid(f"Invalid volume: Volume to be backed up must be available or in-use"
                              f"{'' if force else ' (in-use needs force)'}, but the current status is "
                              f"\"{volume.status}\".")
            parent = None
            if incremental:
                parent = session.scalars(sa.select(models.Backup).where(
                    models.Backup.volume_id == volume_id, models.Backup.status == "available").order_by(
                    models.Backup.data_timestamp.desc(), models.Backup.created_at.desc())).first()
                if parent is None:
                    raise Invalid("Invalid backup: No backups available to do an incremental backup.")
            quotas.check(self.db, session, self.conf, volume.project_id,
                         {"backups": 1, "backup_gigabytes": volume.size})
            session.add(models.Backup(
                id=backup_id, volume_id=volume_id, project_id=volume.project_id, user_id=ctx.user_id, name=name,
                description=description, status="creating", size=volume.size, host=volume.backend_host,
                availability_zone=volume.availability_zone, container="volumebackups",
                parent_id=parent.id if parent is not None else None, is_incremental=parent is not None,
                object_count=0, chunk_count=0, backup_metadata=dict(metadata or {}), created_at=utcnow()))
            previous = volume.status
            volume.status, volume.updated_at = states.BACKING_UP, utcnow()
            server = volume.backend_host
        self.volumes.cast(ctx, "create_backup", server=server, backup_id=backup_id, previous=previous)
        return backup_id

    def restore_backup(self, ctx: Any, backup_id: str, volume_id: str | None, name: str | None) -> str:
        """Restore the backup into ``volume_id`` (available, large enough) or into a new volume of
        its size; the volume's id.

        :raises Invalid: the backup is not available, or the volume is not available or too small.
        """
        with self.db.transaction() as session:
            backup = self.backup(session, ctx, backup_id)
            if backup.status != "available":
                raise Invalid(f"Invalid backup: Backup status must be available, but it is {backup.status}.")
            size = backup.size
        if volume_id is None:
            with self.db.transaction() as session:
                _backup_status(session, backup_id, "restoring")
            try:
                return self.create_volume(ctx, {"size": size, "name": name or f"restore_backup_{backup_id}",
                                                "backup_id": backup_id})
            except Exception:
                with self.db.transaction() as session:
                    _backup_status(session, backup_id, "available")
                raise
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status != states.AVAILABLE:
                raise Invalid(f"Invalid volume: Volume to be restored to must be available, but it is "
                              f"{volume.status}.")
            if volume.size < size:
                raise Invalid(f"Invalid volume: volume size {volume.size}GB cannot be smaller than the backup "
                              f"size {size}GB.")
            volume.status, volume.updated_at = states.RESTORING_BACKUP, utcnow()
            _backup_status(session, backup_id, "restoring")
            server = volume.backend_host
        self.volumes.cast(ctx, "restore_backup", server=server, backup_id=backup_id, volume_id=volume_id)
        return volume_id

    def delete_backup(self, ctx: Any, backup_id: str, force: bool = False) -> None:
        """:raises Invalid: not available or error (unless ``force``), or incremental backups
        depend on it."""
        with self.db.transaction() as session:
            backup = self.backup(session, ctx, backup_id)
            if backup.status not in ("available", "error", "error_deleting") and not force:
                raise Invalid(f"Invalid backup: Backup status must be available or error, but it is "
                              f"{backup.status}.")
            if session.scalar(sa.select(sa.func.count()).where(models.Backup.parent_id == backup_id)):
                raise Invalid("Invalid backup: Incremental backups exist for this backup.")
            backup.status, backup.updated_at = "deleting", utcnow()
            server = backup.host
        self.volumes.cast(ctx, "delete_backup", server=server, backup_id=backup_id)

    # -- manage / unmanage (administrators) ----------------------------------------------

    def manage(self, ctx: Any, pool_name: str, ref: dict[str, str], request: dict[str, Any]) -> str:
        """Record a volume (``managing``, size 0 until known) for the storage object ``ref`` on
        pool ``pool_name`` and cast its adoption; its id.

        :raises Invalid: no such pool. :raises OverLimit: the project's volume count."""
        volume_id = str(uuid.uuid4())
        with self.db.transaction() as session:
            pool = session.get(models.Pool, pool_name)
            if pool is None:
                raise Invalid(f"Invalid input received: no pool {pool_name!r} (host@backend#pool, as get_pools "
                              "names it)")
            volume_type = self.find_type(session, request.get("volume_type"), ctx.project_id, ctx.is_admin)
            quotas.check(self.db, session, self.conf, ctx.project_id, {"volumes": 1}, volume_type.name)
            volume = models.Volume(
                id=volume_id, project_id=ctx.project_id, user_id=ctx.user_id, name=request.get("name"),
                description=request.get("description"), size=0, status=states.MANAGING,
                attach_status=states.DETACHED, availability_zone=pool.availability_zone,
                volume_type_id=volume_type.id, bootable=bool(request.get("bootable")), host=pool.name,
                created_at=utcnow())
            volume.metadata_items = [models.VolumeMetadata(key=k, value=v)
                                     for k, v in (request.get("metadata") or {}).items()]
            session.add(volume)
            server = pool.host
        self.volumes.cast(ctx, "manage_existing", server=server, volume_id=volume_id, ref=ref)
        return volume_id

    def unmanage(self, ctx: Any, volume_id: str) -> None:
        """Let the volume go (its data stays in the backend).

        :raises Invalid: not available, attached, or with snapshots."""
        with self.db.transaction() as session:
            volume = self.volume(session, ctx, volume_id)
            if volume.status != states.AVAILABLE or volume.attachments:
                raise Invalid(f"Invalid volume: Volume {volume_id} must be available and detached to unmanage it, "
                              f"but it is {volume.status}.")
            if session.scalar(sa.select(sa.func.count()).where(models.Snapshot.volume_id == volume_id)):
                raise Invalid(f"Invalid volume: Volume {volume_id} has snapshots: it cannot be unmanaged.")
            volume.status, volume.updated_at = states.UNMANAGING, utcnow()
            server = volume.backend_host
        self.volumes.cast(ctx, "unmanage", server=server, volume_id=volume_id)
