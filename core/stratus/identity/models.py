"""Tables owned by the identity service.

Users, groups and memberships are the ``sql`` auth backend's; everything else (domains,
projects, roles, assignments, catalog, application credentials, revocations) is kept in
SQL whichever auth backend is configured, as in Keystone.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stratus.db.engine import service_base

Base = service_base("identity")

#: roles.domain_id of a global role (a NULL would defeat the unique constraint on MySQL/PostgreSQL)
GLOBAL = "<<global>>"


class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("domains.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("projects.id"), nullable=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("domains.id"), index=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    email: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    default_project_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    password_created_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("domains.id"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class Membership(Base):
    __tablename__ = "user_group_memberships"
    user_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    group_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("groups.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("name", "domain_id"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.String(64), default=GLOBAL)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class ImpliedRole(Base):
    __tablename__ = "implied_roles"
    prior_role_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("roles.id", ondelete="CASCADE"),
                                               primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("roles.id", ondelete="CASCADE"),
                                                 primary_key=True)


class Assignment(Base):
    """``type`` is UserProject, GroupProject, UserDomain, GroupDomain, UserSystem or GroupSystem."""

    __tablename__ = "assignments"
    type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    target_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True)
    inherited: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "regions"
    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    parent_region_id: Mapped[str | None] = mapped_column(sa.String(255), sa.ForeignKey("regions.id"),
                                                         nullable=True)


class Service(Base):
    __tablename__ = "catalog_services"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class Endpoint(Base):
    __tablename__ = "endpoints"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("catalog_services.id", ondelete="CASCADE"),
                                            index=True)
    interface: Mapped[str] = mapped_column(sa.String(8))
    url: Mapped[str] = mapped_column(sa.Text)
    region_id: Mapped[str | None] = mapped_column(sa.String(255), sa.ForeignKey("regions.id"), nullable=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class ApplicationCredential(Base):
    __tablename__ = "application_credentials"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    expires_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    role_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: the user's access rules this credential is limited to (None or empty: no limit)
    access_rule_ids: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)


class AccessRule(Base):
    """A request an application credential may make: service type, method, path pattern
    (``*`` one segment, ``**`` any). Owned by a user, shared by their credentials."""

    __tablename__ = "access_rules"
    __table_args__ = (sa.UniqueConstraint("user_id", "service", "path", "method"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    service: Mapped[str] = mapped_column(sa.String(64))
    path: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(16))


class RevocationEvent(Base):
    """Tokens matching every non-null field and issued at or before ``issued_before_us`` are revoked.

    Times are integer microseconds since the epoch: exact on every database (MySQL's
    DATETIME would drop the fraction, and a token issued in the same second as a password
    change must stay valid).
    """

    __tablename__ = "revocation_events"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    audit_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    domain_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    role_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    application_credential_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    issued_before_us: Mapped[int] = mapped_column(sa.BigInteger)
    revoked_at_us: Mapped[int] = mapped_column(sa.BigInteger, index=True)


class Credential(Base):
    """A user's credential (``/v3/credentials``: EC2 keys, certificates, TOTP secrets...): its
    blob encrypted with the credential keys (``[identity] credential_key_repository``)."""

    __tablename__ = "credentials"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    type: Mapped[str] = mapped_column(sa.String(255), index=True)
    encrypted_blob: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class PolicyBlob(Base):
    """A policy document stored for other services (``/v3/policies``); Keystone does not read it."""

    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(255))
    blob: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class EndpointGroup(Base):
    """Endpoints selected by ``filters`` (interface, service_id, region_id): OS-EP-FILTER."""

    __tablename__ = "endpoint_groups"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class ProjectEndpoint(Base):
    """One endpoint tied to a project's catalog."""

    __tablename__ = "project_endpoints"
    project_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("endpoints.id", ondelete="CASCADE"),
                                             primary_key=True, index=True)


class ProjectEndpointGroup(Base):
    """An endpoint group tied to a project's catalog."""

    __tablename__ = "project_endpoint_groups"
    endpoint_group_id: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("endpoint_groups.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class RegisteredLimit(Base):
    """A service's default limit on a resource, per region or everywhere (unified limits)."""

    __tablename__ = "registered_limits"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("catalog_services.id"), index=True)
    region_id: Mapped[str | None] = mapped_column(sa.String(255), sa.ForeignKey("regions.id"), nullable=True)
    resource_name: Mapped[str] = mapped_column(sa.String(255))
    default_limit: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Limit(Base):
    """A project's (or domain's) own limit on a registered resource."""

    __tablename__ = "limits"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    registered_limit_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("registered_limits.id"),
                                                     index=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"),
                                                   nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("domains.id", ondelete="CASCADE"),
                                                  nullable=True, index=True)
    resource_limit: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)

    registered: Mapped[RegisteredLimit] = relationship(lazy="joined")


class DomainConfig(Base):
    """One option of a domain's own configuration (``/v3/domains/{id}/config``): which
    backend holds its users and groups, and that backend's settings."""

    __tablename__ = "domain_configs"
    domain_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("domains.id", ondelete="CASCADE"),
                                           primary_key=True)
    group: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    option: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    sensitive: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class IdMapping(Base):
    """The public id of a user or group a domain-specific backend holds under its own id
    (two directories may both have an "alice"): a sha256 of domain, local id and kind."""

    __tablename__ = "id_mappings"
    __table_args__ = (sa.UniqueConstraint("domain_id", "local_id", "entity_type"),)
    public_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    domain_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("domains.id", ondelete="CASCADE"))
    local_id: Mapped[str] = mapped_column(sa.String(255))
    entity_type: Mapped[str] = mapped_column(sa.String(8))
