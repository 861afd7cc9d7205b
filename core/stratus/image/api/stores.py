"""The stores as Glance shows them: ``GET /v2/info/stores/detail`` (administrators: each
store's driver and properties), and ``DELETE /v2/stores/{store_id}/{image_id}`` (Image API
2.10): drop an active image's copy in one store while other stores keep theirs
(administrators, as Glance's ``delete_image_location``)."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Forbidden, NotFound, StratusError
from stratus.image import models
from stratus.image.api.images import load
from stratus.image.service import ImageService
from stratus.interfaces.image_store import Location, WritableStore

LOG = logging.getLogger(__name__)


def store_list(images: ImageService) -> list[dict[str, Any]]:
    """``GET /v2/info/stores``' entries: id, description, the default and read-only flags (the
    string "true", as Glance writes them and tempest compares them)."""
    conf, stores = images.conf, []
    for name in images.stores:
        store: dict[str, Any] = {"id": name, "description": conf[name].description or f"{name} store"}
        if name == conf.image.default_store:
            store["default"] = "true"
        if not images.writable(name):
            store["read-only"] = "true"
        stores.append(store)
    return stores


class StoresInfo:
    def __init__(self, images: ImageService) -> None:
        self.images = images

    @schema("The image stores of this cloud", responses={200: {"type": "object", "required": ["stores"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"stores": store_list(self.images)}


class StoresDetail:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("The image stores with their drivers and properties (administrators)",
            responses={200: {"type": "object", "required": ["stores"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:stores_info_detail")
        drivers = dict(spec.partition(":")[::2] for spec in self.images.conf.image.enabled_stores)
        stores = store_list(self.images)
        for store in stores:
            store.update(type=drivers[store["id"]], weight=0, properties=self.images.stores[store["id"]].details())
        resp.media = {"stores": stores}


class StoreImage:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Delete an image's data from one store (not its last copy)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, store_id: str, image_id: str) -> None:
        if store_id not in self.images.stores:
            raise Conflict(f"The selected store {store_id} is not available on this node.")
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:delete_image_location", {"project_id": row.owner})
        if row.status != "active":
            raise Conflict("It's not allowed to remove image data from store if image status is not 'active'")
        if not self.images.writable(store_id):
            raise Forbidden(f"Store {store_id} is read-only: its data cannot be deleted")
        L = models.ImageLocation
        with self.images.db.transaction() as session:
            # the row lock keeps two concurrent deletes from leaving the image with no copy
            locations = list(session.scalars(sa.select(L).where(L.image_id == image_id).with_for_update()))
            mine = next((loc for loc in locations if loc.store == store_id), None)
            if mine is None:
                raise NotFound(f"Image {image_id} is not stored in store {store_id}.")
            if len(locations) == 1:
                raise Forbidden("Cannot delete image data from the only store containing it. "
                                "Consider deleting the image instead.")
            url = mine.url
            session.delete(mine)
        store = self.images.stores[store_id]
        if isinstance(store, WritableStore):
            try:
                store.delete(Location(url))
            except StratusError as exc:  # the image no longer points there: only space is lost
                LOG.warning("image %s: data at %s left behind: %s", image_id, url, exc)
        resp.status = 204
