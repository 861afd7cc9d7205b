"""OpenAPI 3.1 documents generated from the routes and the schemas responders validate with."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import falcon

from stratus import __version__
from stratus.api.validation import SCHEMA_ATTR, OperationSchema

if TYPE_CHECKING:
    from stratus.api.app import ServiceApp

_METHODS = ("get", "head", "post", "put", "patch", "delete")
_FIELD = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def _operation(app: ServiceApp, template: str, method: str, op: OperationSchema, resource: object) -> dict:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _FIELD.findall(template)
    ]
    params += [{"name": name, "in": "query", "required": False, "schema": dict(s)} for name, s in op.query.items()]
    responses: dict[str, Any] = {}
    for status, body in op.responses.items():
        entry: dict[str, Any] = {"description": falcon.code_to_http_status(status).split(" ", 1)[1]}
        if body is not None:
            entry["content"] = {"application/json": {"schema": dict(body)}}
        responses[str(status)] = entry
    operation: dict[str, Any] = {
        "operationId": f"{app.spec.name}:{method}:{template}",
        "summary": op.summary,
        "responses": responses or {"default": {"description": "see the summary"}},
    }
    if params:
        operation["parameters"] = params
    if op.request is not None:
        content = {op.request_content_type: {"schema": dict(op.request)}}
        operation["requestBody"] = {"required": True, "content": content}
    if not getattr(resource, "auth_required", True):
        operation["security"] = []
    return operation


def document(app: ServiceApp) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``; paths are relative to the service's prefix."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.routes:
        path = _FIELD.sub(lambda m: "{" + m.group(1) + "}", route.template)
        for method in _METHODS:
            name = f"on_{method}" + (f"_{route.suffix}" if route.suffix else "")
            responder = getattr(route.resource, name, None)
            op = getattr(route.resource, "operation_schemas", {}).get(method) or getattr(responder, SCHEMA_ATTR, None)
            if op is not None:
                paths.setdefault(path, {})[method] = _operation(app, route.template, method, op, route.resource)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Stratus {app.spec.name} API", "version": __version__},
        "servers": [{"url": app.spec.prefix}],
        "components": {"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}}},
        "security": [{"token": []}],
        "paths": paths,
    }


class OpenApiResource:
    """``GET <prefix>/openapi.json``."""

    auth_required = False

    def __init__(self, app: ServiceApp) -> None:
        self.app = app
        self._document: dict[str, Any] | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._document is None:
            self._document = document(self.app)
        resp.media = self._document
