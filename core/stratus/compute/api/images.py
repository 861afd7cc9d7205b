"""``/images`` and ``/images/{id}/metadata`` (Nova v2.1, until 2.35): the image service's
images in Nova's shapes, as Nova's proxy to Glance shows them — status ACTIVE/SAVING/
DELETED/ERROR, ``minRam``/``minDisk``, ``metadata`` (the image's own properties), the
snapshot's ``server``, ``OS-EXT-IMG-SIZE:size``. Metadata is written through the image
API's JSON patch, within the project's ``metadata_items`` quota.
"""

from __future__ import annotations

import datetime
from typing import Any

import falcon

from stratus.api.policy import Policy
from stratus.api.validation import schema
from stratus.compute import quotas
from stratus.compute.api import proxy
from stratus.compute.api.common import context, int_param, links, page_links
from stratus.exceptions import Forbidden, Invalid, NotFound

IMAGE = "image"
#: Glance's own image attributes; every other one is a property (Nova's ``metadata``)
BASE = frozenset({"id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
                  "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "created_at",
                  "updated_at", "tags", "disk_format", "container_format", "direct_url", "locations", "self",
                  "file", "schema", "stores"})
STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "importing": "SAVING",
          "uploading": "SAVING", "deleted": "DELETED", "pending_delete": "DELETED", "killed": "ERROR",
          "deactivated": "ERROR"}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
PATCH = "application/openstack-images-v2.1-json-patch"
_META = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255},
         "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255}}
METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False,
            "properties": {"metadata": _META}}
META = {"type": "object", "required": ["meta"], "additionalProperties": False,
        "properties": {"meta": {**_META, "minProperties": 1, "maxProperties": 1}}}


def _date(text: str | None) -> str | None:
    if not text:
        return None
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def properties(image: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in image.items() if k not in BASE}


def view(req: falcon.Request, conf: Any, image: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": image["id"], "name": image.get("name"),
                            "links": [*links(req, conf, "images", image["id"]), {
                                "rel": "alternate", "type": "application/vnd.openstack.image",
                                "href": _image_url(req, image["id"])}]}
    if not detail:
        return body
    metadata = properties(image)
    body.update({"minRam": int(image.get("min_ram") or 0), "minDisk": int(image.get("min_disk") or 0),
                 "metadata": metadata, "created": _date(image.get("created_at")),
                 "updated": _date(image.get("updated_at")), "status": STATUS.get(image.get("status", ""), "UNKNOWN"),
                 "progress": PROGRESS.get(image.get("status", ""), 0),
                 "OS-EXT-IMG-SIZE:size": image.get("size") or 0})
    server = metadata.get("instance_uuid")
    if server is not None:
        body["server"] = {"id": server, "links": links(req, conf, "servers", server)}
    auto = metadata.get("auto_disk_config")
    if auto is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if str(auto).lower() in ("1", "t", "true", "on", "y", "yes") else "MANUAL"
    return body


def _image_url(req: falcon.Request, image_id: str) -> str:
    root = req.prefix.rstrip("/")
    return f"{root.removesuffix(proxy.PREFIX)}/image/v2/images/{image_id}" if root.endswith(proxy.PREFIX) \
        else f"/image/v2/images/{image_id}"


def _get(deps: Any, req: falcon.Request, image_id: str) -> dict[str, Any]:
    answer = proxy.caller(deps).call(req, IMAGE, "GET", f"/v2/images/{image_id}")
    if answer.status in (400, 404):
        raise NotFound("Image not found.")
    return proxy.check(answer).body


def _matches(req: falcon.Request, image: dict[str, Any]) -> bool:
    """The filters the image API has no query for: minRam, minDisk, changes-since."""
    params = req.params
    if "minRam" in params and int(image.get("min_ram") or 0) < int_param(req, "minRam"):
        return False
    if "minDisk" in params and int(image.get("min_disk") or 0) < int_param(req, "minDisk"):
        return False
    since = params.get("changes-since")
    return not (since and image.get("updated_at") and image["updated_at"] < since)


