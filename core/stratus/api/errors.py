"""OpenStack-style error bodies, in the flavour each service's clients expect.

Every error a Stratus API sends — a routing 404/405, a malformed body, a domain
exception, a bug — goes through :func:`render`, so clients always get a body they parse.
"""

from __future__ import annotations

import enum
import json
import logging
from http import HTTPStatus
from typing import Any

import falcon

from stratus.exceptions import StratusError

LOG = logging.getLogger(__name__)


class ErrorStyle(enum.Enum):
    #: Nova and Cinder: ``{"itemNotFound": {"code": 404, "message": "..."}}``
    COMPUTE = "compute"
    #: Keystone (and Glance's JSON errors): ``{"error": {"code": 404, "message": "...", "title": "Not Found"}}``
    IDENTITY = "identity"
    #: Neutron: ``{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}``
    NETWORK = "network"
    #: Swift: a short plain-text body
    OBJECT = "object"


_COMPUTE_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

_NETWORK_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden", 404: "HTTPNotFound",
                  405: "HTTPMethodNotAllowed", 409: "HTTPConflict", 413: "HTTPRequestEntityTooLarge"}


def title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def render(style: ErrorStyle, status: int, message: str, error_type: str | None = None) -> tuple[str, str]:
    """Return ``(content_type, body)`` for an error."""
    if style is ErrorStyle.OBJECT:
        return "text/plain; charset=UTF-8", f"{title_for(status)}: {message}" if message else title_for(status)
    if style is ErrorStyle.IDENTITY:
        body: dict[str, Any] = {"error": {"code": status, "message": message, "title": title_for(status)}}
    elif style is ErrorStyle.NETWORK:
        kind = error_type or _NETWORK_TYPES.get(status, "HTTPError")
        body = {"NeutronError": {"type": kind, "message": message, "detail": ""}}
    else:
        fault = _COMPUTE_FAULTS.get(status, "computeFault")
        body = {fault: {"code": status, "message": message}}
    return "application/json", json.dumps(body)


def _send(resp: falcon.Response, style: ErrorStyle, status: int, message: str, error_type: str | None = None) -> None:
    content_type, text = render(style, status, message, error_type)
    resp.status = status
    resp.content_type = content_type
    resp.text = text


def install_handlers(app: falcon.App, style: ErrorStyle) -> None:
    """Make ``app`` answer every error in ``style``."""

    def http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict) -> None:
        for name, value in (ex.headers or {}).items():
            resp.set_header(name, value)
        if isinstance(ex, falcon.HTTPRouteNotFound):
            message = f"The resource could not be found: this API has nothing at {req.root_path}{req.path}."
        elif isinstance(ex, falcon.HTTPMethodNotAllowed):
            message = f"The method {req.method} is not allowed for this resource."
        else:
            message = ex.description or ex.title or title_for(ex.status_code)
        _send(resp, style, ex.status_code, message)

    def stratus_error(req: falcon.Request, resp: falcon.Response, ex: StratusError, params: dict) -> None:
        if ex.http_status >= 500:
            LOG.error("%s %s failed: %s", req.method, req.path, ex)
        _send(resp, style, ex.http_status, ex.message, type(ex).__name__)

    def unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
        request_id = getattr(req.context, "request_id", "")
        LOG.exception("%s %s failed unexpectedly (request %s)", req.method, req.path, request_id)
        _send(resp, style, 500, f"An unexpected error prevented the request from being fulfilled. "
                                f"(request {request_id})")

    # falcon picks the handler registered for the nearest class in the exception's MRO
    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(StratusError, stratus_error)
    app.add_error_handler(falcon.HTTPError, http_error)
