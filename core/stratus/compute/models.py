"""Tables owned by the compute service (its API database)."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stratus.db.engine import service_base

Base = service_base("compute")


class Flavor(Base):
    """A flavor; ``flavorid`` is the id the API shows (any string), ``id`` the row's key."""

    __tablename__ = "flavors"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(sa.Integer)
    vcpus: Mapped[int] = mapped_column(sa.Integer)
    root_gb: Mapped[int] = mapped_column(sa.Integer)
    ephemeral_gb: Mapped[int] = mapped_column(sa.Integer, default=0)
    swap: Mapped[int] = mapped_column(sa.Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(sa.Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)

    extra_specs: Mapped[list[FlavorExtraSpec]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                              order_by="FlavorExtraSpec.key")
    projects: Mapped[list[FlavorProject]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                         order_by="FlavorProject.project_id")


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_specs"
    flavor_id: Mapped[int] = mapped_column(sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class FlavorProject(Base):
    """A project given access to a private flavor."""

    __tablename__ = "flavor_projects"
    flavor_id: Mapped[int] = mapped_column(sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class KeyPair(Base):
    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(255))
    public_key: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.String(16), default="ssh")
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class ComputeNode(Base):
    """A hypervisor node as its compute service last reported it, and what claims hold on it.

    ``*_used`` only ever change through the conditional UPDATEs of
    :mod:`stratus.compute.claims`, so two schedulers can never over-commit a node.
    """

    __tablename__ = "compute_nodes"
    __table_args__ = (sa.UniqueConstraint("host", "nodename"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    host: Mapped[str] = mapped_column(sa.String(255), index=True)
    nodename: Mapped[str] = mapped_column(sa.String(255))
    hypervisor_type: Mapped[str] = mapped_column(sa.String(64))
    hypervisor_version: Mapped[int] = mapped_column(sa.Integer)
    vcpus: Mapped[int] = mapped_column(sa.Integer)
    memory_mb: Mapped[int] = mapped_column(sa.Integer)
    local_gb: Mapped[int] = mapped_column(sa.Integer)
    vcpus_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    memory_mb_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    local_gb_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    running_vms: Mapped[int] = mapped_column(sa.Integer, default=0)
    cpu_allocation_ratio: Mapped[float] = mapped_column(sa.Float)
    ram_allocation_ratio: Mapped[float] = mapped_column(sa.Float)
    disk_allocation_ratio: Mapped[float] = mapped_column(sa.Float)
    cpu_info: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: the names of the hypervisor capabilities the host's driver declares (None: a host that has
    #: not said, so nothing is refused on its account)
    capabilities: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class Instance(Base):
    """A server. Soft-deleted (``deleted``) so ``changes-since`` can show deletions."""

    __tablename__ = "instances"
    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(255))
    display_description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    hostname: Mapped[str] = mapped_column(sa.String(255))
    image_ref: Mapped[str] = mapped_column(sa.String(255), default="")
    flavor: Mapped[dict] = mapped_column(sa.JSON)
    vm_state: Mapped[str] = mapped_column(sa.String(32), index=True)
    task_state: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    power_state: Mapped[int] = mapped_column(sa.Integer, default=0)
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    node: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    availability_zone: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    key_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    key_data: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    user_data: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    config_drive: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    locked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    locked_reason: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    progress: Mapped[int] = mapped_column(sa.Integer, default=0)
    launch_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    reservation_id: Mapped[str] = mapped_column(sa.String(255))
    access_ip_v4: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    access_ip_v6: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    auto_disk_config: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    #: the guest's administrator password encrypted with its key (os-server-password), as a guest posts it
    password: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    requested_networks: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: the local disks of the create's block_device_mapping_v2 (see compute.api.block_devices)
    block_device_mapping: Mapped[list | None] = mapped_column(sa.JSON, nullable=True, default=list)
    security_groups: Mapped[list] = mapped_column(sa.JSON, default=list)
    network_info: Mapped[list] = mapped_column(sa.JSON, default=list)
    tried_hosts: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: what the scheduler needs again on a reschedule: image properties, zone, hints
    request_spec: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    terminated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, index=True)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)

    metadata_items: Mapped[list[InstanceMetadata]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                                  order_by="InstanceMetadata.key")
    faults: Mapped[list[InstanceFault]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                       order_by="InstanceFault.id")
    tags: Mapped[list[InstanceTag]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                   order_by="InstanceTag.tag")


class InstanceTag(Base):
    __tablename__ = "instance_tags"
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instances.uuid", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(60), primary_key=True, index=True)


