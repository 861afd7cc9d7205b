"""``stratus manage bootstrap``: the minimum a new cloud needs, created idempotently.

The default domain, the ``admin`` project, user and role assignment, Keystone's default
roles (``admin`` implies ``manager`` implies ``member`` implies ``reader``, so policy
written for readers admits members and admins; ``service``, implying nothing, for
service-to-service calls), a region, and one catalog service with public and internal
endpoints for every API Stratus serves — and none for an API it does not serve yet, since
clients that find a service in the catalog call it. Running it again changes nothing but
what differs: a new password, a new public URL, endpoints this cloud once listed for an
API it does not serve (an older bootstrap's) removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus import registry
from stratus.exceptions import NotAuthenticated, NotFound
from stratus.identity import models
from stratus.identity.revocation import Revocation, now_us
from stratus.identity.service import IdentityService
from stratus.interfaces.auth import AuthCapability, User
from stratus.interfaces.base import require

#: (type, name, path below the public URL) of every API in the catalog (from the registry)
CATALOG = tuple((type_, name, entry.path) for entry in registry.catalog()
                for type_, name in ((entry.type, entry.name), *entry.aliases))
INTERFACES = ("public", "internal")
ROLES = ("admin", "manager", "member", "reader", "service")
IMPLIED_ROLES = (("admin", "manager"), ("manager", "member"), ("member", "reader"))


@dataclass(frozen=True)
class BootstrapResult:
    domain_id: str
    project_id: str
    user_id: str
    admin_role_id: str


def _new_id() -> str:
    return uuid.uuid4().hex


def bootstrap(identity: IdentityService, password: str, public_url: str, region: str,
              username: str = "admin", project_name: str = "admin") -> BootstrapResult:
    """Create or complete the bootstrap entities. :raises UnsupportedOperation: the auth
    backend is read-only and the admin user does not exist in it."""
    domain_id = identity.conf.identity.default_domain_id
    public_url = public_url.rstrip("/")
    with identity.db.transaction() as session:
        if session.get(models.Domain, domain_id) is None:
            session.add(models.Domain(id=domain_id, name="Default", enabled=True,
                                      description="The default domain", extra={}))
        project = session.scalar(sa.select(models.Project).where(models.Project.domain_id == domain_id,
                                                                 models.Project.name == project_name))
        if project is None:
            project = models.Project(id=_new_id(), name=project_name, domain_id=domain_id, enabled=True,
                                     description="Bootstrap project for initializing the cloud.", tags=[], extra={})
            session.add(project)
        roles = {}
        for name in ROLES:
            role = session.scalar(sa.select(models.Role).where(models.Role.name == name,
                                                               models.Role.domain_id == models.GLOBAL))
            if role is None:
                role = models.Role(id=_new_id(), name=name, domain_id=models.GLOBAL)
                session.add(role)
            roles[name] = role
        session.flush()
        for prior, implied in IMPLIED_ROLES:
            key = (roles[prior].id, roles[implied].id)
            if session.get(models.ImpliedRole, key) is None:
                session.add(models.ImpliedRole(prior_role_id=key[0], implied_role_id=key[1]))
        if session.get(models.Region, region) is None:
            session.add(models.Region(id=region, description=""))
        _catalog(session, public_url, region)
        project_id, admin_role_id = project.id, roles["admin"].id

    user = _admin_user(identity, username, domain_id, password)
    with identity.db.transaction() as session:
        for type_, target in (("UserProject", project_id), ("UserSystem", "system")):
            key = (type_, user.id, target, admin_role_id, False)
            if session.get(models.Assignment, key) is None:
                session.add(models.Assignment(type=type_, actor_id=user.id, target_id=target,
                                              role_id=admin_role_id, inherited=False))
    return BootstrapResult(domain_id, project_id, user.id, admin_role_id)


def _catalog(session: Any, public_url: str, region: str) -> None:
    for type_, name, path in CATALOG:
        service = session.scalar(sa.select(models.Service).where(models.Service.type == type_))
        if service is None:
            service = models.Service(id=_new_id(), type=type_, name=name, enabled=True)
            session.add(service)
            session.flush()
        for interface in INTERFACES:
            url = public_url + path
            endpoint = session.scalar(sa.select(models.Endpoint).where(
                models.Endpoint.service_id == service.id, models.Endpoint.interface == interface,
                models.Endpoint.region_id == region))
            if endpoint is None:
                session.add(models.Endpoint(id=_new_id(), service_id=service.id, interface=interface, url=url,
                                            region_id=region, enabled=True))
            elif endpoint.url != url:
                endpoint.url = url



def refresh_catalog(identity: IdentityService, public_url: str, region: str,
                    types: Collection[str] | None = None) -> list[str]:
    """Point the catalog's endpoints for the APIs Stratus serves (those a bootstrap made: their
    URL ends with the API's path; of the catalog ``types`` only, when given) at ``public_url``,
    in ``region``; other endpoints, and entries an operator removed, stay as they are. The
    URLs changed."""
    public_url = public_url.rstrip("/")
    changed = []
    with identity.db.transaction() as session:
        for type_, _, path in CATALOG:
            if types is not None and type_ not in types:
                continue
            for endpoint in session.scalars(sa.select(models.Endpoint).join(models.Service).where(
                    models.Service.type == type_, models.Endpoint.region_id == region)):
                if endpoint.url.endswith(path) and endpoint.url != public_url + path:
                    endpoint.url = public_url + path
                    changed.append(endpoint.url)
    return changed


def _admin_user(identity: IdentityService, username: str, domain_id: str, password: str) -> User:
    backend = identity.backend
    try:
        user = backend.get_user_by_name(username, domain_id)
    except NotFound:
        require(backend, AuthCapability.WRITE, "Creating the bootstrap admin user")
        return backend.create_user(User(_new_id(), username, domain_id), password)
    if AuthCapability.WRITE in backend.capabilities:
        try:
            backend.authenticate(user.id, password)
        except NotAuthenticated:
            backend.set_password(user.id, password)
            identity.revocations.revoke(Revocation(now_us(), user_id=user.id))
    return user
