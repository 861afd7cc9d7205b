"""``GET /v2/info/usage``: the caller's project's image quotas and what it uses, under
Glance's names. Sizes are in MiB as Glance reports them (usage rounded down, the limit
is ``[image] quota_image_bytes`` in whole MiB); -1 is unlimited. Stratus has no separate
limits on staged data or on imports in progress: those show their usage and -1."""

from __future__ import annotations

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.image import models, uploads
from stratus.image.service import ImageService

MIB = 1 << 20
IN_FLIGHT = ("saving", "uploading", "importing")


class Usage:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("The project's image quota usage", responses={200: {"type": "object", "required": ["usage"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:get_usage")
        owner = req.context.stratus.project_id
        conf = self.images.conf.image
        Image = models.Image
        with self.images.db.reading() as session:
            stored = uploads.stored_bytes(session, owner)
            count = uploads.image_count(session, owner)
            staged = int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Image.size), 0)).where(
                Image.owner == owner, Image.status.in_(IN_FLIGHT))) or 0)
            in_flight = int(session.scalar(sa.select(sa.func.count()).select_from(Image).where(
                Image.owner == owner, Image.status.in_(IN_FLIGHT))) or 0)
        byte_quota = conf.quota_image_bytes
        resp.media = {"usage": {
            "image_size_total": {"usage": stored // MIB, "limit": byte_quota // MIB if byte_quota >= 0 else -1},
            "image_count_total": {"usage": count, "limit": conf.quota_images},
            "image_stage_total": {"usage": staged // MIB, "limit": -1},
            "image_count_uploading": {"usage": in_flight, "limit": -1},
        }}
