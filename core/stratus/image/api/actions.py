"""``/v2/images/{id}/actions/deactivate|reactivate`` (administrators and the owning project's
members by default)."""

from __future__ import annotations

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid
from stratus.image import states
from stratus.image.api.images import load
from stratus.image.service import ImageService


class ImageAction:
    """Deactivate (active → deactivated) or reactivate (deactivated → active); repeating one is a no-op."""

    def __init__(self, images: ImageService, policy: Policy, action: str) -> None:
        self.images, self.policy, self.action = images, policy, action
        self.source, self.target = ("active", "deactivated") if action == "deactivate" else ("deactivated", "active")

    @schema("Deactivate or reactivate an image", responses={204: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = load(self.images, req, image_id)
        enforce(req, self.policy, f"image:{self.action}", {"project_id": row.owner})
        if row.status != self.target and not states.move(self.images.db, image_id, self.source, self.target):
            raise Invalid(f"Not allowed to {self.action} image in status '{row.status}'")
        resp.status = 204
