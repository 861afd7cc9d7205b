"""Unified limits (Keystone's ``/v3/registered_limits``, ``/v3/limits``, ``/v3/limits/model``):
a service registers a default limit per resource (and region), a project or domain may get
its own. The enforcement model is ``flat``: a project's limit does not depend on its
parent's. Every authenticated user reads registered limits and the limits of their own
project or domain; administrators write them.

Stratus's services do not yet read their quotas from here (compute and image keep their
own quota settings): this is the store and API that oslo.limit-based consumers read.
"""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id
from stratus.identity.service import IdentityService

_LIMIT = {"type": "integer", "minimum": -1, "maximum": 0x7FFFFFFF}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_DESCRIPTION = {"type": ["string", "null"]}
_REGISTERED = {"service_id": {"type": "string", "minLength": 1, "maxLength": 64},
               "region_id": {"type": ["string", "null"], "maxLength": 255}, "resource_name": _NAME,
               "default_limit": _LIMIT, "description": _DESCRIPTION}
REGISTERED_CREATE = {"type": "object", "required": ["registered_limits"], "properties": {"registered_limits": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["service_id", "resource_name", "default_limit"],
        "additionalProperties": False, "properties": _REGISTERED}}}}
REGISTERED_UPDATE = {"type": "object", "required": ["registered_limit"], "properties": {"registered_limit": {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "properties": {**_REGISTERED, "id": {"type": "string"}}}}}
_LIMIT_FIELDS = {"service_id": _REGISTERED["service_id"], "region_id": _REGISTERED["region_id"],
                 "resource_name": _NAME, "resource_limit": _LIMIT, "description": _DESCRIPTION,
                 "project_id": {"type": ["string", "null"]}, "domain_id": {"type": ["string", "null"]}}
LIMITS_CREATE = {"type": "object", "required": ["limits"], "properties": {"limits": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["service_id", "resource_name", "resource_limit"],
        "additionalProperties": False, "properties": _LIMIT_FIELDS}}}}
LIMIT_UPDATE = {"type": "object", "required": ["limit"], "properties": {"limit": {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "properties": {"resource_limit": _LIMIT, "description": _DESCRIPTION, "id": {"type": "string"}}}}}
MODEL = {"name": "flat", "description": "Limit enforcement and validation does not take project hierarchy into "
                                        "consideration."}
OBJECT = {"type": "object"}


def registered_view(row: models.RegisteredLimit, base: str) -> dict[str, Any]:
    return {"id": row.id, "service_id": row.service_id, "region_id": row.region_id,
            "resource_name": row.resource_name, "default_limit": row.default_limit, "description": row.description,
            "links": {"self": f"{base}/v3/registered_limits/{row.id}"}}


def limit_view(row: models.Limit, base: str) -> dict[str, Any]:
    registered = row.registered
    return {"id": row.id, "project_id": row.project_id, "domain_id": row.domain_id,
            "service_id": registered.service_id, "region_id": registered.region_id,
            "resource_name": registered.resource_name, "resource_limit": row.resource_limit,
            "description": row.description, "links": {"self": f"{base}/v3/limits/{row.id}"}}


def _invalid(field: str, target: str) -> Invalid:
    return Invalid(f"Invalid input for field/attribute {target}/{field}: it names nothing that exists.")


def _check_references(session: Any, body: dict[str, Any], target: str) -> None:
    if body.get("service_id") is not None and session.get(models.Service, body["service_id"]) is None:
        raise _invalid("service_id", target)
    if body.get("region_id") is not None and session.get(models.Region, body["region_id"]) is None:
        raise _invalid("region_id", target)


def _registered_duplicate(session: Any, body: dict[str, Any], own_id: str | None = None) -> None:
    R = models.RegisteredLimit
    region = R.region_id.is_(None) if body.get("region_id") is None else R.region_id == body["region_id"]
    found = session.scalars(sa.select(R.id).where(R.service_id == body["service_id"],
                                                  R.resource_name == body["resource_name"], region,
                                                  R.id != (own_id or ""))).first()
    if found is not None:
        raise Conflict(f"Conflict occurred attempting to store registered_limit - Duplicate entry: {found} already "
                       f"limits {body['resource_name']} of service {body['service_id']} in region "
                       f"{body.get('region_id')}.")


