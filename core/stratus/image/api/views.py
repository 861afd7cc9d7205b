"""How images and members look in responses."""

from __future__ import annotations

import datetime
from typing import Any

from stratus.image import models
from stratus.image.service import STAGING


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(row: models.Image, direct_url: bool = False) -> dict[str, Any]:
    """The image document; with ``direct_url`` (``[image] show_image_direct_url``), the URL
    of its data in the first store that holds it, for services that read it from there."""
    body = {
        "id": row.id, "name": row.name, "status": row.status, "visibility": row.visibility,
        "protected": row.protected, "os_hidden": row.os_hidden, "owner": row.owner,
        "disk_format": row.disk_format, "container_format": row.container_format, "size": row.size,
        "virtual_size": row.virtual_size, "checksum": row.checksum, "os_hash_algo": row.os_hash_algo,
        "os_hash_value": row.os_hash_value, "min_disk": row.min_disk, "min_ram": row.min_ram,
        "tags": [t.value for t in row.tags], "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "self": f"/v2/images/{row.id}", "file": f"/v2/images/{row.id}/file", "schema": "/v2/schemas/image",
    }
    stores = [loc.store for loc in row.locations if loc.store != STAGING]
    if stores:
        body["stores"] = ",".join(dict.fromkeys(stores))
    if direct_url:
        found = next((loc.url for loc in row.locations if loc.store != STAGING), None)
        if found:
            body["direct_url"] = found
    body.update({p.name: p.value for p in row.extra})
    return body


def member(row: models.ImageMember) -> dict[str, Any]:
    return {"image_id": row.image_id, "member_id": row.member, "status": row.status,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at), "schema": "/v2/schemas/member"}


def task(row: models.Task) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "status": row.status, "owner": row.owner, "input": row.input,
            "result": row.result, "message": row.message or "", "image_id": row.image_id,
            "request_id": row.request_id, "user_id": row.user_id,
            "expires_at": iso(row.expires_at) if row.expires_at else None, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "self": f"/v2/tasks/{row.id}", "schema": "/v2/schemas/task"}
