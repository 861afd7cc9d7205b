"""``/v3/{project_id}/os-volume-transfer``: give a volume to another project (see
:mod:`stratus.volume.transfers`)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.volume import models
from stratus.volume.api.common import boolean, context, isotime, links
from stratus.volume.service import VolumeService
from stratus.volume.transfers import Transfers

CREATE = {"type": "object", "required": ["transfer"], "properties": {"transfer": {
    "type": "object", "required": ["volume_id"], "properties": {
        "volume_id": {"type": "string", "minLength": 1, "maxLength": 36},
        "name": {"type": ["string", "null"], "maxLength": 255}}, "additionalProperties": False}}}
ACCEPT = {"type": "object", "required": ["accept"], "properties": {"accept": {
    "type": "object", "required": ["auth_key"], "properties": {"auth_key": {"type": "string", "maxLength": 255}},
    "additionalProperties": False}}}


def view(req: falcon.Request, conf: Any, transfer: models.Transfer, detail: bool = True) -> dict[str, Any]:
    body = {"id": transfer.id, "name": transfer.name, "volume_id": transfer.volume_id,
            "links": links(req, conf, "os-volume-transfer", transfer.id)}
    if detail:
        body["created_at"] = isotime(transfer.created_at)
    return body


class TransferList:
    def __init__(self, service: VolumeService, policy: Policy, detail: bool) -> None:
        self.service, self.policy, self.detail = service, policy, detail
        self.flow = Transfers(service)

    @schema("The transfers the project offers", responses={200: {"type": "object", "required": ["transfers"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume:get_all_transfers", {"project_id": ctx.project_id})
        query = sa.select(models.Transfer).order_by(models.Transfer.created_at, models.Transfer.id)
        if not (ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0")):
            query = query.where(models.Transfer.project_id == ctx.project_id)
        with self.service.db.reading() as session:
            resp.media = {"transfers": [view(req, self.service.conf, t, self.detail) for t in session.scalars(query)]}

    @schema("Offer an available volume to another project; the key is shown only here", request=CREATE,
            responses={202: {"type": "object", "required": ["transfer"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        body = req.context.body["transfer"]
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, body["volume_id"])
            enforce(req, self.policy, "volume:create_transfer", {"project_id": volume.project_id})
        transfer, key = self.flow.create(ctx, body["volume_id"], body.get("name"))
        resp.media = {"transfer": {**view(req, self.service.conf, transfer), "auth_key": key}}
        resp.status = 202


class TransferItem:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy
        self.flow = Transfers(service)

    @schema("Show a transfer the project offers", responses={200: {"type": "object", "required": ["transfer"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, transfer_id: str) -> None:
        with self.service.db.reading() as session:
            transfer = self.flow.find(session, context(req), transfer_id)
            enforce(req, self.policy, "volume:get_transfer", {"project_id": transfer.project_id})
            resp.media = {"transfer": view(req, self.service.conf, transfer)}

    @schema("Withdraw a transfer (the volume is available again)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, transfer_id: str) -> None:
        with self.service.db.reading() as session:
            transfer = self.flow.find(session, context(req), transfer_id)
            enforce(req, self.policy, "volume:delete_transfer", {"project_id": transfer.project_id})
        self.flow.delete(context(req), transfer_id)
        resp.status = 202


class TransferAccept:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy
        self.flow = Transfers(service)

    @schema("Take the offered volume into the caller's project with the transfer's key", request=ACCEPT,
            responses={202: {"type": "object", "required": ["transfer"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, transfer_id: str) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume:accept_transfer", {"project_id": ctx.project_id})
        transfer = self.flow.accept(ctx, transfer_id, req.context.body["accept"]["auth_key"])
        resp.media = {"transfer": view(req, self.service.conf, transfer, detail=False)}
        resp.status = 202