def _referenced(session: Any, registered_id: str) -> None:
    if session.scalars(sa.select(models.Limit.id).where(models.Limit.registered_limit_id == registered_id)).first():
        raise Forbidden(f"Unable to update or delete registered limit {registered_id} because there are project "
                        "limits associated with it.")


def _find(session: Any, model: Any, item_id: str, kind: str) -> Any:
    row = session.get(model, item_id)
    if row is None:
        raise NotFound(f"Could not find {kind}: {item_id}.")
    return row


class _Resource:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def base(self, req: falcon.Request) -> str:
        return base_url(req, self.identity.conf)


class RegisteredLimits(_Resource):
    @schema("Register default limits (several at once: all or none)", request=REGISTERED_CREATE,
            responses={201: OBJECT})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_registered_limits")
        with self.identity.db.transaction() as session:
            rows = []
            for body in req.context.body["registered_limits"]:
                _check_references(session, body, "registered_limit")
                _registered_duplicate(session, body)
                row = models.RegisteredLimit(id=new_id(), service_id=body["service_id"],
                                             region_id=body.get("region_id"), resource_name=body["resource_name"],
                                             default_limit=body["default_limit"], description=body.get("description"))
                session.add(row)
                session.flush()
                rows.append(row)
            shown = [registered_view(r, self.base(req)) for r in rows]
        resp.status = 201
        resp.media = {"registered_limits": shown}

    @schema("List registered limits (service_id, region_id, resource_name)", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_registered_limits")
        with self.identity.db.reading() as session:
            rows = list(session.scalars(sa.select(models.RegisteredLimit)))
        base = self.base(req)
        resp.media = collection(req, self.identity.conf, "registered_limits", [registered_view(r, base) for r in rows],
                                ("service_id", "region_id", "resource_name"))


class RegisteredLimitItem(_Resource):
    @schema("Show a registered limit", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, registered_limit_id: str) -> None:
        enforce(req, self.policy, "identity:get_registered_limit")
        with self.identity.db.reading() as session:
            row = _find(session, models.RegisteredLimit, registered_limit_id, "registered limit")
            resp.media = {"registered_limit": registered_view(row, self.base(req))}

    @schema("Update a registered limit no project limit refers to", request=REGISTERED_UPDATE,
            responses={200: OBJECT})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, registered_limit_id: str) -> None:
        enforce(req, self.policy, "identity:update_registered_limit")
        body = dict(req.context.body["registered_limit"])
        if body.pop("id", registered_limit_id) != registered_limit_id:
            raise Invalid("Invalid input for field/attribute registered_limit/id: it must be the id in the path.")
        with self.identity.db.transaction() as session:
            row = _find(session, models.RegisteredLimit, registered_limit_id, "registered limit")
            _referenced(session, row.id)
            _check_references(session, body, "registered_limit")
            merged = {"service_id": row.service_id, "region_id": row.region_id,
                      "resource_name": row.resource_name, **body}
            _registered_duplicate(session, merged, row.id)
            for name, value in body.items():
                setattr(row, name, value)
            resp.media = {"registered_limit": registered_view(row, self.base(req))}

    @schema("Delete a registered limit no project limit refers to", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, registered_limit_id: str) -> None:
        enforce(req, self.policy, "identity:delete_registered_limit")
        with self.identity.db.transaction() as session:
            row = _find(session, models.RegisteredLimit, registered_limit_id, "registered limit")
            _referenced(session, row.id)
            session.delete(row)
        resp.status = 204


