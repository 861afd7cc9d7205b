"""``/os-server-groups`` (Nova v2.1: ``policies`` is a one-item list)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas
from stratus.compute.api.common import bool_param, context
from stratus.compute.api.microversions import at_least
from stratus.compute.manager import utcnow
from stratus.exceptions import Invalid, NotFound, QuotaExceeded

Group = models.InstanceGroup
POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")  # soft-*: 2.15
CREATE = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policies"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s*$).+"},
        "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"enum": list(POLICIES)}}}}}}


def group_view(req: falcon.Request, row: Group) -> dict[str, Any]:
    body = {"id": row.uuid, "name": row.name, "policies": [row.policy],
            "members": [m.instance_uuid for m in row.members], "metadata": {}}
    if at_least(req, "2.13"):
        body.update(project_id=row.project_id, user_id=row.user_id)
    return body


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
        with self.compute.db.transaction() as session:
            query = sa.select(Group).order_by(Group.created_at)
            if not everyone:
                query = query.where(Group.project_id == ctx.project_id)
            resp.media = {"server_groups": [group_view(req, g) for g in session.scalars(query)]}

    @schema("Create a server group", request=CREATE, responses={200: {"type": "object", "required": ["server_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-server-groups:create", {"project_id": ctx.project_id})
        body = req.context.body["server_group"]
        if body["policies"][0].startswith("soft-") and not at_least(req, "2.15"):
            raise Invalid(f"Invalid input for field/attribute policies: {body['policies'][0]!r} needs microversion "
                          "2.15 or later")
        with self.compute.db.transaction() as session:
            limit = quotas.limits(session, self.compute.conf, ctx.project_id)["server_groups"]
            quotas.lock(self.compute.db, session, ctx.project_id)
            count = session.scalar(sa.select(sa.func.count()).select_from(Group)
                                   .where(Group.project_id == ctx.project_id))
            if 0 <= limit <= count:
                raise QuotaExceeded("Quota exceeded, too many server groups.")
            row = Group(uuid=str(uuidlib.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                        name=body["name"], policy=body["policies"][0], created_at=utcnow(), members=[])
            session.add(row)
            session.flush()
            resp.media = {"server_group": group_view(req, row)}


class ServerGroupItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a server group", responses={200: {"type": "object", "required": ["server_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        ctx = context(req)
        with self.compute.db.transaction() as session:
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
