"""What the networking resources share: ids, time, ownership and visibility rules."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.exceptions import Forbidden
from stratus.network import models


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


def context(req: falcon.Request) -> Any:
    return req.context.stratus


def owner_for(req: falcon.Request, body: dict[str, Any]) -> str:
    """The project a new resource belongs to: the caller's, or (administrators) the one named."""
    ctx = context(req)
    wanted = body.get("project_id") or body.get("tenant_id") or ctx.project_id
    if wanted != ctx.project_id and not ctx.is_admin:
        raise Forbidden("Only administrators may create resources in another project")
    return wanted


def network_visible(ctx: Any) -> sa.ColumnElement[bool]:
    Network = models.Network
    if ctx.is_admin:
        return sa.true()
    return sa.or_(Network.project_id == ctx.project_id, Network.shared.is_(True), Network.router_external.is_(True))


def subnet_visible(ctx: Any) -> sa.ColumnElement[bool]:
    if ctx.is_admin:
        return sa.true()
    Subnet, Network = models.Subnet, models.Network
    return sa.or_(Subnet.project_id == ctx.project_id, sa.exists().where(
        Network.id == Subnet.network_id, sa.or_(Network.shared.is_(True), Network.router_external.is_(True))))


def port_visible(ctx: Any) -> sa.ColumnElement[bool]:
    if ctx.is_admin:
        return sa.true()
    Port, Network = models.Port, models.Network
    return sa.or_(Port.project_id == ctx.project_id, sa.exists().where(
        Network.id == Port.network_id, Network.project_id == ctx.project_id))


def owns(ctx: Any, project_id: str) -> bool:
    return ctx.is_admin or ctx.project_id == project_id


def bulk_schema(single: dict[str, Any], key: str, plural: str) -> dict[str, Any]:
    """A create schema taking one resource (``{key: {...}}``) or several (``{plural: [...]}``),
    as Neutron's bulk create does."""
    item = single["properties"][key]
    return {"type": "object", "minProperties": 1, "maxProperties": 1,
            "properties": {key: item, plural: {"type": "array", "minItems": 1, "items": item}}}


def bodies(req: falcon.Request, key: str, plural: str) -> tuple[list[dict[str, Any]], bool]:
    """The resources a create asks for, and whether it was a bulk request."""
    body = req.context.body
    return (list(body[plural]), True) if plural in body else ([body[key]], False)


def integer(schema: dict[str, Any]) -> dict[str, Any]:
    """An integer attribute as Neutron's converters take it: a number, or a string of digits
    (:func:`coerce` turns it into the number and checks ``schema``'s bounds)."""
    return {"anyOf": [schema, {"type": "string", "pattern": r"^\s*-?[0-9]+\s*$"}]}


def coerce(body: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``body`` with the numeric strings of ``schemas``' attributes made numbers, each then
    checked against its integer schema (400 naming it when out of bounds)."""
    from stratus.api.validation import validate

    for name, schema in schemas.items():
        if isinstance(body.get(name), str):
            body[name] = int(body[name])
            validate({"type": "object", "properties": {name: schema}}, body)
    return body
