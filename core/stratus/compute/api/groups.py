"""``/os-server-groups`` (Nova v2.1: ``policies`` is a one-item list)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema, validate
from stratus.compute import models, quotas
from stratus.compute.api.common import bool_param, context, integer
from stratus.compute.api.microversions import at_least
from stratus.compute.instances import utcnow
from stratus.exceptions import Invalid, NotFound, QuotaExceeded

Group = models.InstanceGroup
POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")  # soft-*: 2.15
_GROUP_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s*$).+"}
CREATE = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policies"], "additionalProperties": False, "properties": {
        "name": _GROUP_NAME,
        "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"enum": list(POLICIES)}}}}}}
CREATE_V264 = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policy"], "additionalProperties": False, "properties": {
        "name": _GROUP_NAME, "policy": {"enum": list(POLICIES)},
        "rules": {"type": "object", "additionalProperties": False, "properties": {
            "max_server_per_host": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}}}}}}}


def group_view(req: falcon.Request, row: Group) -> dict[str, Any]:
    """Before 2.64 ``policies`` (a list of one) and ``metadata``; from it ``policy`` and ``rules``."""
    body: dict[str, Any] = {"id": row.uuid, "name": row.name, "members": [m.instance_uuid for m in row.members]}
    if at_least(req, "2.64"):
        body.update(policy=row.policy, rules=dict(row.rules or {}))
    else:
        body.update(policies=[row.policy], metadata={})
    if at_least(req, "2.13"):
        body.update(project_id=row.project_id, user_id=row.user_id)
    return body


def _wanted(req: falcon.Request, body: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """The policy and rules a create asks for, checked against the request's version."""
    validate(CREATE_V264 if at_least(req, "2.64") else CREATE, body)
    group = body["server_group"]
    if not at_least(req, "2.64"):
        policy = group["policies"][0]
        if policy.startswith("soft-") and not at_least(req, "2.15"):
            raise Invalid(f"Invalid input for field/attribute policies: {policy!r} needs microversion 2.15 or "
                          "later")
        return policy, {}
    rules = {k: integer(v, f"rules.{k}", 1) for k, v in (group.get("rules") or {}).items()}
    if rules and group["policy"] != "anti-affinity":
        raise Invalid("Only anti-affinity policy supports rules.")
    return group["policy"], rules


def find_group(session: Any, ctx: Any, group_id: str) -> Group:
    row = session.get(Group, group_id)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return row


class ServerGroups:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List server groups (all_projects for administrators)",
            responses={200: {"type": "object", "required": ["server_groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-server-groups:index", {"project_id": ctx.project_id})
        everyone = ctx.is_admin and bool_param("all_projects", req.params.get("all_projects", "false"))
        with self.compute.db.reading() as session:
            query = sa.select(Group).order_by(Group.created_at)
            if not everyone:
                query = query.where(Group.project_id == ctx.project_id)
            resp.media = {"server_groups": [group_view(req, g) for g in session.scalars(query)]}

    @schema("Create a server group (before 2.64 with policies: [one]; from 2.64 with policy and rules)",
            request={"type": "object"}, responses={200: {"type": "object", "required": ["server_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-server-groups:create", {"project_id": ctx.project_id})
        policy, rules = _wanted(req, req.context.body)
        body = req.context.body["server_group"]
        with self.compute.db.transaction() as session:
            limit = quotas.limits(session, self.compute.conf, ctx.project_id)["server_groups"]
            quotas.lock(self.compute.db, session, ctx.project_id)
            count = session.scalar(sa.select(sa.func.count()).select_from(Group)
                                   .where(Group.project_id == ctx.project_id))
            if 0 <= limit <= count:
                raise QuotaExceeded("Quota exceeded, too many server groups.")
            row = Group(uuid=str(uuidlib.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                        name=body["name"], policy=policy, rules=rules, created_at=utcnow(), members=[])
            session.add(row)
            session.flush()
            resp.media = {"server_group": group_view(req, row)}


class ServerGroupItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a server group", responses={200: {"type": "object", "required": ["server_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        ctx = context(req)
        with self.compute.db.reading() as session:
            row = find_group(session, ctx, group_id)
            enforce(req, self.policy, "os_compute_api:os-server-groups:show", {"project_id": row.project_id})
            resp.media = {"server_group": group_view(req, row)}

    @schema("Delete a server group (its servers stay)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        ctx = context(req)
        with self.compute.db.transaction() as session:
            row = find_group(session, ctx, group_id)
            enforce(req, self.policy, "os_compute_api:os-server-groups:delete", {"project_id": row.project_id})
            session.delete(row)
        resp.status = 204
