"""``/flavors``, ``/flavors/detail``, ``os-extra_specs``, ``os-flavor-access`` (Nova v2.1)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import falcon
import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import extra_specs, models
from stratus.compute.api.common import BOOLEAN, bool_param, boolean, context, int_param, integer, links, page_links
from stratus.compute.api.microversions import at_least, unexpected_before
from stratus.compute.service import ComputeService
from stratus.db import paging
from stratus.db.engine import insert_unless_taken
from stratus.exceptions import Conflict, Invalid, NotFound

Flavor = models.Flavor
_ID = r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"
_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]+(?<! )$"}
_DESCRIPTION = {"type": ["string", "null"], "maxLength": 65535, "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"}
_POSITIVE = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1, "maximum": 2 ** 31 - 1}
_NON_NEGATIVE = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 0, "maximum": 2 ** 31 - 1}
CREATE = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["name", "ram", "vcpus", "disk"], "additionalProperties": False, "properties": {
        "name": _NAME,
        "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255, "pattern": _ID},
        "ram": _POSITIVE, "vcpus": _POSITIVE, "disk": _NON_NEGATIVE,
        "OS-FLV-EXT-DATA:ephemeral": _NON_NEGATIVE, "swap": _NON_NEGATIVE,
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$", "exclusiveMinimum": 0,
                        "maximum": 3.40282e+38},
        "os-flavor-access:is_public": BOOLEAN, "description": _DESCRIPTION}}}}
UPDATE = {"type": "object", "required": ["flavor"], "additionalProperties": False, "properties": {"flavor": {
    "type": "object", "required": ["description"], "additionalProperties": False, "properties": {
        "description": _DESCRIPTION}}}}
_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9-_:. /]+$"}
_VALUE = {"type": ["string", "integer", "number", "boolean"], "maxLength": 255}
EXTRA_SPECS = {"type": "object", "required": ["extra_specs"], "additionalProperties": False, "properties": {
    "extra_specs": {"type": "object", "minProperties": 1, "propertyNames": _KEY,
                    "additionalProperties": _VALUE}}}
ONE_SPEC = {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": _KEY,
            "additionalProperties": _VALUE}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
    "addTenantAccess": {"type": "object", "required": ["tenant"], "properties": {
        "tenant": {"type": "string", "minLength": 1, "maxLength": 255}}},
    "removeTenantAccess": {"type": "object", "required": ["tenant"], "properties": {
        "tenant": {"type": "string", "minLength": 1, "maxLength": 255}}}}}
SORT_KEYS = {"flavorid": Flavor.flavorid, "id": Flavor.flavorid, "name": Flavor.name, "memory_mb": Flavor.memory_mb,
             "vcpus": Flavor.vcpus, "root_gb": Flavor.root_gb, "created_at": Flavor.created_at,
             "swap": Flavor.swap, "rxtx_factor": Flavor.rxtx_factor, "ephemeral_gb": Flavor.ephemeral_gb}


def view(req: falcon.Request, conf: Any, row: Flavor, detail: bool = True,
         specs_visible: bool = False) -> dict[str, Any]:
    """A flavor as the request's microversion shows it; ``specs_visible``: the caller may
    read extra specs (shown in detailed views from 2.61)."""
    body: dict[str, Any] = {"id": row.flavorid, "name": row.name,
                            "links": links(req, conf, "flavors", row.flavorid)}
    if detail:
        body.update({"ram": row.memory_mb, "disk": row.root_gb, "vcpus": row.vcpus,
                     "OS-FLV-EXT-DATA:ephemeral": row.ephemeral_gb, "OS-FLV-DISABLED:disabled": row.disabled,
                     "swap": row.swap or (0 if at_least(req, "2.75") else ""), "rxtx_factor": row.rxtx_factor,
                     "os-flavor-access:is_public": row.is_public})
    if at_least(req, "2.55"):
        body["description"] = row.description
    if detail and specs_visible and at_least(req, "2.61"):
        body["extra_specs"] = {s.key: s.value for s in row.extra_specs}
    return body


def specs_visible(req: falcon.Request, policy: Policy) -> bool:
    """Whether policy lets the caller read flavors' extra specs."""
    return policy.allows(req.context.stratus, "os_compute_api:os-flavor-extra-specs:index")


def _visible_to(project: Any) -> sa.ColumnElement[bool]:
    return sa.or_(Flavor.is_public.is_(True), sa.exists().where(
        models.FlavorProject.flavor_id == Flavor.id, models.FlavorProject.project_id == project))


def visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else _visible_to(ctx.project_id)


#: a flavor by id, as an administrator and as a project sees flavors (every boot reads one):
#: built once; the projects of a private flavor only when asked for (a boot never does)
_FIND_ANY = sa.select(Flavor).where(Flavor.flavorid == sa.bindparam("b_flavor")).options(lazyload(Flavor.projects))
_FIND_VISIBLE = _FIND_ANY.where(_visible_to(sa.bindparam("b_project")))


