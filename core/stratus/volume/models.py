"""Tables owned by the block-storage service.

Volumes and snapshots are removed from their tables once their backend has deleted them
(a deleted volume is a 404, as in Cinder); quotas count the rows that remain. Pools are
what the volume services report and the scheduler claims from: ``allocated_gb`` is the sum
of the sizes placed on the pool, raised by the scheduler's conditional UPDATE as it
places each volume and lowered as volumes go, so two schedulers never promise the same
room.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stratus.db.engine import service_base

Base = service_base("volume")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class VolumeType(Base):
    __tablename__ = "volume_types"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    extra_specs: Mapped[list[VolumeTypeExtraSpec]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="VolumeTypeExtraSpec.key")

    @property
    def specs(self) -> dict[str, str]:
        return {spec.key: spec.value for spec in self.extra_specs}


class VolumeTypeExtraSpec(Base):
    __tablename__ = "volume_type_extra_specs"

    type_id: Mapped[str] = mapped_column(sa.ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class VolumeTypeProject(Base):
    __tablename__ = "volume_type_projects"

    type_id: Mapped[str] = mapped_column(sa.ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class Volume(Base):
    __tablename__ = "volumes"
    __table_args__ = (sa.Index("ix_volumes_project_id_created_at", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(32))
    attach_status: Mapped[str] = mapped_column(sa.String(32), default="detached")
    migration_status: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    availability_zone: Mapped[str] = mapped_column(sa.String(255))
    #: ``<host>@<backend>#<pool>`` once scheduled
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    volume_type_id: Mapped[str] = mapped_column(sa.ForeignKey("volume_types.id"))
    bootable: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    encrypted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: attached read-only (``os-update_readonly_flag``; None: never set). Cinder keeps it as admin
    #: metadata and shows it among the volume's metadata, as here
    readonly: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    source_volid: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    image_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    #: the backup a new volume is restored from
    backup_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    #: what went wrong last (shown to administrators; Cinder keeps it as user messages)
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)

    volume_type: Mapped[VolumeType] = relationship(lazy="joined")
    metadata_items: Mapped[list[VolumeMetadata]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="VolumeMetadata.key")
    image_metadata_items: Mapped[list[VolumeImageMetadata]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="VolumeImageMetadata.key")
    attachments: Mapped[list[VolumeAttachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="VolumeAttachment.created_at")

    @property
    def backend_host(self) -> str | None:
        """``<host>@<backend>``: the volume service serving the volume."""
        return self.host.partition("#")[0] if self.host else None


class VolumeMetadata(Base):
    __tablename__ = "volume_metadata"

    volume_id: Mapped[str] = mapped_column(sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class VolumeImageMetadata(Base):
    """``volume_image_metadata``: the image a volume was made from, as Cinder copies it."""

    __tablename__ = "volume_image_metadata"

    volume_id: Mapped[str] = mapped_column(sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class VolumeAttachment(Base):
    __tablename__ = "volume_attachments"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    instance_uuid: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    attached_host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    mountpoint: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    attach_mode: Mapped[str] = mapped_column(sa.String(8), default="rw")
    #: reserved, attaching, attached, detaching, error_attaching
    attach_status: Mapped[str] = mapped_column(sa.String(32))
    connector: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    connection_info: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    attach_time: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class Snapshot(Base):
    __tablename__ = "volume_snapshots"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(sa.ForeignKey("volumes.id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(32))
    progress: Mapped[str] = mapped_column(sa.String(8), default="0%")
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    metadata_items: Mapped[list[SnapshotMetadata]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SnapshotMetadata.key")


class SnapshotMetadata(Base):
    __tablename__ = "volume_snapshot_metadata"

    snapshot_id: Mapped[str] = mapped_column(sa.ForeignKey("volume_snapshots.id", ondelete="CASCADE"),
                                             primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class Pool(Base):
    """One backend's pool as its volume service last reported it, and what is placed on it."""

    __tablename__ = "volume_pools"

    #: ``<host>@<backend>#<pool>``
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    #: ``<host>@<backend>``: the volume service's RPC server
    host: Mapped[str] = mapped_column(sa.String(255), index=True)
    volume_backend_name: Mapped[str] = mapped_column(sa.String(255))
    availability_zone: Mapped[str] = mapped_column(sa.String(255))
    vendor_name: Mapped[str] = mapped_column(sa.String(255))
    storage_protocol: Mapped[str] = mapped_column(sa.String(64))
    total_gb: Mapped[float] = mapped_column(sa.Float)
    free_gb: Mapped[float] = mapped_column(sa.Float)
    provisioned_gb: Mapped[float] = mapped_column(sa.Float)
    allocated_gb: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_over_subscription_ratio: Mapped[float] = mapped_column(sa.Float)
    reserved_percentage: Mapped[int] = mapped_column(sa.Integer)
    thin_provisioning: Mapped[bool] = mapped_column(sa.Boolean)
    multiattach: Mapped[bool] = mapped_column(sa.Boolean)
    #: the driver's capability names (snapshot, clone, extend...)
    capabilities: Mapped[list] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class Backup(Base):
    """A copy of a volume's data kept by the backup target (full, or the chunks changed since
    its parent: ``parent_id``)."""

    __tablename__ = "volume_backups"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    #: creating, available, deleting, error, restoring, error_deleting
    status: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int] = mapped_column(sa.Integer)
    #: the volume service that makes it (the one serving its volume)
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    availability_zone: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    container: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    parent_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    is_incremental: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: chunks stored so far (of ``chunk_count``): the backup's progress
    object_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    fail_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    backup_metadata: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    data_timestamp: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class Transfer(Base):
    """An offer of a volume to whichever project presents its key (``os-volume-transfer``)."""

    __tablename__ = "volume_transfers"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(sa.ForeignKey("volumes.id", ondelete="CASCADE"), unique=True)
    #: the giving project (the volume's, until accepted)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    salt: Mapped[str] = mapped_column(sa.String(64))
    #: sha256 of salt + key: the key itself is shown once, at create
    crypt_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow)


class QuotaLimit(Base):
    """A project's limit set through ``os-quota-sets`` (else ``[volume] quota_*``)."""

    __tablename__ = "volume_quotas"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaClassLimit(Base):
    """A limit of a quota class (``os-quota-class-sets``): ``default`` overrides ``[volume] quota_*``."""

    __tablename__ = "volume_quota_classes"

    class_name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaLock(Base):
    """One row per project: its creates take turns while they count what it holds."""

    __tablename__ = "volume_quota_locks"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
