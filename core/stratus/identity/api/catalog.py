"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``: the service catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import OperationSchema, read_json, validate
from stratus.exceptions import Invalid, NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id

REGION_FIELDS = {"id": {"type": "string", "minLength": 1, "maxLength": 255},
                 "description": {"type": ["string", "null"]},
                 "parent_region_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 255}}
SERVICE_FIELDS = {"type": {"type": "string", "minLength": 1, "maxLength": 255},
                  "name": {"type": ["string", "null"], "maxLength": 255},
                  "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"}}
ENDPOINT_FIELDS = {"service_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "interface": {"enum": ["public", "internal", "admin"]},
                   "url": {"type": "string", "minLength": 1, "pattern": "^[a-zA-Z][a-zA-Z0-9+.-]*://"},
                   "region_id": {"type": ["string", "null"], "maxLength": 255},
                   "region": {"type": ["string", "null"], "maxLength": 255}, "enabled": {"type": "boolean"}}


def _request(key: str, fields: dict, required: list[str], update: bool = False) -> dict:
    props = {k: v for k, v in fields.items() if not (update and k == "id")}
    # other attributes are kept and shown as Keystone keeps them (a region's "name", ...)
    inner: dict[str, Any] = {"type": "object", "properties": props}
    if update:
        inner["minProperties"] = 1
    else:
        inner["required"] = required
    return {"type": "object", "required": [key], "properties": {key: inner}}


def _extra(body: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in known and k != "links"}


def region_view(row: models.Region, base: str) -> dict[str, Any]:
    return {**(row.extra or {}), "id": row.id, "description": row.description or "",
            "parent_region_id": row.parent_region_id, "links": {"self": f"{base}/v3/regions/{row.id}"}}


def service_view(row: models.Service, base: str) -> dict[str, Any]:
    return {**(row.extra or {}), "id": row.id, "type": row.type, "name": row.name, "description": row.description,
            "enabled": row.enabled, "links": {"self": f"{base}/v3/services/{row.id}"}}


def endpoint_view(row: models.Endpoint, base: str) -> dict[str, Any]:
    return {**(row.extra or {}), "id": row.id, "service_id": row.service_id, "interface": row.interface, "url": row.url,
            "region_id": row.region_id, "region": row.region_id, "enabled": row.enabled,
            "links": {"self": f"{base}/v3/endpoints/{row.id}"}}


@dataclass(frozen=True)
class CatalogKind:
    """One kind of catalog entity: its table, view, request fields and reference checks."""

    key: str
    model: Any
    view: Callable[[Any, str], dict[str, Any]]
    fields: dict[str, Any]
    required: tuple[str, ...]
    filters: tuple[str, ...]
    make_row: Callable[[dict[str, Any], Any], Any]
    check: Callable[[dict[str, Any], Any], None]


def _check_region(session: Any, region_id: str | None, field: str) -> None:
    if region_id and session.get(models.Region, region_id) is None:
        raise Invalid(f"Invalid input for field/attribute {field}. Could not find region: {region_id}.")


def _check_service(session: Any, service_id: str | None) -> None:
    if service_id and session.get(models.Service, service_id) is None:
        raise Invalid(f"Invalid input for field/attribute endpoint/service_id. Could not find service: {service_id}.")


def _region_row(body: dict[str, Any], session: Any) -> models.Region:
    return models.Region(id=body.get("id") or new_id(), description=body.get("description"),
                         parent_region_id=body.get("parent_region_id"), extra=_extra(body, REGION_FIELDS))


def _service_row(body: dict[str, Any], session: Any) -> models.Service:
    return models.Service(id=new_id(), type=body["type"], name=body.get("name"),
                          description=body.get("description"), enabled=body.get("enabled", True),
                          extra=_extra(body, SERVICE_FIELDS))


def _endpoint_row(body: dict[str, Any], session: Any) -> models.Endpoint:
    return models.Endpoint(id=new_id(), service_id=body["service_id"], interface=body["interface"],
                           url=body["url"], region_id=body.get("region_id"), enabled=body.get("enabled", True),
                           extra=_extra(body, ENDPOINT_FIELDS))


def _endpoint_check(body: dict[str, Any], session: Any) -> None:
    _check_service(session, body.get("service_id"))
    if body.get("legacy_region") and session.get(models.Region, body["region_id"]) is None:
        # Keystone's old ``region`` names a region it makes if absent (``region_id`` must exist)
        session.add(models.Region(id=body["region_id"], description="", extra={}))
        session.flush()
    _check_region(session, body.get("region_id"), "endpoint/region_id")


def _region_check(body: dict[str, Any], session: Any, region_id: str | None = None) -> None:
    """The parent exists and is not the region itself or one of its descendants (400)."""
    parent = body.get("parent_region_id")
    _check_region(session, parent, "region/parent_region_id")
    own = region_id or body.get("id")
    seen = set()
    while parent and own:
        if parent == own:
            raise Invalid(f"Circular reference found: region {own} cannot be its own ancestor (through "
                          f"parent_region_id {body.get('parent_region_id')}).")
        if parent in seen:
            break
        seen.add(parent)
        row = session.get(models.Region, parent)
        parent = row.parent_region_id if row is not None else None


REGION = CatalogKind("region", models.Region, region_view, REGION_FIELDS, (), ("parent_region_id", "id"),
                     _region_row, _region_check)
SERVICE = CatalogKind("service", models.Service, service_view, SERVICE_FIELDS, ("type",), ("type", "name", "id"),
                      _service_row, lambda body, session: None)
