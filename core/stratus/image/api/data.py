"""``/v2/images/{id}/file`` (upload once, download with Range) and ``.../stage`` (the first
half of the glance-direct import)."""

from __future__ import annotations

import base64
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import body_stream, schema
from stratus.exceptions import BackendUnavailable, Conflict, Forbidden, Gone, Invalid, NotFound, StratusError
from stratus.image import models, states, uploads
from stratus.image.api.images import load
from stratus.image.service import STAGING, ImageService
from stratus.interfaces.image_store import Location, WritableStore


def _octet_stream(req: falcon.Request) -> None:
    content_type = (req.content_type or "application/octet-stream").split(";")[0].strip()
    if content_type != "application/octet-stream":
        raise falcon.HTTPUnsupportedMediaType(
            description=f"Content-Type must be application/octet-stream, not {content_type}")


def receive(images: ImageService, req: falcon.Request, row: models.Image, store: WritableStore,
            busy: str) -> tuple[Any, uploads.HashingReader]:
    """Stream the request body into ``store`` while the image is ``busy`` (saving/uploading).

    On any failure the image goes back to ``queued`` and the store keeps nothing.
    :raises PayloadTooLarge: over the size cap or the project's storage quota.
    """
    with images.db.transaction() as session:
        limit, why = uploads.byte_limit(images.conf, session, row.owner, req.content_length)
    if not states.move(images.db, row.id, "queued", busy):
        raise Conflict(f"Image {row.id} is {row.status}; data can only be sent to a queued image.")
    reader = uploads.HashingReader(body_stream(req), images.conf.image.chunk_size, limit, why,
                                   expected=req.content_length)
    try:
        return store.add(row.id, reader, req.content_length), reader
    except BaseException:
        states.move(images.db, row.id, busy, "queued")
        raise


def gone(images: ImageService, store: WritableStore, stored: Any, image_id: str) -> Gone:
    store.delete(stored.location)
    return Gone(f"Image {image_id} was deleted during the upload; the data was removed.")


class ImageData:
    max_body_size = None  # image data is limited by [image] image_size_cap and quotas instead

    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Upload the image's data (once)", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:upload_image", {"project_id": row.owner})
        _octet_stream(req)
        if not row.disk_format or not row.container_format:
            raise Invalid("Properties disk_format, container_format must be set prior to saving data.")
        store_name = req.get_header("X-Image-Meta-Store") or self.images.conf.image.default_store
        if not self.images.writable(store_name):
            raise Invalid(f"Store {store_name} is not enabled or not writable; writable stores: "
                          f"{', '.join(n for n in self.images.stores if self.images.writable(n))}")
        store: WritableStore = self.images.stores[store_name]  # type: ignore[assignment]
        stored, reader = receive(self.images, req, row, store, "saving")
        expected_md5 = req.get_header("Content-MD5")
        digest = reader.md5.digest()
        if expected_md5 and expected_md5 not in (digest.hex(), base64.b64encode(digest).decode()):
            store.delete(stored.location)
            states.move(self.images.db, image_id, "saving", "killed")
            raise Invalid("The data does not match its Content-MD5 header; nothing was kept and the image is "
                          "now killed.")
        if not states.move(self.images.db, image_id, "saving", "active",
                           locations=[(store_name, stored.location.url)], **reader.checksums):
            raise gone(self.images, store, stored, image_id)
        resp.status = 204

    @schema("Download the image's data; Range gives part of it", responses={200: None, 204: None, 206: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:download_image")  # visibility, checked by load(), decides whose
        if row.status == "deactivated" and not req.context.stratus.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
        locations = [loc for loc in row.locations if loc.store in self.images.stores] if row.status in (
            "active", "deactivated") else []
        if not locations:
            resp.status = 204
            return
        size, chunk = row.size or 0, self.images.conf.image.chunk_size
        start, length = 0, None
        if req.range is not None:
            start, end = req.range
            if start < 0:  # "bytes=-N": the last N bytes
                start, end = max(size + start, 0), size - 1
            end = size - 1 if end == -1 else min(end, size - 1)
            if start >= size or start > end:
                raise falcon.HTTPRangeNotSatisfiable(size)
            length = end - start + 1
        failure: StratusError | None = None
        for location in locations:
            try:
                resp.stream = self.images.stores[location.store].get(Location(location.url), start, length, chunk)
                break
            except (NotFound, BackendUnavailable) as exc:
                failure = exc
        else:
            if isinstance(failure, BackendUnavailable):
                raise failure
            resp.status = 204
            return
        resp.content_type = "application/octet-stream"
        resp.set_header("Content-MD5", row.checksum or "")
        resp.set_header("Accept-Ranges", "bytes")
        if length is not None:
            resp.status = 206
            resp.set_header("Content-Range", f"bytes {start}-{start + length - 1}/{size}")
        resp.content_length = size if length is None else length


class ImageStage:
    max_body_size = None

    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Stage the image's data for a glance-direct import", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        if "glance-direct" not in self.images.conf.image.enabled_import_methods:
            raise NotFound("The glance-direct import method is not enabled, so there is no staging area.")
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:upload_image", {"project_id": row.owner})
        _octet_stream(req)
        stored, reader = receive(self.images, req, row, self.images.staging, "uploading")
        if not states.move(self.images.db, image_id, "uploading", "uploading",
                           locations=[(STAGING, stored.location.url)], size=reader.size):
            raise gone(self.images, self.images.staging, stored, image_id)
        resp.status = 204
