"""``/v3/policies``: policy documents (a blob and its media type) kept for other services to
fetch; Keystone stores them and does not interpret them, nor does this."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, new_id
from stratus.identity.service import IdentityService

_FIELDS = {"blob": {"type": "string"}, "type": {"type": "string", "minLength": 1, "maxLength": 255}}
CREATE = {"type": "object", "required": ["policy"], "properties": {"policy": {
    "type": "object", "required": ["blob", "type"], "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["policy"], "properties": {"policy": {
    "type": "object", "minProperties": 1, "properties": _FIELDS}}}


def _view(row: models.PolicyBlob, base: str) -> dict[str, Any]:
    return {**(row.extra or {}), "id": row.id, "type": row.type, "blob": row.blob,
            "links": {"self": f"{base}/v3/policies/{row.id}"}}


def _extra(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _FIELDS and k not in ("id", "links")}


class Policies:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Store a policy document", request=CREATE, responses={201: {"type": "object", "required": ["policy"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_policy")
        body = req.context.body["policy"]
        row = models.PolicyBlob(id=new_id(), type=body["type"], blob=body["blob"], extra=_extra(body))
        with self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"policy": _view(row, base_url(req, self.identity.conf))}

    @schema("List policy documents (type)", responses={200: {"type": "object", "required": ["policies"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_policies")
        with self.identity.db.reading() as session:
            rows = list(session.scalars(sa.select(models.PolicyBlob)))
        base = base_url(req, self.identity.conf)
        resp.media = collection(req, self.identity.conf, "policies", [_view(r, base) for r in rows], ("type", "id"))


class PolicyItem:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _find(self, session: Any, policy_id: str) -> models.PolicyBlob:
        row = session.get(models.PolicyBlob, policy_id)
        if row is None:
            raise NotFound(f"Could not find policy: {policy_id}.")
        return row

    @schema("Show a policy document", responses={200: {"type": "object", "required": ["policy"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, policy_id: str) -> None:
        enforce(req, self.policy, "identity:get_policy")
        with self.identity.db.reading() as session:
            resp.media = {"policy": _view(self._find(session, policy_id), base_url(req, self.identity.conf))}

    @schema("Update a policy document", request=UPDATE, responses={200: {"type": "object", "required": ["policy"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, policy_id: str) -> None:
        enforce(req, self.policy, "identity:update_policy")
        body = req.context.body["policy"]
        with self.identity.db.transaction() as session:
            row = self._find(session, policy_id)
            for name in _FIELDS:
                if name in body:
                    setattr(row, name, body[name])
            if _extra(body):
                row.extra = {**(row.extra or {}), **_extra(body)}
            resp.media = {"policy": _view(row, base_url(req, self.identity.conf))}

    @schema("Delete a policy document", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, policy_id: str) -> None:
        enforce(req, self.policy, "identity:delete_policy")
        with self.identity.db.transaction() as session:
            session.delete(self._find(session, policy_id))
        resp.status = 204