class Migration(Base):
    """A resize (or, later, a migration) of one server: where from, where to, which flavors.

    While it is under way the server's old claim is held under the migration's ``uuid`` and
    the new one under the server's, so both hosts stay accounted for until it is confirmed
    or reverted. ``disk_location`` is where a move between hosts left the server's disk.
    """

    __tablename__ = "migrations"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    migration_type: Mapped[str] = mapped_column(sa.String(32), default="resize")
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    source_compute: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    source_node: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    dest_compute: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    dest_node: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    old_flavor: Mapped[dict] = mapped_column(sa.JSON)
    new_flavor: Mapped[dict] = mapped_column(sa.JSON)
    old_vm_state: Mapped[str] = mapped_column(sa.String(32))
    disk_location: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class InstanceMetadata(Base):
    __tablename__ = "instance_metadata"
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instances.uuid", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class InstanceFault(Base):
    __tablename__ = "instance_faults"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    code: Mapped[int] = mapped_column(sa.Integer)
    message: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[str] = mapped_column(sa.Text, default="")
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class Allocation(Base):
    """What a server holds on a node (the claim); gone when the server is."""

    __tablename__ = "allocations"
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("compute_nodes.id"), index=True)
    vcpus: Mapped[int] = mapped_column(sa.Integer)
    memory_mb: Mapped[int] = mapped_column(sa.Integer)
    disk_gb: Mapped[int] = mapped_column(sa.Integer)


class QuotaLock(Base):
    """One row per project, locked while a create counts the project's usage."""

    __tablename__ = "compute_quota_locks"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class TaskLog(Base):
    """One host's run of a periodic task over a period (the instance usage audit's log)."""

    __tablename__ = "task_log"
    __table_args__ = (sa.UniqueConstraint("task_name", "host", "period_beginning", "period_ending"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    task_name: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(255))
    host: Mapped[str] = mapped_column(sa.String(255), index=True)
    period_beginning: Mapped[datetime.datetime] = mapped_column(sa.DateTime, index=True)
    period_ending: Mapped[datetime.datetime] = mapped_column(sa.DateTime, index=True)
    message: Mapped[str] = mapped_column(sa.String(255), default="")
    task_items: Mapped[int] = mapped_column(sa.Integer, default=0)
    errors: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class QuotaClass(Base):
    """A quota class's limit for one resource (os-quota-class-sets); the ``default`` class's
    values are every project's defaults, over the configured ones."""

    __tablename__ = "compute_quota_classes"
    class_name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(sa.Integer)


class Quota(Base):
    """A project's compute limit for one resource, where it differs from the configured default."""

    __tablename__ = "compute_quotas"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(sa.Integer)


class InstanceGroup(Base):
    """A server group: its members are placed by ``policy`` (affinity, anti-affinity)."""

    __tablename__ = "instance_groups"
    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255))
    policy: Mapped[str] = mapped_column(sa.String(32))
    rules: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)

    members: Mapped[list[InstanceGroupMember]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                              order_by="InstanceGroupMember.instance_uuid")


class InstanceGroupMember(Base):
    __tablename__ = "instance_group_members"
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    group_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instance_groups.uuid", ondelete="CASCADE"), index=True)


class InstanceAction(Base):
    """One API request on a server (``os-instance-actions``), found by its request id."""

    __tablename__ = "instance_actions"
    __table_args__ = (sa.UniqueConstraint("instance_uuid", "request_id"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    request_id: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    start_time: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    message: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)

    events: Mapped[list[InstanceActionEvent]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                             order_by="InstanceActionEvent.id")


class InstanceActionEvent(Base):
    __tablename__ = "instance_action_events"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(255))
    start_time: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    result: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    traceback: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    details: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Aggregate(Base):
    """A host aggregate: a named set of compute hosts with metadata. The metadata key
    ``availability_zone`` makes it an availability zone (a host is in at most one)."""

    __tablename__ = "aggregates"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)

    hosts: Mapped[list[AggregateHost]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                      order_by="AggregateHost.host")
    metadata_items: Mapped[list[AggregateMetadata]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                                   order_by="AggregateMetadata.key")

    @property
    def availability_zone(self) -> str | None:
        return next((m.value for m in self.metadata_items if m.key == "availability_zone"), None)


class AggregateHost(Base):
    __tablename__ = "aggregate_hosts"
    aggregate_id: Mapped[int] = mapped_column(sa.ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)


class AggregateMetadata(Base):
    __tablename__ = "aggregate_metadata"
    aggregate_id: Mapped[int] = mapped_column(sa.ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class ConsoleAuthToken(Base):
    """A console URL's token (stored hashed): good once, until ``expires_at``, for one console of one
    server on one host."""

    __tablename__ = "console_auth_tokens"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    protocol: Mapped[str] = mapped_column(sa.String(16))
    console_type: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    expires_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, index=True)
