"""Queries on the identity tables the identity service keeps whatever the auth backend:
domains, projects, roles and assignments, and the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.exceptions import Invalid, NotFound
from stratus.identity import models

_SUBSTITUTION = re.compile(r"[$%]\((\w+)\)s")


class IdentityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- domains and projects -----------------------------------------------------

    def get_domain(self, domain_id: str) -> models.Domain:
        with self.db.transaction() as session:
            row = session.get(models.Domain, domain_id)
        if row is None:
            raise NotFound(f"Could not find domain: {domain_id}.")
        return row

    def find_domain(self, ref: Mapping[str, Any], what: str = "domain") -> models.Domain:
        """Resolve ``{"id": ...}`` or ``{"name": ...}``. :raises Invalid, NotFound."""
        if not isinstance(ref, Mapping):
            raise Invalid(f"{what} must be an object with an id or a name")
        if ref.get("id"):
            return self.get_domain(str(ref["id"]))
        if ref.get("name"):
            with self.db.transaction() as session:
                row = session.scalar(sa.select(models.Domain).where(models.Domain.name == str(ref["name"])))
            if row is None:
                raise NotFound(f"Could not find domain: {ref['name']}.")
            return row
        raise Invalid(f"{what} needs an id or a name")

    def get_project(self, project_id: str) -> models.Project:
        with self.db.transaction() as session:
            row = session.get(models.Project, project_id)
        if row is None:
            raise NotFound(f"Could not find project: {project_id}.")
        return row

    def find_project(self, ref: Mapping[str, Any]) -> models.Project:
        """Resolve ``{"id": ...}`` or ``{"name": ..., "domain": {...}}``. :raises Invalid, NotFound."""
        if not isinstance(ref, Mapping):
            raise Invalid("project must be an object with an id, or a name and a domain")
        if ref.get("id"):
            return self.get_project(str(ref["id"]))
        if ref.get("name"):
            if "domain" not in ref:
                raise Invalid("a project given by name needs its domain")
            domain = self.find_domain(ref["domain"], "project domain")
            with self.db.transaction() as session:
                row = session.scalar(sa.select(models.Project).where(
                    models.Project.name == str(ref["name"]), models.Project.domain_id == domain.id))
            if row is None:
                raise NotFound(f"Could not find project: {ref['name']}.")
            return row
        raise Invalid("project needs an id, or a name and a domain")

    def ancestors(self, project: models.Project) -> list[models.Project]:
        """Parents of ``project``, nearest first."""
        chain, seen = [], {project.id}
        parent_id = project.parent_id
        with self.db.transaction() as session:
            while parent_id and parent_id not in seen:
                parent = session.get(models.Project, parent_id)
                if parent is None:
                    break
                chain.append(parent)
                seen.add(parent.id)
                parent_id = parent.parent_id
        return chain

    def project_enabled(self, project: models.Project) -> bool:
        """A project is usable when it, its ancestors and its domain are enabled."""
        if not project.enabled or not all(p.enabled for p in self.ancestors(project)):
            return False
        return self.get_domain(project.domain_id).enabled

    # -- roles --------------------------------------------------------------------

    def _with_implied(self, session: Any, role_ids: set[str]) -> list[tuple[str, str]]:
        found, frontier = set(role_ids), set(role_ids)
        while frontier:
            implied = set(session.scalars(sa.select(models.ImpliedRole.implied_role_id).where(
                models.ImpliedRole.prior_role_id.in_(frontier))))
            frontier = implied - found
            found |= implied
        if not found:
            return []
        rows = session.execute(sa.select(models.Role.id, models.Role.name).where(
            models.Role.id.in_(found), models.Role.domain_id == models.GLOBAL))  # domain roles only imply
        return sorted((row.id, row.name) for row in rows)

    def roles_for(self, user_id: str, group_ids: Iterable[str], *, project: models.Project | None = None,
                  domain_id: str | None = None, system: bool = False) -> list[tuple[str, str]]:
        """Effective ``(role_id, role_name)`` of a user on one scope, through groups,
        inheritance (from the domain and parent projects) and implied roles."""
        A = models.Assignment
        actors = [user_id, *group_ids]
        conditions = []
        if project is not None:
            conditions.append(sa.and_(A.type.in_(("UserProject", "GroupProject")), A.target_id == project.id,
                                      A.inherited.is_(False)))
            parents = [p.id for p in self.ancestors(project)]
            if parents:
                conditions.append(sa.and_(A.type.in_(("UserProject", "GroupProject")), A.target_id.in_(parents),
                                          A.inherited.is_(True)))
            conditions.append(sa.and_(A.type.in_(("UserDomain", "GroupDomain")), A.target_id == project.domain_id,
                                      A.inherited.is_(True)))
        elif domain_id is not None:
            conditions.append(sa.and_(A.type.in_(("UserDomain", "GroupDomain")), A.target_id == domain_id,
                                      A.inherited.is_(False)))
        elif system:
            conditions.append(sa.and_(A.type.in_(("UserSystem", "GroupSystem")), A.target_id == "system"))
        else:
            return []
        with self.db.transaction() as session:
            direct = set(session.scalars(sa.select(A.role_id).where(A.actor_id.in_(actors), sa.or_(*conditions))))
            return self._with_implied(session, direct)

    def projects_for(self, user_id: str, group_ids: Iterable[str]) -> list[models.Project]:
        """Enabled projects the user has any role on (directly, via groups, or inherited)."""
        with self.db.transaction() as session:
            projects = session.scalars(sa.select(models.Project).order_by(models.Project.name)).all()
        return [p for p in projects
                if self.roles_for(user_id, group_ids, project=p) and self.project_enabled(p)]

    def domains_for(self, user_id: str, group_ids: Iterable[str]) -> list[models.Domain]:
        A = models.Assignment
        with self.db.transaction() as session:
            ids = set(session.scalars(sa.select(A.target_id).where(
                A.actor_id.in_([user_id, *group_ids]), A.type.in_(("UserDomain", "GroupDomain")),
                A.inherited.is_(False))))
            return list(session.scalars(sa.select(models.Domain).where(
                models.Domain.id.in_(ids), models.Domain.enabled.is_(True)).order_by(models.Domain.name)))

    def delete_assignments_of(self, actor_id: str) -> None:
        """Forget every role assignment and application credential of a deleted user or group."""
        with self.db.transaction() as session:
            session.execute(sa.delete(models.Assignment).where(models.Assignment.actor_id == actor_id))
            session.execute(sa.delete(models.ApplicationCredential).where(
                models.ApplicationCredential.user_id == actor_id))

    # -- catalog ------------------------------------------------------------------

    def catalog(self, project_id: str | None) -> list[dict[str, Any]]:
        """The catalog as a token shows it. Endpoints whose URL needs ``$(project_id)s``
        are left out unless the token is project-scoped; a project with endpoints tied to it
        (OS-EP-FILTER) sees only those, and no service left without an endpoint."""
        values = {"project_id": project_id, "tenant_id": project_id}
        with self.db.transaction() as session:
            services = session.scalars(sa.select(models.Service).where(models.Service.enabled.is_(True))
                                       .order_by(models.Service.type)).all()
            endpoints = session.scalars(sa.select(models.Endpoint).where(models.Endpoint.enabled.is_(True))
                                        .order_by(models.Endpoint.interface)).all()
            tied = project_endpoint_ids(session, project_id) if project_id else set()
        if tied:
            endpoints = [e for e in endpoints if e.id in tied]
            services = [s for s in services if any(e.service_id == s.id for e in endpoints)]
        by_service: dict[str, list[dict[str, Any]]] = {}
        for endpoint in endpoints:
            names = _SUBSTITUTION.findall(endpoint.url)
            if any(values.get(name) is None for name in names):
                continue
            url = _SUBSTITUTION.sub(lambda m: str(values[m.group(1)]), endpoint.url)
            by_service.setdefault(endpoint.service_id, []).append({
                "id": endpoint.id, "interface": endpoint.interface, "region_id": endpoint.region_id,
                "region": endpoint.region_id, "url": url,
            })
        return [{"id": s.id, "type": s.type, "name": s.name or "", "endpoints": by_service.get(s.id, [])}
                for s in services]


def selected_endpoints(session: Any, filters: dict[str, str]) -> list[models.Endpoint]:
    """The endpoints an endpoint group's ``filters`` select now."""
    query = sa.select(models.Endpoint)
    for key, value in filters.items():
        query = query.where(getattr(models.Endpoint, key) == value)
    return list(session.scalars(query))


def project_endpoint_ids(session: Any, project_id: str) -> set[str]:
    """Every endpoint tied to ``project_id``, one by one or through its endpoint groups."""
    ids = set(session.scalars(sa.select(models.ProjectEndpoint.endpoint_id).where(
        models.ProjectEndpoint.project_id == project_id)))
    groups = list(session.scalars(sa.select(models.EndpointGroup).join(
        models.ProjectEndpointGroup, models.ProjectEndpointGroup.endpoint_group_id == models.EndpointGroup.id).where(
        models.ProjectEndpointGroup.project_id == project_id)))
    for group in groups:
        ids.update(endpoint.id for endpoint in selected_endpoints(session, group.filters))
    return ids