ENDPOINT = CatalogKind("endpoint", models.Endpoint, endpoint_view, ENDPOINT_FIELDS,
                       ("service_id", "interface", "url"), ("service_id", "interface", "region_id", "id"),
                       _endpoint_row, _endpoint_check)


def _body(req: falcon.Request, request_schema: dict, key: str) -> dict[str, Any]:
    document = read_json(req)
    validate(request_schema, document)
    body = dict(document[key])
    if "region" in body:  # Keystone's old name for region_id
        if "region_id" not in body and body["region"]:
            body["region_id"], body["legacy_region"] = body["region"], True
        del body["region"]
    return body


class CatalogCollection:
    """``POST`` and ``GET /v3/{kind}s``."""

    def __init__(self, identity: Any, policy: Policy, kind: CatalogKind) -> None:
        self.identity, self.policy, self.kind = identity, policy, kind
        self.create_schema = _request(kind.key, kind.fields, list(kind.required))
        self.operation_schemas = {
            "post": OperationSchema(f"Create a {kind.key}", self.create_schema,
                                    {201: {"type": "object", "required": [kind.key]}}),
            "get": OperationSchema(f"List {kind.key}s", None, {200: {"type": "object", "required": [f"{kind.key}s"]}},
                                   {f: {"type": "string"} for f in kind.filters}),
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, f"identity:create_{self.kind.key}")
        body = _body(req, self.create_schema, self.kind.key)
        with conflict_on_duplicate(f"Conflict occurred attempting to store {self.kind.key} - Duplicate ID, "
                                   f"{body.get('id', '')}."), self.identity.db.transaction() as session:
            self.kind.check(body, session)
            body.pop("legacy_region", None)
            row = self.kind.make_row(body, session)
            session.add(row)
        resp.status = 201
        resp.media = {self.kind.key: self.kind.view(row, base_url(req, self.identity.conf))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, f"identity:list_{self.kind.key}s")
        with self.identity.db.transaction() as session:
            rows = session.scalars(sa.select(self.kind.model)).all()
        base = base_url(req, self.identity.conf)
        resp.media = collection(req, self.identity.conf, f"{self.kind.key}s",
                                [self.kind.view(r, base) for r in rows], self.kind.filters)


class CatalogItem:
    """``GET``, ``PATCH`` and ``DELETE /v3/{kind}s/{id}``."""

    def __init__(self, identity: Any, policy: Policy, kind: CatalogKind) -> None:
        self.identity, self.policy, self.kind = identity, policy, kind
        self.update_schema = _request(kind.key, kind.fields, [], update=True)
        found = {"type": "object", "required": [kind.key]}
        self.operation_schemas = {
            "get": OperationSchema(f"Show a {kind.key}", None, {200: found}),
            "patch": OperationSchema(f"Update a {kind.key}", self.update_schema, {200: found}),
            "delete": OperationSchema(f"Delete a {kind.key}", None, {204: None}),
        }
        if kind.key == "region":
            self.operation_schemas["put"] = OperationSchema("Create a region with the id given", None,
                                                            {201: found})

    def _load(self, session: Any, item_id: str) -> Any:
        row = session.get(self.kind.model, item_id)
        if row is None:
            raise NotFound(f"Could not find {self.kind.key}: {item_id}.")
        return row

    def on_get(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        enforce(req, self.policy, f"identity:get_{self.kind.key}")
        with self.identity.db.transaction() as session:
            row = self._load(session, item_id)
        resp.media = {self.kind.key: self.kind.view(row, base_url(req, self.identity.conf))}

    def on_patch(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        enforce(req, self.policy, f"identity:update_{self.kind.key}")
        body = _body(req, self.update_schema, self.kind.key)
        with self.identity.db.transaction() as session:
            row = self._load(session, item_id)
            if self.kind is REGION:
                _region_check(body, session, item_id)
            else:
                self.kind.check(body, session)
            body.pop("legacy_region", None)
            for field, value in body.items():
                if field in self.kind.fields:
                    setattr(row, field, value)
            extra = _extra(body, self.kind.fields)
            if extra:
                row.extra = {**(row.extra or {}), **extra}
        resp.media = {self.kind.key: self.kind.view(row, base_url(req, self.identity.conf))}

    def on_put(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        """``PUT /v3/regions/{id}``: create a region with the id given (Keystone's)."""
        if self.kind is not REGION:
            raise falcon.HTTPMethodNotAllowed(["GET", "PATCH", "DELETE"])
        enforce(req, self.policy, "identity:create_region")
        body = _body(req, _request("region", REGION_FIELDS, []), "region")
        if body.get("id", item_id) != item_id:
            raise Invalid(f"Invalid input for field/attribute region/id: it must be the id in the path, {item_id}.")
        body["id"] = item_id
        with conflict_on_duplicate(f"Conflict occurred attempting to store region - Duplicate ID, {item_id}."), \
                self.identity.db.transaction() as session:
            _region_check(body, session)
            row = _region_row(body, session)
            session.add(row)
        resp.status = 201
        resp.media = {"region": region_view(row, base_url(req, self.identity.conf))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, item_id: str) -> None:
        enforce(req, self.policy, f"identity:delete_{self.kind.key}")
        with conflict_on_duplicate(f"The {self.kind.key} {item_id} is still referenced (by endpoints or child "
                                   "regions) and cannot be deleted."), self.identity.db.transaction() as session:
            session.delete(self._load(session, item_id))
        resp.status = 204