def find(session: Any, req: falcon.Request, flavor_id: str) -> Flavor:
    ctx = context(req)
    asked = {"b_flavor": flavor_id}
    if ctx.is_admin:
        statement = _FIND_ANY
    else:
        statement, asked["b_project"] = _FIND_VISIBLE, ctx.project_id
    row = session.scalars(statement, asked).first()
    if row is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return row


def embedded(row: Flavor) -> dict[str, Any]:
    """The flavor as a server keeps it (Nova copies it into the server: later changes to
    the flavor do not change servers)."""
    return {"id": row.flavorid, "original_name": row.name, "vcpus": row.vcpus, "ram": row.memory_mb,
            "disk": row.root_gb, "ephemeral": row.ephemeral_gb, "swap": row.swap,
            "extra_specs": {s.key: s.value for s in row.extra_specs}}


class Flavors:
    def __init__(self, service: ComputeService, policy: Policy, detail: bool) -> None:
        self.service, self.policy, self.detail = service, policy, detail

    @schema("List flavors (minRam, minDisk, is_public, sort_key, sort_dir, limit, marker)",
            responses={200: {"type": "object", "required": ["flavors"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        where = [visible(ctx)]
        if "minRam" in req.params:
            where.append(Flavor.memory_mb >= int_param(req, "minRam"))
        if "minDisk" in req.params:
            where.append(Flavor.root_gb >= int_param(req, "minDisk"))
        public = req.params.get("is_public", "true")
        if ctx.is_admin:
            if str(public).lower() != "none":
                where.append(Flavor.is_public.is_(bool_param("is_public", public)))
        elif str(public).lower() != "none" and not bool_param("is_public", public):
            where.append(Flavor.is_public.is_(False))
        sort_key, sort_dir = req.params.get("sort_key", "flavorid"), req.params.get("sort_dir", "asc")
        if sort_key not in SORT_KEYS or sort_dir not in ("asc", "desc"):
            raise Invalid(f"Invalid sort_key {sort_key} or sort_dir {sort_dir}")
        keys = paging.sort_keys([(sort_key, SORT_KEYS[sort_key], sort_dir == "asc", False)],
                                ("flavorid", Flavor.flavorid))
        limit = int_param(req, "limit") if "limit" in req.params else None
        with self.service.db.reading() as session:
            query = sa.select(Flavor).where(*where)
            marker = req.params.get("marker")
            if marker is not None:
                row = session.scalars(sa.select(Flavor).where(Flavor.flavorid == marker, visible(ctx))).first()
                if row is None:
                    raise Invalid(f"marker [{marker}] not found")
                query = query.where(paging.after(keys, row))
            rows = list(session.scalars(query.order_by(*paging.order_by(keys)).limit(limit)))
            shown = specs_visible(req, self.policy)
            body: dict[str, Any] = {"flavors": [view(req, self.service.conf, r, self.detail, shown) for r in rows]}
        if limit is not None and len(rows) == limit and rows:
            body["flavors_links"] = page_links(req, rows[-1].flavorid)
        resp.media = body

    @schema("Create a flavor (administrators)", request=CREATE,
            responses={200: {"type": "object", "required": ["flavor"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-manage:create")
        body = req.context.body["flavor"]
        unexpected_before(req, "2.55", body, "description")
        flavor_id = body.get("id")
        if flavor_id in (None, "auto"):
            flavor_id = str(uuid.uuid4())
        elif isinstance(flavor_id, (int, float)):
            if not float(flavor_id).is_integer() or flavor_id < 0:  # 1.5 or -1 do not fit Nova's id pattern
                raise Invalid(f"Invalid input for field/attribute id. Value: {flavor_id}. "
                              f"'{flavor_id}' does not match '{_ID}'")
            flavor_id = str(int(flavor_id))
        rxtx = body.get("rxtx_factor", 1.0)
        try:
            rxtx = float(rxtx)
        except ValueError:
            raise Invalid(f"Invalid input for field/attribute rxtx_factor. Value: {rxtx}.") from None
        row = Flavor(flavorid=flavor_id, name=body["name"], memory_mb=integer(body["ram"], "ram", 1),
                     vcpus=integer(body["vcpus"], "vcpus", 1), root_gb=integer(body["disk"], "disk", 0),
                     ephemeral_gb=integer(body.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0),
                     swap=integer(body.get("swap") or 0, "swap", 0), rxtx_factor=rxtx,
                     is_public=boolean(body.get("os-flavor-access:is_public", True)), disabled=False,
                     description=body.get("description"),
                     created_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
        with self.service.db.transaction() as session:
            if session.scalar(sa.select(Flavor.id).where(Flavor.name == row.name)):
                raise Conflict(f"Flavor with name {row.name} already exists.")
            if session.scalar(sa.select(Flavor.id).where(Flavor.flavorid == row.flavorid)):
                raise Conflict(f"Flavor with ID {row.flavorid} already exists.")
            if not insert_unless_taken(session, row):
                raise Conflict(f"Flavor with name {row.name} or ID {row.flavorid} already exists.")
            resp.media = {"flavor": view(req, self.service.conf, row, True, specs_visible(req, self.policy))}


class FlavorItem:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a flavor", responses={200: {"type": "object", "required": ["flavor"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        with self.service.db.reading() as session:
            resp.media = {"flavor": view(req, self.service.conf, find(session, req, flavor_id), True,
                                         specs_visible(req, self.policy))}

    @schema("Change a flavor's description (2.55, administrators)", request=UPDATE,
            responses={200: {"type": "object", "required": ["flavor"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        if not at_least(req, "2.55"):
            raise NotFound("The resource could not be found (it needs microversion 2.55 or later).")
        enforce(req, self.policy, "os_compute_api:os-flavor-manage:update")
        with self.service.db.transaction() as session:
            row = find(session, req, flavor_id)
            row.description = req.context.body["flavor"]["description"]
            session.flush()
            resp.media = {"flavor": view(req, self.service.conf, row, True, specs_visible(req, self.policy))}

    @schema("Delete a flavor (administrators)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-manage:delete")
        with self.service.db.transaction() as session:
            session.delete(find(session, req, flavor_id))
        resp.status = 202


class ExtraSpecs:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List a flavor's extra specs", responses={200: {"type": "object", "required": ["extra_specs"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-extra-specs:index")
        with self.service.db.reading() as session:
            row = find(session, req, flavor_id)
            resp.media = {"extra_specs": {s.key: s.value for s in row.extra_specs}}

    @schema("Add or replace extra specs (administrators)", request=EXTRA_SPECS,
            responses={200: {"type": "object", "required": ["extra_specs"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-extra-specs:create")
        specs = {k: _spec_value(v) for k, v in req.context.body["extra_specs"].items()}
        _validate(req, specs)
        with self.service.db.transaction() as session:
            row = find(session, req, flavor_id)
            _merge(row, specs)
        resp.media = {"extra_specs": specs}


def _validate(req: falcon.Request, specs: dict[str, str]) -> None:
    """From 2.86 extra specs in namespaces Nova knows must be keys and values it knows."""
    if at_least(req, "2.86"):
        for key, value in specs.items():
            extra_specs.validate(key, value)


def _spec_value(value: Any) -> str:
    return str(value)


def _merge(row: Flavor, specs: dict[str, str]) -> None:
    current = {s.key: s for s in row.extra_specs}
    for key, value in specs.items():
        if key in current:
            current[key].value = value
        else:
            row.extra_specs.append(models.FlavorExtraSpec(key=key, value=value))


class ExtraSpec:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show one extra spec", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-extra-specs:show")
        with self.service.db.reading() as session:
            spec = next((s for s in find(session, req, flavor_id).extra_specs if s.key == key), None)
            if spec is None:
                raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
            resp.media = {key: spec.value}

    @schema("Set one extra spec (administrators)", request=ONE_SPEC, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-extra-specs:update")
        body = req.context.body
        if key not in body:
            raise Invalid("Request body and URI mismatch")
        value = _spec_value(body[key])
        _validate(req, {key: value})
        with self.service.db.transaction() as session:
            _merge(find(session, req, flavor_id), {key: value})
        resp.media = {key: value}

    @schema("Delete one extra spec (administrators)", responses={200: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-extra-specs:delete")
        with self.service.db.transaction() as session:
            row = find(session, req, flavor_id)
            spec = next((s for s in row.extra_specs if s.key == key), None)
            if spec is None:
                raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
            row.extra_specs.remove(spec)


def _access(row: Flavor) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": row.flavorid, "tenant_id": p.project_id} for p in row.projects]}


class FlavorAccess:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List the projects with access to a private flavor", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-flavor-access")
        with self.service.db.reading() as session:
            row = find(session, req, flavor_id)
            if row.is_public:
                raise NotFound("Access list not available for public flavors.")
            resp.media = _access(row)


class FlavorAction:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("addTenantAccess / removeTenantAccess (administrators)", request=ACTION,
            responses={200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        body = req.context.body
        adding = "addTenantAccess" in body
        if not adding and "removeTenantAccess" not in body:
            raise Invalid(f"Unknown flavor action {', '.join(body)}")
        enforce(req, self.policy, "os_compute_api:os-flavor-access:" + ("add_tenant_access" if adding
                                                                         else "remove_tenant_access"))
        project = body["addTenantAccess" if adding else "removeTenantAccess"]["tenant"]
        if adding:
            self.service.verify_project(project, context(req))
        with self.service.db.transaction() as session:
            row = find(session, req, flavor_id)
            if row.is_public and adding and at_least(req, "2.7"):
                raise Conflict("Can not add access to a public flavor.")
            held = next((p for p in row.projects if p.project_id == project), None)
            if adding and held is not None:
                raise Conflict(f"Flavor access already exists for flavor {flavor_id} and project {project} "
                               "combination.")
            if not adding and held is None:
                raise NotFound(f"Flavor access not found for {flavor_id} / {project} combination.")
            if adding:
                row.projects.append(models.FlavorProject(project_id=project))
            else:
                row.projects.remove(held)
            session.flush()
            resp.media = _access(row)
