"""``/v2/schemas/*``: the JSON schemas of image and member documents, as Glance publishes them."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.validation import schema
from stratus.image import attributes, listing

_STRING = {"type": ["null", "string"], "readOnly": True}
_INT = {"type": ["null", "integer"], "readOnly": True}
IMAGE: dict[str, Any] = {
    "name": "image",
    "properties": {
        **attributes.PROPERTIES,
        "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                                            "-([0-9a-fA-F]){12}$", "description": "An identifier for the image"},
        "status": {"enum": [*listing.STATUSES, "deleted"], "readOnly": True, "description": "Status of the image"},
        "size": _INT, "virtual_size": _INT, "checksum": {**_STRING, "maxLength": 32},
        "os_hash_algo": {**_STRING, "maxLength": 64}, "os_hash_value": {**_STRING, "maxLength": 128},
        "created_at": {"type": "string", "readOnly": True, "format": "date-time"},
        "updated_at": {"type": "string", "readOnly": True, "format": "date-time"},
        "self": {"type": "string", "readOnly": True}, "file": {"type": "string", "readOnly": True},
        "schema": {"type": "string", "readOnly": True}, "stores": {"type": "string", "readOnly": True},
        "direct_url": {"type": "string", "readOnly": True,
                       "description": "URL to access the image file kept in external store"},
        "tags": {**attributes.PROPERTIES["tags"], "description": "List of strings related to the image"},
    },
    "additionalProperties": {"type": "string"},
    "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
              {"rel": "describedby", "href": "{schema}"}],
}
IMAGES = {
    "name": "images",
    "properties": {"images": {"type": "array", "items": IMAGE}, "schema": {"type": "string"},
                   "first": {"type": "string"}, "next": {"type": "string"}},
    "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
              {"rel": "describedby", "href": "{schema}"}],
}
MEMBER = {
    "name": "member",
    "properties": {
        "image_id": {"type": "string"}, "member_id": {"type": "string"},
        "status": {"enum": list(listing.MEMBER_STATUSES)},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}, "schema": {"type": "string", "readOnly": True},
    },
}
MEMBERS = {"name": "members", "properties": {"members": {"type": "array", "items": MEMBER},
                                             "schema": {"type": "string"}},
           "links": [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}]}
TASK = {
    "name": "task",
    "properties": {
        "id": {"type": "string", "description": "An identifier for the task"},
        "type": {"enum": ["import", "api_image_import"], "description": "The type of task"},
        "status": {"enum": ["pending", "processing", "success", "failure"], "description": "Its status"},
        "input": {"type": ["null", "object"]}, "result": {"type": ["null", "object"]},
        "owner": {"type": "string"}, "message": {"type": "string"},
        "image_id": {"type": ["null", "string"]}, "request_id": {"type": ["null", "string"]},
        "user_id": {"type": ["null", "string"]},
        "expires_at": {"type": ["null", "string"]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"}, "self": {"type": "string"}, "schema": {"type": "string"},
    },
    "links": [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}],
}
TASKS = {"name": "tasks", "properties": {"tasks": {"type": "array", "items": TASK}, "schema": {"type": "string"},
                                         "first": {"type": "string"}, "next": {"type": "string"}},
         "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                   {"rel": "describedby", "href": "{schema}"}]}
ALL = {"image": IMAGE, "images": IMAGES, "member": MEMBER, "members": MEMBERS, "task": TASK, "tasks": TASKS}


class Schema:
    def __init__(self, name: str, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else ALL[name]

    @schema("A JSON schema of the image API", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
