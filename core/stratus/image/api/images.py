"""``/v2/images`` and ``/v2/images/{id}``: image records."""

from __future__ import annotations

import logging
import urllib.parse
import uuid
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import read_json, schema, validate
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, StratusError
from stratus.image import attributes, listing, models, patching, states, uploads
from stratus.image.api import views
from stratus.image.service import STAGING, ImageService
from stratus.interfaces.image_store import Location, WritableStore

CREATE = {
    "type": "object",
    "properties": {
        **attributes.PROPERTIES,
        "id": {"type": "string", "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                                            "[0-9a-fA-F]{12}$"},
        # present so that setting them answers Glance's 403, not a type error
        **{name: {} for name in attributes.READ_ONLY | attributes.RESERVED if name != "id"},
    },
    "additionalProperties": attributes.STATE["additionalProperties"],
}
IMAGE = {"type": "object", "required": ["id", "status", "visibility", "self", "file", "schema"]}
LOG = logging.getLogger(__name__)
LIST_QUERY = {k: {"type": "string"} for k in (
    "name", "status", "visibility", "owner", "tag", "member_status", "os_hidden", "protected", "size_min",
    "size_max", "created_at", "updated_at", "container_format", "disk_format", "id", "limit", "marker", "sort",
    "sort_key", "sort_dir")}


def state_of(row: models.Image) -> dict[str, Any]:
    """The editable attributes of ``row``: core ones and extra properties."""
    state = {name: getattr(row, name) for name in attributes.EDITABLE if name != "tags"}
    state["tags"] = [t.value for t in row.tags]
    state.update({p.name: p.value for p in row.extra})
    return state


def write_state(row: models.Image, state: dict[str, Any]) -> None:
    for name in attributes.EDITABLE:
        if name != "tags":
            setattr(row, name, state.get(name))
    if sorted(t.value for t in row.tags) != sorted(set(state["tags"])):
        row.tags = [models.ImageTag(value=v) for v in sorted(set(state["tags"]))]
    extra = {k: v for k, v in state.items() if k not in attributes.PROPERTIES}
    current = {p.name: p for p in row.extra}
    row.extra = [p for name, p in current.items() if name in extra]
    for name, value in extra.items():
        if name in current:
            current[name].value = value
        else:
            row.extra.append(models.ImageProperty(name=name, value=value))


def authorize_visibility(req: falcon.Request, policy: Policy, visibility: str | None, owner: str | None) -> None:
    if visibility == "public":
        enforce(req, policy, "image:publicize_image", {"project_id": owner})
    elif visibility == "community":
        enforce(req, policy, "image:communitize_image", {"project_id": owner})


def import_headers(resp: falcon.Response, images: ImageService) -> None:
    resp.set_header("OpenStack-image-import-methods", ",".join(images.conf.image.enabled_import_methods))
    resp.set_header("OpenStack-image-store-ids", ",".join(n for n in images.stores if images.writable(n)))


def load(images: ImageService, req: falcon.Request, image_id: str) -> models.Image:
    """:raises NotFound: no such image, deleted, or not visible to the caller."""
    with images.db.transaction() as session:
        row = listing.load(session, image_id, req.context.stratus)
    if row is None:
        raise NotFound(f"No image found with ID {image_id}")
    return row


def remove_data(images: ImageService, row: models.Image) -> None:
    """Delete every copy of ``row``'s data, staged data included; a store that fails is logged."""
    for location in row.locations:
        store = images.staging if location.store == STAGING else images.stores.get(location.store)
        if isinstance(store, WritableStore):
            try:
                store.delete(Location(location.url))
            except StratusError as exc:
                LOG.warning("image %s: data at %s left behind: %s", row.id, location.url, exc)
    with images.db.transaction() as session:
        session.execute(sa.delete(models.ImageLocation).where(models.ImageLocation.image_id == row.id))


class Images:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Create an image record (data comes with PUT .../file or the import flow)", request=CREATE,
            responses={201: IMAGE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:add_image")
        body, context = req.context.body, req.context.stratus
        attributes.check_settable([k for k in body if k != "id"], context.is_admin)
        owner = body.get("owner", context.project_id)
        state = {"name": None, "visibility": "shared", "protected": False, "os_hidden": False, "disk_format": None,
                 "container_format": None, "min_disk": 0, "min_ram": 0, "tags": [], "owner": owner,
                 **{k: v for k, v in body.items() if k != "id"}}
        attributes.check_state(state, self.images.conf)
        authorize_visibility(req, self.policy, state["visibility"], owner)
        now = states.now()
        row = models.Image(id=str(uuid.UUID(body["id"])) if "id" in body else str(uuid.uuid4()), status="queued",
                           created_at=now, updated_at=now, tags=[], extra=[], locations=[])
        write_state(row, state)
        quota = self.images.conf.image.quota_images
        try:
            with self.images.db.transaction() as session:
                if quota >= 0 and uploads.image_count(session, owner) >= quota:
                    raise PayloadTooLarge(f"Maximum number of images exceeded: project {owner} may have {quota}")
                session.add(row)
        except sa.exc.IntegrityError:
            raise Conflict(f"An image with identifier {row.id} already exists") from None
        resp.status = 201
        resp.media = views.image(row, self.images.conf.image.show_image_direct_url)
        resp.location = f"/v2/images/{row.id}"
        import_headers(resp, self.images)

    @schema("List images", responses={200: {"type": "object", "required": ["images", "first", "schema"]}},
            query=LIST_QUERY)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:get_images")
        conf = self.images.conf.image
        raw_limit = req.params.get("limit")
        try:
            limit = int(raw_limit if isinstance(raw_limit, str) else conf.limit_param_default)
            if limit < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise Invalid("limit param must be a non-negative integer") from None
        limit = min(limit, conf.api_limit_max)
        with self.images.db.transaction() as session:
            page = listing.query(session, req.params, req.context.stratus, limit)
        direct = self.images.conf.image.show_image_direct_url
        body: dict[str, Any] = {"images": [views.image(r, direct) for r in page.rows], "first": "/v2/images",
                                "schema": "/v2/schemas/images"}
        if page.more and page.rows:
            query = {k: v for k, v in req.params.items() if k != "marker"}
            query["marker"] = page.rows[-1].id
            body["next"] = f"/v2/images?{urllib.parse.urlencode(query, doseq=True)}"
        resp.media = body


class ImageItem:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Show an image", responses={200: IMAGE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        enforce(req, self.policy, "image:get_image")
        resp.media = views.image(load(self.images, req, image_id), self.images.conf.image.show_image_direct_url)

    @schema(f"Update an image with a JSON patch ({patching.MEDIA_TYPE}, or the older {patching.MEDIA_TYPE_V2_0})",
            responses={200: IMAGE})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        content_type = (req.content_type or "").split(";")[0].strip()
        if content_type not in (patching.MEDIA_TYPE, patching.MEDIA_TYPE_V2_0):
            raise falcon.HTTPUnsupportedMediaType(
                description=f"Content-Type must be {patching.MEDIA_TYPE} (or {patching.MEDIA_TYPE_V2_0}), not "
                            f"{content_type or 'missing'}")
        operations = read_json(req)
        if content_type == patching.MEDIA_TYPE_V2_0:
            operations = patching.from_v2_0(operations)
        validate(patching.SCHEMA, operations)
        context = req.context.stratus
        with self.images.db.transaction() as session:
            row = listing.load(session, image_id, context)
            if row is None:
                raise NotFound(f"No image found with ID {image_id}")
            enforce(req, self.policy, "image:modify_image", {"project_id": row.owner})
            before = state_of(row)
            after = patching.apply(before, operations, context.is_admin)
            attributes.check_state(after, self.images.conf)
            for name in ("disk_format", "container_format"):
                if after.get(name) != before[name] and row.status != "queued":
                    raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
            if after["visibility"] != before["visibility"]:
                authorize_visibility(req, self.policy, after["visibility"], row.owner)
            write_state(row, after)
            row.updated_at = states.now()
            session.flush()
            resp.media = views.image(row, self.images.conf.image.show_image_direct_url)

    @schema("Delete an image and its data", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:delete_image", {"project_id": row.owner})
        if row.protected:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        if not states.move(self.images.db, image_id, states.LIVE, "deleted", deleted_at=states.now()):
            raise NotFound(f"No image found with ID {image_id}")
        remove_data(self.images, row)
        resp.status = 204
