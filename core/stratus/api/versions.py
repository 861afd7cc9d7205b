"""Version documents: the shapes keystoneauth's discovery and the SDK accept.

Each service root serves its document without authentication. Links are built from
``[api] public_endpoint`` when set (a proxy in front), else from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon

from stratus.api.validation import OperationSchema


def service_root(req: falcon.Request, conf: Any) -> str:
    """The public URL of the service the request reached, without a trailing slash (worked
    out once per request: a list's every item links to it)."""
    known = getattr(req.context, "service_root", None)
    if known is not None:
        return known
    public = conf.api.public_endpoint
    root = public.rstrip("/") + req.root_path if public else req.prefix.rstrip("/")
    req.context.service_root = root
    return root


@dataclass(frozen=True)
class Version:
    """One API version of a service.

    :param id: e.g. ``"v2.1"``. :param path: its path below the service root (``"v2.1"``).
    :param status: ``CURRENT``, ``SUPPORTED``, ``DEPRECATED`` (Keystone writes ``stable``).
    :param version: highest microversion ("" when the API has none); ``min_version`` lowest.
    """

    id: str
    path: str
    status: str
    updated: str
    media_type: str
    version: str | None = None
    min_version: str | None = None

    def document(self, root: str, describedby: str | None = None) -> dict[str, Any]:
        links = [{"rel": "self", "href": f"{root}/{self.path}/"}]
        if describedby:
            links.append({"rel": "describedby", "type": "text/html", "href": describedby})
        doc: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "updated": self.updated,
            "links": links,
            "media-types": [{"base": "application/json", "type": self.media_type}],
        }
        if self.version is not None:
            doc["version"] = self.version
            doc["min_version"] = self.min_version or ""
        return doc


class VersionDocument:
    """Serves ``build(root) -> (status, body)`` at a route; no authentication needed."""

    auth_required = False

    def __init__(self, conf: Any, build: Callable[[str], tuple[int, dict[str, Any]]], summary: str,
                 schema: dict[str, Any]) -> None:
        self.conf = conf
        self.build = build
        status, _ = build("http://example")
        self.operation_schemas = {"get": OperationSchema(summary, None, {status: schema})}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status, body = self.build(service_root(req, self.conf))
        resp.status = status
        resp.media = body


VERSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "links"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string"},
        "updated": {"type": "string"},
        "version": {"type": "string"},
        "min_version": {"type": "string"},
        "links": {
            "type": "array",
            "items": {"type": "object", "required": ["rel", "href"],
                      "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}},
            "contains": {"type": "object", "properties": {"rel": {"const": "self"}}},
        },
        "media-types": {"type": "array"},
    },
}
VERSIONS_LIST_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["versions"],
    "properties": {"versions": {"type": "array", "items": VERSION_SCHEMA, "minItems": 1}},
}
VERSIONS_VALUES_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["versions"],
    "properties": {"versions": {"type": "object", "required": ["values"],
                                "properties": {"values": {"type": "array", "items": VERSION_SCHEMA, "minItems": 1}}}},
}
VERSION_SINGLE_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["version"], "properties": {"version": VERSION_SCHEMA},
}
