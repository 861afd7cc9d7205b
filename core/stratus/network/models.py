"""Tables owned by the networking service.

``ip_allocations`` has (subnet_id, ip_address) as its primary key: the database itself
refuses a second holder of an address, which is what makes IPAM exact when API
processes allocate concurrently.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, foreign, mapped_column, relationship

from stratus.db.engine import service_base

Base = service_base("network")


class _Standard:
    """Columns every Neutron resource has."""

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    revision_number: Mapped[int] = mapped_column(sa.Integer, default=0)

    @declared_attr
    def tag_rows(cls) -> Mapped[list[ResourceTag]]:
        return _tags_of(cls)


def _tags_of(owner: type) -> Mapped[list[ResourceTag]]:
    return relationship(ResourceTag, primaryjoin=lambda: foreign(ResourceTag.resource_id) == owner.id,
                        lazy="selectin", viewonly=True, order_by=lambda: ResourceTag.tag)


class ResourceTag(Base):
    """A tag on a network, subnet, port, router, security group or floating IP (Neutron's
    standard-attr-tag); ids are UUIDs, so one table serves them all."""

    __tablename__ = "resource_tags"
    resource_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)


class Network(_Standard, Base):
    __tablename__ = "networks"
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    router_external: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    mtu: Mapped[int] = mapped_column(sa.Integer, default=1500)
    port_security_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    network_type: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    physical_network: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)

    subnets: Mapped[list[Subnet]] = relationship(lazy="selectin", order_by="Subnet.created_at",
                                                 back_populates="network")


class Subnet(_Standard, Base):
    __tablename__ = "subnets"
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"), index=True)
    ip_version: Mapped[int] = mapped_column(sa.Integer)
    cidr: Mapped[str] = mapped_column(sa.String(64))
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    subnetpool_id: Mapped[str | None] = mapped_column(sa.ForeignKey("subnetpools.id"), nullable=True, index=True)

    network: Mapped[Network] = relationship(back_populates="subnets", lazy="raise")
    subnetpool: Mapped[SubnetPool | None] = relationship(lazy="selectin", viewonly=True)
    pools: Mapped[list[AllocationPool]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                       order_by="AllocationPool.position")
    dns: Mapped[list[DnsNameserver]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                    order_by="DnsNameserver.position")
    routes: Mapped[list[HostRoute]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                   order_by="HostRoute.position")


class AddressScope(_Standard, Base):
    """Address scopes: subnet pools in one scope never overlap, so their addresses route
    between each other without NAT."""

    __tablename__ = "address_scopes"
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    ip_version: Mapped[int] = mapped_column(sa.Integer)


class SubnetPool(_Standard, Base):
    """Prefixes subnets are carved from (subnet_allocation)."""

    __tablename__ = "subnetpools"
    ip_version: Mapped[int] = mapped_column(sa.Integer)
    prefixes: Mapped[list[str]] = mapped_column(sa.JSON)
    default_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    min_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    max_prefixlen: Mapped[int] = mapped_column(sa.Integer)
    default_quota: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    address_scope_id: Mapped[str | None] = mapped_column(sa.ForeignKey("address_scopes.id"), nullable=True,
                                                         index=True)


class AllocationPool(Base):
    __tablename__ = "subnet_allocation_pools"
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    first_ip: Mapped[str] = mapped_column(sa.String(64))
    last_ip: Mapped[str] = mapped_column(sa.String(64))


class DnsNameserver(Base):
    __tablename__ = "subnet_dns_nameservers"
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(128))


class HostRoute(Base):
    __tablename__ = "subnet_host_routes"
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(sa.String(64))
    nexthop: Mapped[str] = mapped_column(sa.String(64))


class Port(_Standard, Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address"),)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"), index=True)
    mac_address: Mapped[str] = mapped_column(sa.String(32))
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    port_security_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    binding_host_id: Mapped[str] = mapped_column(sa.String(255), default="")
    binding_vif_type: Mapped[str] = mapped_column(sa.String(64), default="unbound")
    binding_vif_details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    binding_vnic_type: Mapped[str] = mapped_column(sa.String(64), default="normal")
    binding_profile: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    fixed_ips: Mapped[list[IpAllocation]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                         order_by="IpAllocation.position")
    address_pairs: Mapped[list[AllowedAddressPair]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    security_groups: Mapped[list[PortSecurityGroup]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                                    order_by="PortSecurityGroup.security_group_id")


class IpAllocation(Base):
    __tablename__ = "ip_allocations"
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)


class AllowedAddressPair(Base):
    __tablename__ = "port_allowed_address_pairs"
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    mac_address: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class SecurityGroup(_Standard, Base):
    __tablename__ = "security_groups"
    stateful: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    rules: Mapped[list[SecurityGroupRule]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                          order_by="SecurityGroupRule.created_at",
                                                          foreign_keys="SecurityGroupRule.security_group_id")


class DefaultSecurityGroup(Base):
    """One row per project: the primary key makes creating the default group race-free."""

    __tablename__ = "default_security_groups"
    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(sa.ForeignKey("security_groups.id", ondelete="CASCADE"))


class SecurityGroupRule(Base):
    __tablename__ = "security_group_rules"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    security_group_id: Mapped[str] = mapped_column(sa.ForeignKey("security_groups.id", ondelete="CASCADE"),
                                                   index=True)
    direction: Mapped[str] = mapped_column(sa.String(8))
    ethertype: Mapped[str] = mapped_column(sa.String(4))
    protocol: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(sa.ForeignKey("security_groups.id", ondelete="CASCADE"),
                                                        nullable=True, index=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    revision_number: Mapped[int] = mapped_column(sa.Integer, default=0)


class PortSecurityGroup(Base):
    __tablename__ = "port_security_groups"
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(sa.ForeignKey("security_groups.id"), primary_key=True,
                                                   index=True)


class Router(_Standard, Base):
    __tablename__ = "routers"
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(sa.ForeignKey("ports.id"), nullable=True)
    enable_snat: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    interfaces: Mapped[list[RouterPort]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    routes: Mapped[list[RouterRoute]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                     order_by="(RouterRoute.destination, RouterRoute.nexthop)")


class RouterRoute(Base):
    """A static route of a router (extraroute): traffic for ``destination`` goes to ``nexthop``."""

    __tablename__ = "router_routes"
    router_id: Mapped[str] = mapped_column(sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    destination: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    nexthop: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class RouterPort(Base):
    """A port attached to a router as one of its interfaces."""

    __tablename__ = "router_ports"
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    router_id: Mapped[str] = mapped_column(sa.ForeignKey("routers.id", ondelete="CASCADE"), index=True)


class FloatingIP(Base):
    __tablename__ = "floating_ips"
    __table_args__ = (sa.UniqueConstraint("fixed_port_id", "fixed_ip_address"),)
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    floating_ip_address: Mapped[str] = mapped_column(sa.String(64))
    floating_network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id"))
    fixed_port_id: Mapped[str | None] = mapped_column(sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True,
                                                      index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(sa.ForeignKey("routers.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    revision_number: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed_port: Mapped[Port | None] = relationship(foreign_keys=[fixed_port_id], lazy="selectin", viewonly=True)

    @declared_attr
    def tag_rows(cls) -> Mapped[list[ResourceTag]]:
        return _tags_of(cls)


class Quota(Base):
    """A project's limit for one resource, where it differs from the configured default."""

    __tablename__ = "quotas"
    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaLock(Base):
    """One row per project, locked while a create counts the project's resources: creates
    of one project take turns, so concurrent requests cannot exceed a quota together."""

    __tablename__ = "quota_locks"
    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class SegmentAllocation(Base):
    """Who holds a segment (a VNI, a VLAN id on a physical network, a flat physical network):
    the primary key lets one network at most hold each."""

    __tablename__ = "segment_allocations"
    network_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    physical_network: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    segmentation_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)


class Agent(Base):
    """A host-side agent of a data-plane plugin, as it last reported itself."""

    __tablename__ = "network_agents"
    __table_args__ = (sa.UniqueConstraint("host", "agent_type"),)
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    agent_type: Mapped[str] = mapped_column(sa.String(64))
    binary: Mapped[str] = mapped_column(sa.String(255))
    topic: Mapped[str] = mapped_column(sa.String(255))
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    configurations: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    started_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    heartbeat_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
