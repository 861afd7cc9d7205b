"""``POST /v2/images/{id}/import`` and the discovery documents ``/v2/info/import|stores``."""

from __future__ import annotations

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Invalid
from stratus.image import imports, states, tasks
from stratus.image.api.images import load
from stratus.image.service import STAGING, ImageService

METHODS = ["glance-direct", "web-download", "copy-image"]
IMPORT = {
    "type": "object",
    "required": ["method"],
    "properties": {
        "method": {"type": "object", "required": ["name"], "properties": {
            "name": {"enum": METHODS}, "uri": {"type": "string", "minLength": 1, "maxLength": 4096}}},
        "stores": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "all_stores": {"type": "boolean"},
        "all_stores_must_succeed": {"type": "boolean"},
    },
}
#: the status an image must be in for each method, and the status the import puts it in
SOURCE_STATUS = {"glance-direct": "uploading", "web-download": "queued", "copy-image": "active"}


class ImageImport:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    def _stores(self, req: falcon.Request, method: str, existing: set[str]) -> list[str]:
        """The stores to import into. A copy to all stores skips those the image is in (none
        left: nothing to do, as Glance); naming a store the image is in already is 400."""
        body = req.context.body
        if body.get("all_stores") and "stores" in body:
            raise Invalid("Give stores or all_stores, not both")
        writable = [n for n in self.images.stores if self.images.writable(n)]
        if body.get("all_stores"):
            names = writable
        elif "stores" in body:
            names = list(dict.fromkeys(body["stores"]))
        elif req.get_header("X-Image-Meta-Store"):
            names = [req.get_header("X-Image-Meta-Store")]
        elif method == "copy-image":
            raise Invalid("copy-image needs stores (or all_stores) to copy the image into")
        else:
            names = [self.images.conf.image.default_store]
        unknown = [n for n in names if n not in writable]
        if unknown:
            raise Invalid(f"Store {unknown[0]} is not enabled or not writable; writable stores: "
                          f"{', '.join(writable)}")
        if method == "copy-image" and not body.get("all_stores"):
            present = [n for n in names if n in existing]
            if present:
                raise Invalid(f"Image is already present at store '{present[0]}'")
        return [n for n in names if n not in existing]

    @schema("Import the image's data (glance-direct, web-download, copy-image); runs in the background",
            request=IMPORT, responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        body = req.context.body
        method = body["method"]["name"]
        enabled = self.images.conf.image.enabled_import_methods
        if method not in enabled:
            raise Invalid(f"Import method {method} is not enabled; enabled methods: {', '.join(enabled)}")
        row = load(self.images, req, image_id)
        enforce(req, self.policy, "image:copy_image" if method == "copy-image" else "image:import_image",
                {"project_id": row.owner})
        if not row.disk_format or not row.container_format:
            raise Conflict("disk_format and container_format must be set before the image is imported")
        uri = body["method"].get("uri")
        if method == "web-download":
            if not uri:
                raise Invalid("web-download needs method.uri")
            imports.check_uri(self.images.conf, uri)
        if row.status != SOURCE_STATUS[method]:
            if method == "glance-direct":
                raise Conflict("Image needs to be staged before 'glance-direct' method can be used")
            raise Conflict(f"Image {image_id} is {row.status}; {method} needs a {SOURCE_STATUS[method]} image")
        if method == "glance-direct" and not any(loc.store == STAGING for loc in row.locations):
            raise Conflict(f"Image {image_id} is still being staged")
        stores = self._stores(req, method, {loc.store for loc in row.locations})
        if not stores:  # a copy to all stores of an image in all of them: nothing to do
            resp.status = 202
            return
        job = imports.ImportJob(image_id, row.owner, method, stores, body.get("all_stores_must_succeed", True), uri)
        if method != "copy-image" and not states.move(self.images.db, image_id, row.status, "importing"):
            raise Conflict(f"Image {image_id} changed status while the import was being requested")
        imports.set_properties(self.images, image_id, {imports.IMPORTING: ",".join(stores), imports.FAILED: ""})
        task_id = tasks.record(self.images, "api_image_import", row.owner or "",
                               {"image_id": image_id, "import_req": body, "backend": stores},
                               image_id=image_id, context=req.context.stratus, status="pending")
        self.images.executor.submit(imports.run, self.images, job, task_id)
        resp.status = 202


class ImportInfo:
    def __init__(self, images: ImageService) -> None:
        self.images = images

    @schema("The import methods this cloud offers", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"import-methods": {"description": "Import methods available.", "type": "array",
                                         "value": list(self.images.conf.image.enabled_import_methods)}}
