"""``/v2/images``: image records, and streaming their data in and out."""

from __future__ import annotations

import base64
import datetime
import hashlib
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import body_stream, schema
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from stratus.image import models
from stratus.image.service import ImageService
from stratus.interfaces.image_store import Location

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
VISIBILITIES = ["public", "private", "shared", "community"]
CORE = {"id", "name", "status", "visibility", "protected", "os_hidden", "owner", "disk_format", "container_format",
        "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "tags",
        "created_at", "updated_at", "self", "file", "schema", "locations", "direct_url", "stores"}

CREATE = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                                            "[0-9a-fA-F]{12}$"},
        "name": {"type": ["string", "null"], "maxLength": 255},
        "visibility": {"enum": VISIBILITIES},
        "protected": {"type": "boolean"},
        "os_hidden": {"type": "boolean"},
        "disk_format": {"enum": [*DISK_FORMATS, None]},
        "container_format": {"enum": [*CONTAINER_FORMATS, None]},
        "min_disk": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        "min_ram": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        "tags": {"type": "array", "maxItems": 128, "items": {"type": "string", "minLength": 1, "maxLength": 255}},
    },
    "not": {"anyOf": [{"required": [k]} for k in ("status", "size", "checksum", "owner", "created_at", "updated_at",
                                                  "self", "file", "schema", "os_hash_value", "virtual_size")]},
    "additionalProperties": {"type": "string", "maxLength": 65535},
}
IMAGE = {"type": "object", "required": ["id", "status", "visibility", "self", "file", "schema"]}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def view(row: models.Image) -> dict[str, Any]:
    image = {
        "id": row.id, "name": row.name, "status": row.status, "visibility": row.visibility,
        "protected": row.protected, "os_hidden": row.os_hidden, "owner": row.owner,
        "disk_format": row.disk_format, "container_format": row.container_format, "size": row.size,
        "virtual_size": row.virtual_size, "checksum": row.checksum, "os_hash_algo": row.os_hash_algo,
        "os_hash_value": row.os_hash_value, "min_disk": row.min_disk, "min_ram": row.min_ram,
        "tags": list(row.tags or []), "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "self": f"/v2/images/{row.id}", "file": f"/v2/images/{row.id}/file", "schema": "/v2/schemas/image",
    }
    if row.store:
        image["stores"] = row.store
    image.update(row.properties or {})
    return image


def visible(row: models.Image, context: Any) -> bool:
    return context.is_admin or row.owner == context.project_id or row.visibility in ("public", "community")


class Images:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Create an image record (data comes with PUT .../file)", request=CREATE, responses={201: IMAGE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:add_image")
        body = req.context.body
        context = req.context.stratus
        visibility = body.get("visibility", "shared")
        if visibility == "public":
            enforce(req, self.policy, "image:publicize_image")
        now = _now()
        row = models.Image(
            id=str(uuid.UUID(body["id"])) if "id" in body else str(uuid.uuid4()), name=body.get("name"),
            status="queued", visibility=visibility, protected=body.get("protected", False),
            os_hidden=body.get("os_hidden", False), owner=context.project_id, disk_format=body.get("disk_format"),
            container_format=body.get("container_format"), min_disk=body.get("min_disk", 0),
            min_ram=body.get("min_ram", 0), tags=sorted(set(body.get("tags", []))),
            properties={k: v for k, v in body.items() if k not in CORE}, created_at=now, updated_at=now,
        )
        try:
            with self.images.db.transaction() as session:
                session.add(row)
        except sa.exc.IntegrityError:
            raise Conflict(f"An image with identifier {row.id} already exists") from None
        resp.status = 201
        resp.media = view(row)
        resp.location = f"/v2/images/{row.id}"

    @schema("List images", responses={200: {"type": "object", "required": ["images", "first", "schema"]}},
            query={k: {"type": "string"} for k in ("name", "status", "visibility", "owner", "tag", "os_hidden",
                                                   "limit", "marker", "sort_key", "sort_dir")})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:get_images")
        context = req.context.stratus
        conf = self.images.conf.image
        try:
            limit = min(int(req.get_param("limit") or conf.limit_param_default), conf.api_limit_max)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise Invalid("limit param must be a non-negative integer") from None
        sort_key = req.get_param("sort_key") or "created_at"
        sort_dir = req.get_param("sort_dir") or "desc"
        if sort_key not in ("created_at", "updated_at", "name", "id", "size", "status") or \
                sort_dir not in ("asc", "desc"):
            raise Invalid(f"Invalid sort: {sort_key} {sort_dir}")
        Image = models.Image
        query = sa.select(Image)
        for field in ("name", "status", "owner"):
            if req.get_param(field):
                query = query.where(getattr(Image, field) == req.get_param(field))
        visibility = req.get_param("visibility")
        if visibility:
            query = query.where(Image.visibility == visibility)
        hidden = req.get_param("os_hidden")
        query = query.where(Image.os_hidden.is_((hidden or "false").lower() == "true"))
        column = getattr(Image, sort_key)
        ascending = sort_dir == "asc"
        order = [column.asc() if ascending else column.desc(), Image.id.asc() if ascending else Image.id.desc()]
        with self.images.db.transaction() as session:
            rows = [r for r in session.scalars(query.order_by(*order)) if visible(r, context)
                    and (visibility or r.visibility != "community" or r.owner == context.project_id)]
        tag = req.get_param("tag")
        if tag:
            rows = [r for r in rows if tag in (r.tags or [])]
        marker = req.get_param("marker")
        if marker:
            ids = [r.id for r in rows]
            if marker not in ids:
                raise Invalid(f"marker {marker} could not be found")
            rows = rows[ids.index(marker) + 1:]
        page = rows[:limit]
        body: dict[str, Any] = {"images": [view(r) for r in page], "first": "/v2/images",
                                "schema": "/v2/schemas/images"}
        if len(rows) > limit and page:
            query = {k: v for k, v in req.params.items() if k != "marker"}
            query["marker"] = page[-1].id
            body["next"] = f"/v2/images?{urllib.parse.urlencode(query, doseq=True)}"
        resp.media = body