class Limits(_Resource):
    @schema("Set projects' or domains' own limits (several at once: all or none)", request=LIMITS_CREATE,
            responses={201: OBJECT})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_limits")
        R, L = models.RegisteredLimit, models.Limit
        with conflict_on_duplicate("Conflict occurred attempting to store limit - Duplicate entry."), \
                self.identity.db.transaction() as session:
            rows = []
            for body in req.context.body["limits"]:
                _check_references(session, body, "limit")
                project_id, domain_id = body.get("project_id"), body.get("domain_id")
                if project_id:
                    project = session.get(models.Project, project_id)
                    if project is None:
                        if session.get(models.Domain, project_id) is None:
                            raise _invalid("project_id", "limit")
                        project_id, domain_id = None, project_id  # a project acting as a domain: a domain limit
                if domain_id and session.get(models.Domain, domain_id) is None:
                    raise _invalid("domain_id", "limit")
                if bool(project_id) == bool(domain_id):
                    raise Invalid("Invalid input for field/attribute limit: give exactly one of project_id and "
                                  "domain_id.")
                region = R.region_id.is_(None) if body.get("region_id") is None else R.region_id == body["region_id"]
                registered = session.scalars(sa.select(R).where(R.service_id == body["service_id"],
                                                                R.resource_name == body["resource_name"],
                                                                region)).first()
                if registered is None:
                    raise Forbidden("Unable to create a limit that has no corresponding registered limit.")
                owner = L.project_id == project_id if project_id else L.domain_id == domain_id
                if session.scalars(sa.select(L.id).where(L.registered_limit_id == registered.id, owner)).first():
                    raise Conflict(f"Conflict occurred attempting to store limit - Duplicate entry: "
                                   f"{project_id or domain_id} already has a limit on {body['resource_name']}.")
                row = L(id=new_id(), registered_limit_id=registered.id, project_id=project_id, domain_id=domain_id,
                        resource_limit=body["resource_limit"], description=body.get("description"))
                session.add(row)
                session.flush()
                session.refresh(row)
                rows.append(row)
            shown = [limit_view(r, self.base(req)) for r in rows]
        resp.status = 201
        resp.media = {"limits": shown}

    @schema("List limits: all (administrators), else one's project's or domain's", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_limits")
        ctx = req.context.stratus
        L = models.Limit
        query = sa.select(L)
        if not (ctx.is_admin or ctx.system_scope or "service" in ctx.roles):
            if ctx.domain_id:
                in_domain = sa.select(models.Project.id).where(models.Project.domain_id == ctx.domain_id)
                query = query.where(sa.or_(L.domain_id == ctx.domain_id, L.project_id.in_(in_domain)))
            else:
                query = query.where(L.project_id == (ctx.project_id or ""))
        with self.identity.db.reading() as session:
            base = self.base(req)
            shown = [limit_view(r, base) for r in session.scalars(query)]
        resp.media = collection(req, self.identity.conf, "limits", shown,
                                ("service_id", "region_id", "resource_name", "project_id", "domain_id"))


class LimitItem(_Resource):
    @schema("Show a limit (administrators, or members of its project or domain)", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response, limit_id: str) -> None:
        with self.identity.db.reading() as session:
            row = _find(session, models.Limit, limit_id, "limit")
            target = {"target_project_id": row.project_id or "", "target_domain_id": row.domain_id or ""}
            if row.project_id:
                project = session.get(models.Project, row.project_id)
                target["target_domain_id"] = project.domain_id if project else ""
            enforce(req, self.policy, "identity:get_limit", target)
            resp.media = {"limit": limit_view(row, self.base(req))}

    @schema("Update a limit's value or description", request=LIMIT_UPDATE, responses={200: OBJECT})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, limit_id: str) -> None:
        enforce(req, self.policy, "identity:update_limit")
        body = dict(req.context.body["limit"])
        if body.pop("id", limit_id) != limit_id:
            raise Invalid("Invalid input for field/attribute limit/id: it must be the id in the path.")
        with self.identity.db.transaction() as session:
            row = _find(session, models.Limit, limit_id, "limit")
            for name, value in body.items():
                setattr(row, name, value)
            resp.media = {"limit": limit_view(row, self.base(req))}

    @schema("Delete a limit", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, limit_id: str) -> None:
        enforce(req, self.policy, "identity:delete_limit")
        with self.identity.db.transaction() as session:
            session.delete(_find(session, models.Limit, limit_id, "limit"))
        resp.status = 204


class LimitModel:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @schema("The limit enforcement model", responses={200: OBJECT})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:get_limit_model")
        resp.media = {"model": MODEL}


def add_routes(app: Any, identity: IdentityService, policy: Policy) -> None:
    app.add_route("/v3/registered_limits", RegisteredLimits(identity, policy))
    app.add_route("/v3/registered_limits/{registered_limit_id}", RegisteredLimitItem(identity, policy))
    app.add_route("/v3/limits", Limits(identity, policy))
    app.add_route("/v3/limits/model", LimitModel(policy))
    app.add_route("/v3/limits/{limit_id}", LimitItem(identity, policy))
