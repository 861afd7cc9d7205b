"""``/v3/domains`` and ``/v3/projects``."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid, NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id
from stratus.identity.api.views import domain_view, project_view
from stratus.identity.service import IdentityService

_NAME = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[^\s](.*[^\s])?$"}
_TAGS = {"type": "array", "maxItems": 80, "items": {"type": "string", "minLength": 1, "maxLength": 255,
                                                      "pattern": "^[^,/]*$"}}
_DOMAIN_FIELDS = {"name": _NAME, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
                  "id": {"type": "string", "minLength": 1, "maxLength": 64}, "tags": _TAGS}
DOMAIN_CREATE = {"type": "object", "required": ["domain"], "properties": {"domain": {
    "type": "object", "required": ["name"], "properties": _DOMAIN_FIELDS}}}
DOMAIN_UPDATE = {"type": "object", "required": ["domain"], "properties": {"domain": {
    "type": "object", "minProperties": 1, "properties": {k: v for k, v in _DOMAIN_FIELDS.items() if k != "id"}}}}
_PROJECT_FIELDS = {"name": _NAME, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
                   "domain_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
                   "parent_id": {"type": ["string", "null"], "maxLength": 64}, "is_domain": {"type": "boolean"},
                   "tags": _TAGS}
PROJECT_CREATE = {"type": "object", "required": ["project"], "properties": {"project": {
    "type": "object", "required": ["name"], "properties": _PROJECT_FIELDS}}}
PROJECT_UPDATE = {"type": "object", "required": ["project"], "properties": {"project": {
    "type": "object", "minProperties": 1,
    "properties": {k: _PROJECT_FIELDS[k] for k in ("name", "description", "enabled", "tags")},
    "not": {"anyOf": [{"required": ["domain_id"]}, {"required": ["parent_id"]}, {"required": ["is_domain"]}]}}}}
_ENTITY = {"type": "object", "required": ["id", "name", "links"]}


def _project_conflict(name: str | None) -> str:
    return ("Conflict occurred attempting to store project - it is not permitted to have two projects with the "
            f"same name in the same domain : {name}.")


def domain_project_view(domain: models.Domain, base: str) -> dict[str, Any]:
    """A domain as the projects API shows it (a project acting as a domain)."""
    return {**(domain.extra or {}), "id": domain.id, "name": domain.name, "domain_id": None, "parent_id": None,
            "enabled": domain.enabled, "description": domain.description or "", "is_domain": True, "tags": [],
            "options": {}, "links": {"self": f"{base}/v3/projects/{domain.id}"}}


def _extra(body: dict[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in known}


def update_domain(identity: IdentityService, domain_id: str, body: dict[str, Any]) -> models.Domain:
    """Apply ``body`` (name, description, enabled, extra attributes) to the domain; disabling it
    revokes its tokens."""
    with conflict_on_duplicate(f"Conflict occurred attempting to store domain - Duplicate entry for "
                               f"{body.get('name')}."), identity.db.transaction() as session:
        row = session.get(models.Domain, domain_id)
        if row is None:
            raise NotFound(f"Could not find domain: {domain_id}.")
        was_enabled = row.enabled
        for field in ("name", "description", "enabled"):
            if field in body:
                setattr(row, field, body[field])
        row.extra = {**(row.extra or {}), **_extra(body, set(_DOMAIN_FIELDS) | {"is_domain"})}
    if was_enabled and not row.enabled:
        identity.revoke(domain_id=domain_id)
    return row


def delete_domain(identity: IdentityService, domain_id: str) -> None:
    """Delete a disabled domain with everything in it (403 for the default or an enabled one)."""
    if domain_id == identity.conf.identity.default_domain_id:
        raise Forbidden("The default domain cannot be deleted.")
    row = identity.store.get_domain(domain_id)
    if row.enabled:
        raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
    with identity.db.transaction() as session:
        projects = list(session.scalars(sa.select(models.Project.id).where(models.Project.domain_id == domain_id)))
        users = list(session.scalars(sa.select(models.User.id).where(models.User.domain_id == domain_id)))
        groups = list(session.scalars(sa.select(models.Group.id).where(models.Group.domain_id == domain_id)))
        A = models.Assignment
        session.execute(sa.delete(A).where(sa.or_(A.target_id.in_([domain_id, *projects]),
                                                  A.actor_id.in_(users + groups))))
        session.execute(sa.delete(models.Membership).where(sa.or_(models.Membership.user_id.in_(users),
                                                                  models.Membership.group_id.in_(groups))))
        session.execute(sa.update(models.Project).where(models.Project.domain_id == domain_id)
                        .values(parent_id=None))
        for model in (models.Project, models.User, models.Group):
            session.execute(sa.delete(model).where(model.domain_id == domain_id))
        session.execute(sa.delete(models.Role).where(models.Role.domain_id == domain_id))
        session.execute(sa.delete(models.Domain).where(models.Domain.id == domain_id))


class Domains:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a domain", request=DOMAIN_CREATE, responses={201: {"type": "object", "required": ["domain"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_domain")
        body = req.context.body["domain"]
        row = models.Domain(id=body.get("id") or new_id(), name=body["name"], enabled=body.get("enabled", True),
                            description=body.get("description"), extra=_extra(body, set(_DOMAIN_FIELDS)))
        with conflict_on_duplicate(f"Conflict occurred attempting to store domain - Duplicate entry for "
                                   f"{body['name']}."), self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"domain": domain_view(row, base_url(req, self.identity.conf))}

    @schema("List domains", responses={200: {"type": "object", "required": ["domains"]}},
            query={"name": {"type": "string"}, "enabled": {"type": "string"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_domains")
        base = base_url(req, self.identity.conf)
        with self.identity.db.transaction() as session:
            rows = session.scalars(sa.select(models.Domain)).all()
        resp.media = collection(req, self.identity.conf, "domains", [domain_view(r, base) for r in rows],
                                ("name", "enabled", "id"))


class Domain:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a domain", responses={200: {"type": "object", "required": ["domain"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        row = self.identity.store.get_domain(domain_id)
        enforce(req, self.policy, "identity:get_domain", {"target_domain_id": domain_id})
        resp.media = {"domain": domain_view(row, base_url(req, self.identity.conf))}

    @schema("Update a domain", request=DOMAIN_UPDATE, responses={200: {"type": "object", "required": ["domain"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        enforce(req, self.policy, "identity:update_domain")
        row = update_domain(self.identity, domain_id, req.context.body["domain"])
        resp.media = {"domain": domain_view(row, base_url(req, self.identity.conf))}

    @schema("Delete a disabled domain with everything in it", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        enforce(req, self.policy, "identity:delete_domain")
        delete_domain(self.identity, domain_id)
        resp.status = 204


class Projects:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a project", request=PROJECT_CREATE, responses={201: {"type": "object", "required": ["project"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["project"]
        if body.get("is_domain"):  # a project acting as a domain is a domain (Keystone's is_domain)
            if body.get("domain_id") or body.get("parent_id"):
                raise Invalid("Invalid input for field/attribute project: a project acting as a domain has no "
                              "domain_id or parent_id.")
            enforce(req, self.policy, "identity:create_domain")
            row = models.Domain(id=new_id(), name=body["name"], enabled=body.get("enabled", True),
                                description=body.get("description"),
                                extra=_extra(body, set(_PROJECT_FIELDS)))
            with conflict_on_duplicate(f"Conflict occurred attempting to store project - Duplicate entry for "
                                       f"{body['name']}."), self.identity.db.transaction() as session:
                session.add(row)
            resp.status = 201
            resp.media = {"project": domain_project_view(row, base_url(req, self.identity.conf))}
            return
        enforce(req, self.policy, "identity:create_project")
        parent_id = body.get("parent_id")
        domain_id = body.get("domain_id")
        if parent_id:
            try:
                parent = self.identity.store.get_project(parent_id)
            except NotFound:
                raise Invalid(f"Invalid input for field/attribute project/parent_id. Could not find project: "
                              f"{parent_id}.") from None
            if domain_id and domain_id != parent.domain_id:
                raise Invalid("Invalid input for field/attribute project/domain_id. A project's domain must be "
                              "its parent's.")
            domain_id = parent.domain_id
        domain_id = domain_id or req.context.stratus.domain_id or self.identity.conf.identity.default_domain_id
        try:
            self.identity.store.get_domain(domain_id)
        except NotFound:
            raise Invalid(f"Invalid input for field/attribute project/domain_id. Could not find domain: "
                          f"{domain_id}.") from None
        row = models.Project(id=new_id(), name=body["name"], domain_id=domain_id, parent_id=parent_id,
                             enabled=body.get("enabled", True), description=body.get("description"),
                             tags=sorted(set(body.get("tags", []))), extra=_extra(body, set(_PROJECT_FIELDS)))
        with conflict_on_duplicate(_project_conflict(body.get("name"))), self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"project": project_view(row, base_url(req, self.identity.conf))}

    @schema("List projects", responses={200: {"type": "object", "required": ["projects"]}},
            query={k: {"type": "string"} for k in ("name", "domain_id", "parent_id", "enabled", "tags", "tags-any",
                                                   "not-tags", "not-tags-any", "is_domain")})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_projects")
        base = base_url(req, self.identity.conf)
        if str(req.get_param("is_domain") or "").lower() == "true":  # the domains, as projects
            with self.identity.db.reading() as session:
                domains = session.scalars(sa.select(models.Domain)).all()
            resp.media = collection(req, self.identity.conf, "projects",
                                    [domain_project_view(d, base) for d in domains], ("name", "enabled", "id"))
            return
        with self.identity.db.transaction() as session:
            rows = session.scalars(sa.select(models.Project)).all()
        rows = [r for r in rows if tags_match(req, set(r.tags or []))]
        resp.media = collection(req, self.identity.conf, "projects", [project_view(r, base) for r in rows],
                                ("name", "domain_id", "parent_id", "enabled", "id"))


class Project:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a project", responses={200: {"type": "object", "required": ["project"]}})
    def _domain(self, project_id: str) -> models.Domain | None:
        """The domain ``project_id`` names, if it is no project (Keystone's projects acting as domains)."""
        with self.identity.db.reading() as session:
            if session.get(models.Project, project_id) is not None:
                return None
            return session.get(models.Domain, project_id)

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:get_project", {"target_project_id": project_id})
        domain = self._domain(project_id)
        if domain is not None:
            resp.media = {"project": domain_project_view(domain, base_url(req, self.identity.conf))}
            return
        row = self.identity.store.get_project(project_id)
        resp.media = {"project": project_view(row, base_url(req, self.identity.conf))}

    @schema("Update a project", request=PROJECT_UPDATE, responses={200: {"type": "object", "required": ["project"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:update_project")
        body = req.context.body["project"]
        if self._domain(project_id) is not None:
            row = update_domain(self.identity, project_id, body)
            resp.media = {"project": domain_project_view(row, base_url(req, self.identity.conf))}
            return
        with conflict_on_duplicate(_project_conflict(body.get("name"))), self.identity.db.transaction() as session:
            row = session.get(models.Project, project_id)
            if row is None:
                raise NotFound(f"Could not find project: {project_id}.")
            was_enabled = row.enabled
            for field in ("name", "description", "enabled"):
                if field in body:
                    setattr(row, field, body[field])
            if "tags" in body:
                row.tags = sorted(set(body["tags"]))
            row.extra = {**(row.extra or {}), **_extra(body, set(_PROJECT_FIELDS))}
        if was_enabled and not row.enabled:
            self.identity.revoke(project_id=project_id)
        resp.media = {"project": project_view(row, base_url(req, self.identity.conf))}

    @schema("Delete a project without children", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:delete_project")
        if self._domain(project_id) is not None:
            delete_domain(self.identity, project_id)
            resp.status = 204
            return
        with self.identity.db.transaction() as session:
            if session.get(models.Project, project_id) is None:
                raise NotFound(f"Could not find project: {project_id}.")
            if session.scalar(sa.select(models.Project.id).where(models.Project.parent_id == project_id).limit(1)):
                raise Forbidden(f"Cannot delete the project {project_id} as it is not a leaf in the hierarchy.")
            session.execute(sa.delete(models.Assignment).where(models.Assignment.target_id == project_id))
            session.execute(sa.delete(models.Project).where(models.Project.id == project_id))
        self.identity.revoke(project_id=project_id)
        resp.status = 204


MAX_TAGS = 80
_TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "object", "required": ["tags"], "additionalProperties": False,
        "properties": {"tags": {"type": "array", "maxItems": MAX_TAGS, "uniqueItems": True, "items": _TAG}}}


def tags_match(req: falcon.Request, tags: set[str]) -> bool:
    """Keystone's tag filters: ``tags`` (all of), ``tags-any``, ``not-tags`` (not all of),
    ``not-tags-any`` (none of); each a comma-separated list."""
    def wanted(name: str) -> set[str] | None:
        value = req.get_param(name)
        return set(value.split(",")) if value else None

    every, anyof, not_every, not_any = (wanted(n) for n in ("tags", "tags-any", "not-tags", "not-tags-any"))
    return ((every is None or every <= tags) and (anyof is None or bool(anyof & tags))
            and (not_every is None or not not_every <= tags) and (not_any is None or not not_any & tags))


def _check_tag(tag: str) -> None:
    if not 1 <= len(tag) <= 255 or "," in tag or "/" in tag:
        raise Invalid(f"Invalid project tag {tag!r}: 1 to 255 characters, no ',' or '/'.")


class ProjectTags:
    """``/v3/projects/{id}/tags``: list, replace all, delete all."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("List a project's tags", responses={200: {"type": "object", "required": ["tags"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:get_project_tags", {"target_project_id": project_id})
        resp.media = {"tags": sorted(self.identity.store.get_project(project_id).tags or [])}

    @schema("Replace a project's tags", request=TAGS, responses={200: {"type": "object", "required": ["tags"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:update_project_tags")
        tags = req.context.body["tags"]
        with self.identity.db.transaction() as session:
            row = session.get(models.Project, project_id)
            if row is None:
                raise NotFound(f"Could not find project: {project_id}.")
            row.tags = sorted(set(tags))
        resp.media = {"tags": sorted(set(tags))}

    @schema("Delete all of a project's tags", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:delete_project_tags")
        with self.identity.db.transaction() as session:
            row = session.get(models.Project, project_id)
            if row is None:
                raise NotFound(f"Could not find project: {project_id}.")
            row.tags = []
        resp.status = 204


class ProjectTag:
    """``/v3/projects/{id}/tags/{tag}``: check, add, delete one tag."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Check that a project has a tag", responses={204: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str, tag: str) -> None:
        enforce(req, self.policy, "identity:get_project_tag", {"target_project_id": project_id})
        if tag not in (self.identity.store.get_project(project_id).tags or []):
            raise NotFound(f"Could not find project tag: {tag}.")
        resp.status = 204

    on_head = on_get

    @schema("Add a tag to a project", responses={201: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str, tag: str) -> None:
        enforce(req, self.policy, "identity:create_project_tag")
        _check_tag(tag)
        with self.identity.db.transaction() as session:
            row = session.get(models.Project, project_id)
            if row is None:
                raise NotFound(f"Could not find project: {project_id}.")
            tags = set(row.tags or [])
            if tag not in tags and len(tags) >= MAX_TAGS:
                raise Invalid(f"A project has at most {MAX_TAGS} tags.")
            row.tags = sorted(tags | {tag})
        resp.status = 201
        resp.set_header("Location", f"{base_url(req, self.identity.conf)}/v3/projects/{project_id}/tags/{tag}")

    @schema("Delete a tag of a project", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str, tag: str) -> None:
        enforce(req, self.policy, "identity:delete_project_tag")
        with self.identity.db.transaction() as session:
            row = session.get(models.Project, project_id)
            if row is None:
                raise NotFound(f"Could not find project: {project_id}.")
            if tag not in (row.tags or []):
                raise NotFound(f"Could not find project tag: {tag}.")
            row.tags = sorted(set(row.tags) - {tag})
        resp.status = 204
