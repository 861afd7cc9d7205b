"""``/v3/{project_id}/os-volume-manage`` (and ``manageable_volumes``, its 3.8 name): adopt
storage made outside the cloud as a volume (administrators; the backend needs ``MANAGE``)."""

from __future__ import annotations

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.volume import models
from stratus.volume.api.common import boolean, context, metadata_schema
from stratus.volume.api.volumes import volume_view
from stratus.volume.service import VolumeService

_NAME = {"type": ["string", "null"], "maxLength": 255}
MANAGE = {"type": "object", "required": ["volume"], "properties": {"volume": {
    "type": "object", "required": ["host", "ref"], "properties": {
        "host": {"type": "string", "minLength": 1, "maxLength": 255},
        "ref": {"type": "object", "minProperties": 1}, "name": _NAME, "description": _NAME,
        "volume_type": {"type": ["string", "null"]}, "availability_zone": {"type": ["string", "null"]},
        "bootable": {"type": ["boolean", "string"]}, "metadata": {**metadata_schema(), "type": ["object", "null"]},
        "cluster": {"type": ["string", "null"]}}, "additionalProperties": False}}}


class ManageVolumes:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Adopt a backend's storage object as a volume (host: host@backend#pool; ref: source-name...)",
            request=MANAGE, responses={202: {"type": "object", "required": ["volume"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume_extension:volume_manage", {"project_id": ctx.project_id})
        body = req.context.body["volume"]
        volume_id = self.service.manage(ctx, body["host"], {k: str(v) for k, v in body["ref"].items()}, {
            "name": body.get("name"), "description": body.get("description"), "volume_type": body.get("volume_type"),
            "bootable": boolean("bootable", body.get("bootable", False)), "metadata": body.get("metadata")})
        with self.service.db.reading() as session:
            resp.media = {"volume": volume_view(req, self.service.conf, session.get(models.Volume, volume_id),
                                                created=True)}
        resp.status = 202