class Images:
    """``GET /images`` and ``/images/detail``."""

    def __init__(self, deps: Any, policy: Policy, detail: bool) -> None:
        self.deps, self.policy, self.detail = deps, policy, detail

    @schema("List images (proxy to the image service; until 2.35)",
            responses={200: {"type": "object", "required": ["images"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        params = req.params
        query: dict[str, Any] = {}
        if params.get("name"):
            query["name"] = params["name"]
        if params.get("status"):
            query["status"] = str(params["status"]).lower()
        if params.get("server"):
            query["instance_uuid"] = str(params["server"]).rstrip("/").rsplit("/", 1)[-1]
        if params.get("type"):
            query["image_type"] = params["type"]
        for name, value in params.items():
            if name.startswith("property-"):
                query[name.removeprefix("property-")] = value
        limit = int_param(req, "limit", 0) if "limit" in params else None
        if params.get("marker"):
            query["marker"] = params["marker"]
        found: list[dict[str, Any]] = []
        call = proxy.caller(self.deps).call
        while True:  # page through the image API until the page is full (some filters are applied here)
            answer = call(req, IMAGE, "GET", "/v2/images", query={**query, "limit": 1000})
            if answer.status == 400:
                raise Invalid(answer.message)
            page = proxy.check(answer).body["images"]
            found += [i for i in page if _matches(req, i)]
            if len(page) < 1000 or (limit is not None and len(found) >= limit):
                break
            query["marker"] = page[-1]["id"]
        if limit is not None:
            found = found[:limit]
        body: dict[str, Any] = {"images": [view(req, self.deps.conf, i, self.detail) for i in found]}
        if limit and len(found) == limit:
            body["images_links"] = page_links(req, found[-1]["id"])
        resp.media = body


class ImageItem:
    """``GET`` and ``DELETE /images/{id}``."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("Show an image (proxy; until 2.35)", responses={200: {"type": "object", "required": ["image"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        proxy.require(req)
        resp.media = {"image": view(req, self.deps.conf, _get(self.deps, req, image_id))}

    @schema("Delete an image (proxy; until 2.35)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        proxy.require(req)
        answer = proxy.caller(self.deps).call(req, IMAGE, "DELETE", f"/v2/images/{image_id}")
        if answer.status in (400, 404):
            raise NotFound("Image not found.")
        if answer.status == 403:
            raise Forbidden("You are not allowed to delete the image.")
        proxy.check(answer, {409: Forbidden})
        resp.status = 204


def _replace_properties(deps: Any, req: falcon.Request, image: dict[str, Any], wanted: dict[str, str],
                        keep_others: bool) -> dict[str, Any]:
    """Patch the image's properties to ``wanted`` (merged with the others if ``keep_others``),
    within the project's ``metadata_items`` quota; the image's properties after."""
    current = properties(image)
    final = {**current, **wanted} if keep_others else dict(wanted)
    compute = deps.services["compute"]
    with compute.db.reading() as session:
        quotas.check_metadata(session, compute.conf, context(req).project_id, len(final))
    ops: list[dict[str, Any]] = [{"op": "remove", "path": f"/{k}"} for k in current if k not in final]
    ops += [{"op": "replace" if k in current else "add", "path": f"/{k}", "value": v}
            for k, v in final.items() if current.get(k) != v]
    if not ops:
        return current
    answer = proxy.caller(deps).call(req, IMAGE, "PATCH", f"/v2/images/{image['id']}", body=ops,
                                     content_type=PATCH)
    if answer.status == 404:
        raise NotFound("Image not found.")
    return properties(proxy.check(answer).body)


class ImageMetadata:
    """``/images/{id}/metadata``: show, merge (POST), replace (PUT)."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("Show an image's metadata (proxy; until 2.35)",
            responses={200: {"type": "object", "required": ["metadata"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        proxy.require(req)
        resp.media = {"metadata": properties(_get(self.deps, req, image_id))}

    @schema("Add or change items of an image's metadata (proxy; until 2.35)", request=METADATA,
            responses={200: {"type": "object", "required": ["metadata"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        proxy.require(req)
        image = _get(self.deps, req, image_id)
        resp.media = {"metadata": _replace_properties(self.deps, req, image, req.context.body["metadata"], True)}

    @schema("Replace an image's metadata (proxy; until 2.35)", request=METADATA,
            responses={200: {"type": "object", "required": ["metadata"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        proxy.require(req)
        image = _get(self.deps, req, image_id)
        resp.media = {"metadata": _replace_properties(self.deps, req, image, req.context.body["metadata"], False)}


class ImageMetadataItem:
    """``/images/{id}/metadata/{key}``: show, set, delete one item."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("Show one metadata item of an image (proxy; until 2.35)",
            responses={200: {"type": "object", "required": ["meta"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str, key: str) -> None:
        proxy.require(req)
        metadata = properties(_get(self.deps, req, image_id))
        if key not in metadata:
            raise NotFound(f"Invalid metadata key {key}")
        resp.media = {"meta": {key: metadata[key]}}

    @schema("Set one metadata item of an image (proxy; until 2.35)", request=META,
            responses={200: {"type": "object", "required": ["meta"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, image_id: str, key: str) -> None:
        proxy.require(req)
        meta = req.context.body["meta"]
        if key not in meta:
            raise Invalid("Request body and URI mismatch")
        image = _get(self.deps, req, image_id)
        changed = _replace_properties(self.deps, req, image, {key: meta[key]}, True)
        resp.media = {"meta": {key: changed[key]}}

    @schema("Delete one metadata item of an image (proxy; until 2.35)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, image_id: str, key: str) -> None:
        proxy.require(req)
        image = _get(self.deps, req, image_id)
        current = properties(image)
        if key not in current:
            raise NotFound(f"Invalid metadata key {key}")
        _replace_properties(self.deps, req, image, {k: v for k, v in current.items() if k != key}, False)
        resp.status = 204
