"""``/v3/{project_id}/attachments`` (3.27; ``os-complete`` from 3.44): how Nova attaches
volumes to servers (see :mod:`stratus.volume.attachments`)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid, NotFound
from stratus.volume import models
from stratus.volume.api.common import boolean, context, int_param, isotime
from stratus.volume.attachments import Attachments
from stratus.volume.service import VolumeService

Attachment = models.VolumeAttachment
_CONNECTOR = {"type": ["object", "null"]}
CREATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["volume_uuid"], "properties": {
        "volume_uuid": {"type": "string", "minLength": 1, "maxLength": 36},
        "instance_uuid": {"type": ["string", "null"], "maxLength": 36},
        "connector": _CONNECTOR, "mode": {"enum": ["rw", "ro"]}},
    "additionalProperties": False}}}
UPDATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["connector"], "properties": {"connector": {"type": "object"}},
    "additionalProperties": False}}}
_RESPONSE = {"type": "object", "required": ["attachment"]}


def _needs(req: falcon.Request, version: str) -> None:
    if not at_least(req, version):
        raise NotFound(f"The resource could not be found: attachments need microversion {version} or later.")


def summary(attachment: models.VolumeAttachment) -> dict[str, Any]:
    return {"id": attachment.id, "status": attachment.attach_status, "instance": attachment.instance_uuid,
            "volume_id": attachment.volume_id}


def detail(attachment: models.VolumeAttachment) -> dict[str, Any]:
    return {**summary(attachment), "attached_at": isotime(attachment.attach_time), "detached_at": None,
            "attach_mode": attachment.attach_mode, "connection_info": attachment.connection_info or {}}


class AttachmentList:
    def __init__(self, service: VolumeService, policy: Policy, detailed: bool) -> None:
        self.service, self.policy, self.detailed = service, policy, detailed
        self.flow = Attachments(service)

    @schema("List attachments (filters volume_id, instance_id, status; limit, offset)",
            responses={200: {"type": "object", "required": ["attachments"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _needs(req, "3.27")
        ctx = context(req)
        enforce(req, self.policy, "volume:attachment_get_all", {"project_id": ctx.project_id})
        query = sa.select(Attachment).join(models.Volume, models.Volume.id == Attachment.volume_id)
        if not (ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0")):
            query = query.where(models.Volume.project_id == ctx.project_id)
        for name, column in (("volume_id", Attachment.volume_id), ("instance_id", Attachment.instance_uuid),
                             ("status", Attachment.attach_status)):
            if req.get_param(name):
                query = query.where(column == req.get_param(name))
        query = query.order_by(Attachment.created_at.desc(), Attachment.id)
        limit, offset = int_param(req, "limit", 0), int_param(req, "offset", 0)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self.service.db.reading() as session:
            resp.media = {"attachments": [detail(a) if self.detailed else summary(a) for a in session.scalars(query)]}

    @schema("Reserve a volume for a server; with a connector, also export it to that host (3.27)",
            request=CREATE, responses={200: _RESPONSE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _needs(req, "3.27")
        ctx = context(req)
        body = req.context.body["attachment"]
        if "mode" in body and not at_least(req, "3.54"):
            raise Invalid("Invalid input received: mode needs microversion 3.54 or later")
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, body["volume_uuid"])
            enforce(req, self.policy, "volume:attachment_create", {"project_id": volume.project_id})
        attachment_id = self.flow.create(ctx, body["volume_uuid"], body.get("instance_uuid"), body.get("connector"),
                                         body.get("mode", "rw"))
        with self.service.db.reading() as session:
            resp.media = {"attachment": detail(session.get(Attachment, attachment_id))}


class AttachmentItem:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy
        self.flow = Attachments(service)

    def _project(self, req: falcon.Request, attachment_id: str) -> str:
        with self.service.db.reading() as session:
            attachment = self.flow.find(session, context(req), attachment_id)
            return session.get(models.Volume, attachment.volume_id).project_id

    @schema("Show an attachment, with its connection info", responses={200: _RESPONSE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, attachment_id: str) -> None:
        _needs(req, "3.27")
        enforce(req, self.policy, "volume:attachment_get", {"project_id": self._project(req, attachment_id)})
        with self.service.db.reading() as session:
            resp.media = {"attachment": detail(self.flow.find(session, context(req), attachment_id))}

    @schema("Give a reserved attachment the host's connector: exports the volume there", request=UPDATE,
            responses={200: _RESPONSE})
    def on_put(self, req: falcon.Request, resp: falcon.Response, attachment_id: str) -> None:
        _needs(req, "3.27")
        enforce(req, self.policy, "volume:attachment_update", {"project_id": self._project(req, attachment_id)})
        self.flow.update(context(req), attachment_id, req.context.body["attachment"]["connector"])
        with self.service.db.reading() as session:
            resp.media = {"attachment": detail(session.get(Attachment, attachment_id))}

    @schema("Stop exporting the volume and drop the attachment; the volume's remaining ones",
            responses={200: {"type": "object", "required": ["attachments"]}})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, attachment_id: str) -> None:
        _needs(req, "3.27")
        enforce(req, self.policy, "volume:attachment_delete", {"project_id": self._project(req, attachment_id)})
        remaining = self.flow.delete(context(req), attachment_id)
        resp.media = {"attachments": [summary(a) for a in remaining]}


class AttachmentAction:
    @schema("os-complete: the hypervisor attached the volume (3.44)", request={
        "type": "object", "required": ["os-complete"], "properties": {"os-complete": {}},
        "additionalProperties": False}, responses={204: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, attachment_id: str) -> None:
        _needs(req, "3.44")
        enforce(req, self.policy, "volume:attachment_complete", {"project_id": self._project(req, attachment_id)})
        self.flow.complete(context(req), attachment_id)
        resp.status = 204

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy
        self.flow = Attachments(service)

    _project = AttachmentItem._project
