"""``/v2/images/{id}/locations`` (Image API 2.17): register data a store can already read
(an ``http`` store's URL, say) for a queued image; list an image's locations (admins)."""

from __future__ import annotations

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Invalid, StratusError
from stratus.image import models, states, uploads
from stratus.image.api.images import load
from stratus.image.service import STAGING, ImageService
from stratus.interfaces.image_store import Location

ADD = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 4096},
        "validation_data": {"type": "object", "additionalProperties": False, "properties": {
            "os_hash_algo": {"enum": ["sha512"]},
            "os_hash_value": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
            "checksum": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}},
    },
    "additionalProperties": False,
}


def hash_in_background(images: ImageService, image_id: str, store_name: str, url: str) -> None:
    """Read the registered data once to fill in size, checksum and os_hash_value."""
    store, chunk = images.stores[store_name], images.conf.image.chunk_size
    try:
        reader = uploads.HashingReader(store.get(Location(url), 0, None, chunk), chunk)
        for _ in reader:
            pass
    except StratusError:
        return  # the image stays usable; it just has no checksum
    with images.db.transaction() as session:
        session.execute(sa.update(models.Image).where(models.Image.id == image_id, models.Image.checksum.is_(None))
                        .values(**reader.checksums))


class ImageLocations:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Register existing data by URL for a queued image", request=ADD, responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        body = req.context.body
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:add_image_location", {"project_id": row.owner})
        url = body["url"]
        store_name = self.images.store_for_url(url)
        if store_name is None:
            raise Invalid(f"No enabled store reads {url.split('://', 1)[0]}:// URLs")
        if row.status != "queued":
            raise Conflict(f"Image {image_id} is {row.status}; locations can only be added to a queued image")
        try:
            size = self.images.stores[store_name].get_size(Location(url))
        except StratusError as exc:
            raise Invalid(f"The data at {url} cannot be read: {exc}") from None
        validation = body.get("validation_data", {})
        values = {"size": size, **validation}
        if "os_hash_value" in validation:
            values["os_hash_algo"] = "sha512"
        if not states.move(self.images.db, image_id, "queued", "active", locations=[(store_name, url)], **values):
            raise Conflict(f"Image {image_id} is no longer queued")
        if "checksum" not in validation:
            self.images.executor.submit(hash_in_background, self.images, image_id, store_name, url)
        resp.status = 202

    @schema("List the image's locations (administrators)", responses={200: {"type": "array"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:get_image_locations", {"project_id": row.owner})
        resp.media = [{"url": loc.url, "metadata": {"store": loc.store}} for loc in row.locations
                      if loc.store != STAGING]