class ImageItem:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    def load(self, req: falcon.Request, image_id: str) -> models.Image:
        with self.images.db.transaction() as session:
            row = session.get(models.Image, image_id)
        if row is None or not visible(row, req.context.stratus):
            raise NotFound(f"No image found with ID {image_id}")
        return row

    @schema("Show an image", responses={200: IMAGE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        enforce(req, self.policy, "image:get_image")
        resp.media = view(self.load(req, image_id))

    @schema("Delete an image and its data", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = self.load(req, image_id)
        enforce(req, self.policy, "image:delete_image", {"project_id": row.owner})
        if row.protected:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        with self.images.db.transaction() as session:
            session.execute(sa.delete(models.Image).where(models.Image.id == image_id))
        if row.location and row.store in self.images.stores:
            self.images.stores[row.store].delete(Location(row.location))
        resp.status = 204


class ImageData:
    """``/v2/images/{id}/file``: upload once, download with Range."""

    max_body_size = None  # image data is limited by [image] image_size_cap instead

    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy
        self.item = ImageItem(images, policy)

    def _set_status(self, image_id: str, expected: str, **values: Any) -> bool:
        with self.images.db.transaction() as session:
            return bool(session.execute(sa.update(models.Image).where(
                models.Image.id == image_id, models.Image.status == expected).values(updated_at=_now(), **values))
                .rowcount)

    @schema("Upload the image's data (once)", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = self.item.load(req, image_id)
        enforce(req, self.policy, "image:upload_image", {"project_id": row.owner})
        content_type = (req.content_type or "application/octet-stream").split(";")[0].strip()
        if content_type != "application/octet-stream":
            raise falcon.HTTPUnsupportedMediaType(
                description=f"Content-Type must be application/octet-stream, not {content_type}")
        if not self._set_status(image_id, "queued", status="saving"):
            raise Conflict(f"Image {image_id} is {row.status}; data can only be uploaded to a queued image.")
        store_name = req.get_header("X-Image-Meta-Store") or self.images.conf.image.default_store
        store = self.images.stores.get(store_name)
        if store is None:
            self._set_status(image_id, "saving", status="queued")
            raise Invalid(f"Store {store_name} is not enabled; enabled: {', '.join(self.images.stores)}")
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        cap, chunk_size, stream = self.images.conf.image.image_size_cap, self.images.conf.image.chunk_size, \
            body_stream(req)
        if req.content_length is not None and req.content_length > cap:
            self._set_status(image_id, "saving", status="queued")
            raise PayloadTooLarge(f"Image exceeds the size limit of {cap} bytes")

        def hashed() -> Iterator[bytes]:
            total = 0
            while chunk := stream.read(chunk_size):
                total += len(chunk)
                if total > cap:
                    raise PayloadTooLarge(f"Image exceeds the size limit of {cap} bytes")
                md5.update(chunk)
                sha512.update(chunk)
                yield chunk

        try:
            stored = store.add(image_id, hashed(), req.content_length)
        except BaseException:
            self._set_status(image_id, "saving", status="queued")
            raise
        expected_md5 = req.get_header("Content-MD5")
        if expected_md5 and expected_md5 not in (md5.hexdigest(), base64.b64encode(md5.digest()).decode()):
            store.delete(stored.location)
            self._set_status(image_id, "saving", status="queued")
            raise Invalid("The data does not match its Content-MD5 header; nothing was kept.")
        if not self._set_status(image_id, "saving", status="active", size=stored.size, checksum=md5.hexdigest(),
                                os_hash_algo="sha512", os_hash_value=sha512.hexdigest(), store=store_name,
                                location=stored.location.url):
            store.delete(stored.location)  # deleted while uploading
            raise NotFound(f"Image {image_id} was deleted during the upload")
        resp.status = 204

    @schema("Download the image's data; Range gives part of it", responses={200: None, 204: None, 206: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = self.item.load(req, image_id)
        enforce(req, self.policy, "image:download_image", {"project_id": row.owner})
        if row.status == "deactivated" and not req.context.stratus.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
        if not row.location:
            resp.status = 204
            return
        store = self.images.stores[row.store]
        location, size, chunk = Location(row.location), row.size or 0, self.images.conf.image.chunk_size
        resp.content_type = "application/octet-stream"
        resp.set_header("Content-MD5", row.checksum or "")
        resp.set_header("Accept-Ranges", "bytes")
        if req.range is not None:
            start, end = req.range
            if start < 0:  # "bytes=-N": the last N bytes
                start, end = max(size + start, 0), size - 1
            end = size - 1 if end == -1 else min(end, size - 1)
            if start >= size or start > end:
                raise falcon.HTTPRangeNotSatisfiable(size)
            resp.status = 206
            resp.set_header("Content-Range", f"bytes {start}-{end}/{size}")
            resp.content_length = end - start + 1
            resp.stream = store.get(location, start, end - start + 1, chunk)
        else:
            resp.content_length = size
            resp.stream = store.get(location, 0, None, chunk)
