"""``/v2/images/{id}/tags/{tag}``: add and remove one tag."""

from __future__ import annotations

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid, NotFound, PayloadTooLarge
from stratus.image import listing, models, states
from stratus.image.service import ImageService


class ImageTag:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    def _image(self, req: falcon.Request, session: sa.orm.Session, image_id: str) -> models.Image:
        row = listing.load(session, image_id, req.context.stratus)
        if row is None:
            raise NotFound(f"No image found with ID {image_id}")
        enforce(req, self.policy, "image:modify_image", {"project_id": row.owner})
        return row

    @schema("Add a tag (idempotent)", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str, tag: str) -> None:
        if not 1 <= len(tag) <= 255:
            raise Invalid("A tag is 1 to 255 characters long")
        with self.images.db.transaction() as session:
            row = self._image(req, session, image_id)
            if tag not in {t.value for t in row.tags}:
                quota = self.images.conf.image.image_tag_quota
                if 0 <= quota <= len(row.tags):
                    raise PayloadTooLarge(f"Maximum number of tags exceeded: an image may have {quota}")
                row.tags.append(models.ImageTag(value=tag))
                row.updated_at = states.now()
        resp.status = 204

    @schema("Remove a tag", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str, tag: str) -> None:
        with self.images.db.transaction() as session:
            row = self._image(req, session, image_id)
            kept = [t for t in row.tags if t.value != tag]
            if len(kept) == len(row.tags):
                raise NotFound(f"Tag {tag} not found on image {image_id}")
            row.tags = kept
            row.updated_at = states.now()
        resp.status = 204
