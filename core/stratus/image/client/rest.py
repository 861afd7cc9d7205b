"""The image client over Glance's public API v2 (Stratus's image API or upstream Glance).

Image data comes through ``GET /v2/images/{id}/file``, or straight from a store this host
has configured when the image service shows the image's ``direct_url`` and its scheme is in
``[image_client] direct_url_schemes`` (checked against the image's size and checksum
either way). Calls go as ``[service_credentials]`` (an admin of a service project), or as the user with
the service token beside it when a request context is given. Snapshots are created with
``owner`` set to the server's project, as an admin may; a disk moving between hosts is
parked as a private, hidden image of the service's project (``stratus_parked`` property)
and fetched through the same API.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from stratus.exceptions import BackendUnavailable, Conflict, Invalid, NotFound
from stratus.image.client import ImageClient, ImageInfo
from stratus.interfaces.image_store import Location
from stratus.service_auth import ServiceAuth, request

LOG = logging.getLogger(__name__)
GROUP = "image_client"
_CHUNK = 1 << 20
#: image attributes Glance keeps in columns; every other string attribute is a property
CORE = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value",
    "owner", "size", "virtual_size", "min_ram", "min_disk", "disk_format", "container_format", "created_at",
    "updated_at", "tags", "self", "file", "schema", "direct_url", "locations", "stores",
})
PARKED = "stratus_parked"


def info(body: dict[str, Any]) -> ImageInfo:
    return ImageInfo(body["id"], body["status"], body.get("size"), body.get("checksum"), body.get("min_ram") or 0,
                     body.get("min_disk") or 0, body.get("disk_format"), body.get("container_format"),
                     {k: v for k, v in body.items() if k not in CORE and isinstance(v, str)}, body.get("name"))


class RestImageClient(ImageClient):
    """:class:`ImageClient` over ``GET/POST/PUT/DELETE /v2/images`` with ``auth``."""

    def __init__(self, conf: Any, auth: ServiceAuth) -> None:
        self.conf, self.auth = conf, auth
        self._stores: dict[str, Any] | None = None
        self._stores_lock = threading.Lock()

    def _local_stores(self) -> dict[str, Any]:
        """The stores of this host's ``[image] enabled_stores`` (none needs the image database)."""
        from stratus import loading
        from stratus.conf.image import STORE_OPTS

        with self._stores_lock:
            if self._stores is None:
                self._stores = {}
                for spec in self.conf.image.enabled_stores:
                    name, _, driver = spec.partition(":")
                    self.conf.register_opts(STORE_OPTS, group=name)
                    self._stores[name] = loading.load_driver("stratus.image_store", driver, self.conf,
                                                             store_name=name)
            return self._stores

    def _call(self, method: str, url: str, what: str, context: Any = None, **kwargs: Any) -> Any:
        return request(self.auth.adapter(GROUP, context), method, url, what, **kwargs)

    def close(self) -> None:
        """Nothing of its own to release (the session is the process's)."""

    def show(self, image_id: str, context: Any = None) -> ImageInfo | None:
        try:
            body = self._call("GET", f"/v2/images/{image_id}", f"image {image_id}", context).json()
        except NotFound:
            return None
        return info(body) if body.get("status") != "deleted" else None

    def url(self, image_id: str) -> str | None:
        from stratus.service_auth import UNREACHABLE

        try:
            endpoint = self.auth.adapter(GROUP).get_endpoint()
        except UNREACHABLE:
            return None
        return f"{endpoint.rstrip('/')}/v2/images/{image_id}" if endpoint else None

    def download(self, image_id: str, target: str) -> None:
        try:
            body = self._call("GET", f"/v2/images/{image_id}", f"image {image_id}").json()
        except NotFound:
            body = {}
        if body.get("status") != "active":
            raise NotFound(f"Image {image_id} could not be found or is not active.")
        image = info(body)
        direct = body.get("direct_url")
        if direct and direct.split("://", 1)[0].lower() in self.conf.image_client.direct_url_schemes:
            store = next((s for s in self._local_stores().values() if direct.split("://", 1)[0].lower()
                          in s.schemes), None)
            if store is not None:
                try:
                    self._write(image, store.get(Location(direct)), target, "read from its store")
                    return
                except (NotFound, BackendUnavailable, Invalid, OSError) as exc:
                    LOG.warning("image %s could not be read from its store (%s); downloading it", image_id, exc)
        response = self._call("GET", f"/v2/images/{image_id}/file", f"data of image {image_id}", stream=True)
        if response.status_code == 204:
            raise NotFound(f"Image {image_id} has no data.")
        try:
            self._write(image, response.iter_content(_CHUNK), target, "as downloaded")
        finally:
            response.close()

    @staticmethod
    def _write(image: ImageInfo, chunks: Iterable[bytes], target: str, how: str) -> None:
        """``chunks`` into ``target``, whole or not at all, checked against size and checksum."""
        digest, written, partial = hashlib.md5(usedforsecurity=False), 0, f"{target}.part"
        try:
            with open(partial, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
            if (image.size is not None and written != image.size) or (
                    image.checksum and digest.hexdigest() != image.checksum):
                raise Invalid(f"Image {image.id} {how} does not match its size or checksum.")
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def create_snapshot(self, owner: str, state: dict[str, Any]) -> str:
        body = {k: v for k, v in state.items() if v is not None}
        body["owner"] = owner
        return self._call("POST", "/v2/images", "snapshot image", json=body).json()["id"]

    def upload(self, image_id: str, path: str, disk_format: str) -> None:
        image = self.show(image_id)
        if image is None or image.status != "queued":
            raise Conflict(f"Image {image_id} is no longer queued; the snapshot was not kept.")
        if image.disk_format != disk_format:
            self._call("PATCH", f"/v2/images/{image_id}", f"image {image_id}",
                       json=[{"op": "replace", "path": "/disk_format", "value": disk_format}],
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
        try:
            self._put_file(image_id, path, f"data of image {image_id}")
        except (NotFound, Conflict):
            raise Conflict(f"Image {image_id} was deleted during the upload; the snapshot was not kept.") from None

    def _put_file(self, image_id: str, path: str, what: str) -> None:
        """Stream ``path`` as the image's data (a file object: sent with its length, not chunked)."""
        with open(path, "rb") as data:
            self._call("PUT", f"/v2/images/{image_id}/file", what, data=data,
                       headers={"Content-Type": "application/octet-stream"})

    def delete(self, image_id: str) -> None:
        with contextlib.suppress(NotFound):
            self._call("DELETE", f"/v2/images/{image_id}", f"image {image_id}")

    def _list(self, **filters: str) -> list[dict[str, Any]]:
        """Every image matching ``filters`` (newest first), following the pages."""
        images: list[dict[str, Any]] = []
        params: dict[str, Any] = {**filters, "limit": 200, "sort": "created_at:desc,id:asc"}
        while True:
            page = self._call("GET", "/v2/images", "image list", params=params).json()
            images += page["images"]
            if not page.get("next") or not page["images"]:
                return images
            params["marker"] = page["images"][-1]["id"]

    def rotate_backups(self, instance_uuid: str, backup_type: str, rotation: int) -> list[str]:
        backups = [i["id"] for i in self._list(instance_uuid=instance_uuid, image_type="backup",
                                               backup_type=backup_type)
                   if i["status"] in ("queued", "saving", "active")]
        excess = backups[rotation:]
        for image_id in excess:
            self.delete(image_id)
        return excess

    def drop_unfinished(self, instance_uuid: str) -> list[str]:
        unfinished = [i["id"] for i in self._list(instance_uuid=instance_uuid)
                      if i["status"] in ("queued", "saving") and i.get("image_type") in ("snapshot", "backup")]
        for image_id in unfinished:
            self.delete(image_id)
        return unfinished

    def park(self, key: str, path: str) -> str:
        image_id = self._call("POST", "/v2/images", "parked disk", json={
            "name": f"parked {key}", "visibility": "private", "os_hidden": True, "disk_format": "raw",
            "container_format": "bare", PARKED: key}).json()["id"]
        try:
            self._put_file(image_id, path, f"parked disk {key}")
        except BaseException:
            self.delete(image_id)
            raise
        return f"image|{image_id}"

    def fetch(self, where: str, path: str) -> None:
        self.download(where.split("|", 1)[1], path)

    def drop(self, where: str | None) -> None:
        if where:
            self.delete(where.split("|", 1)[1])
