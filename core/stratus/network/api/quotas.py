"""``/v2.0/quotas``: per-project limits (administrators set them; a project reads its own)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden
from stratus.network import models, quotas
from stratus.network.api import common
from stratus.network.service import NetworkService

_LIMIT = {"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1}  # Neutron's database column
UPDATE = {"type": "object", "required": ["quota"], "properties": {"quota": {
    "type": "object", "additionalProperties": False,
    "properties": {resource: common.integer(_LIMIT) for resource in quotas.MODELS}}}}


def _readable(req: falcon.Request, policy: Policy, project_id: str) -> None:
    ctx = common.context(req)
    if not ctx.is_admin and ctx.project_id != project_id:
        raise Forbidden("Only administrators may see another project's quotas.")
    enforce(req, policy, "network:get_quota", {"project_id": project_id})


def _document(project_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": project_id, "tenant_id": project_id, **values}


class Quotas:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List the projects whose quotas differ from the defaults", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_quotas")
        with self.service.db.transaction() as session:
            projects = sorted(set(session.scalars(sa.select(models.Quota.project_id))))
            resp.media = {"quotas": [_document(p, quotas.limits(session, self.service.conf, p)) for p in projects]}


class ProjectQuota:
    def __init__(self, service: NetworkService, policy: Policy, view: str = "") -> None:
        self.service, self.policy, self.view = service, policy, view

    @schema("Show a project's quotas (/default: the defaults; /details: limits and usage)",
            responses={200: {"type": "object", "required": ["quota"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        _readable(req, self.policy, project_id)
        conf = self.service.conf
        with self.service.db.transaction() as session:
            if self.view == "default":
                values: dict[str, Any] = quotas.defaults(conf)
            elif self.view == "details":
                values = {r: {"limit": limit, "used": quotas.used(session, r, project_id), "reserved": 0}
                          for r, limit in quotas.limits(session, conf, project_id).items()}
            else:
                values = quotas.limits(session, conf, project_id)
        resp.media = {"quota": _document(project_id, values) if self.view != "details" else values}

    @schema("Set a project's quotas (administrators)", request=UPDATE,
            responses={200: {"type": "object", "required": ["quota"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "network:update_quota")
        with self.service.db.transaction() as session:
            wanted = common.coerce(req.context.body["quota"], dict.fromkeys(req.context.body["quota"], _LIMIT))
            for resource, limit in wanted.items():
                row = session.get(models.Quota, (project_id, resource))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=resource, limit=limit))
                else:
                    row.limit = limit
            session.flush()
            resp.media = {"quota": _document(project_id, quotas.limits(session, self.service.conf, project_id))}

    @schema("Reset a project's quotas to the defaults (administrators)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "network:delete_quota")
        with self.service.db.transaction() as session:
            session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
        resp.status = 204
