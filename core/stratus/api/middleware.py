"""The middleware every service app runs, in this order: request id, body limit, auth
context, then (on the way out) the ``stratus_request_finished`` hook.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import falcon

from stratus.context import RequestContext, new_request_id
from stratus.exceptions import NotAuthenticated

_GLOBAL_REQUEST_ID = re.compile(r"^req-[a-f0-9]{8}(-[a-f0-9]{4}){3}-[a-f0-9]{12}$")

#: ``authenticator(req) -> RequestContext | None``: None when the request carries no credentials
Authenticator = Callable[[falcon.Request], RequestContext | None]


class RequestId:
    """Gives each request an id, returned in ``x-openstack-request-id`` (and the service's
    legacy header, e.g. ``x-compute-request-id``). An inbound ``X-OpenStack-Request-ID`` of
    the right form is kept as the global request id, as Nova does.
    """

    def __init__(self, extra_header: str | None = None, new_id: Callable[[], str] = new_request_id) -> None:
        self.extra_header = extra_header
        self.new_id = new_id

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = self.new_id()
        req.context.started = time.monotonic()
        inbound = req.get_header("X-OpenStack-Request-ID")
        req.context.global_request_id = inbound if inbound and _GLOBAL_REQUEST_ID.match(inbound) else None

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        request_id = getattr(req.context, "request_id", None)
        if request_id:
            resp.set_header("x-openstack-request-id", request_id)
            if self.extra_header:
                resp.set_header(self.extra_header, request_id)


class BodyLimit:
    """Sets the route's body limit: ``resource.max_body_size`` (None: unlimited, for data
    uploads) or ``[api] max_request_body_size``. Bodies announced larger get 413 at once.
    """

    def __init__(self, default_limit: int) -> None:
        self.default_limit = default_limit

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        limit = getattr(resource, "max_body_size", self.default_limit) if resource is not None else self.default_limit
        req.context.max_body_size = limit
        if limit is not None and req.content_length is not None and req.content_length > limit:
            raise falcon.HTTPContentTooLarge(
                description=f"Request is too large: {req.content_length} bytes, the limit is {limit}."
            )


class AuthContext:
    """Fills ``req.context.stratus`` with a :class:`RequestContext`.

    ``authenticator`` (from the identity service) turns credentials into a context; with
    none, or no credentials, the context is anonymous. Resources are protected unless they
    set ``auth_required = False`` (version documents, token issue).
    """

    def __init__(self, authenticator: Authenticator | None, service_type: str = "") -> None:
        self.authenticator = authenticator
        self.service_type = service_type

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        required = resource is not None and getattr(resource, "auth_required", True)
        try:
            context = self.authenticator(req) if self.authenticator is not None else None
        except NotAuthenticated:
            if required:
                raise
            context = None  # a stale token on a public route (issuing a new one) is ignored
        if context is None:
            context = RequestContext()
        context.request_id = req.context.request_id
        context.global_request_id = req.context.global_request_id
        req.context.stratus = context
        if required and not context.is_authenticated:
            raise NotAuthenticated("The request you have made requires authentication.")
        if context.access_rules is not None and required and not req.env.get(INTERNAL) \
                and self.service_type != "identity" and not allowed(context.access_rules, self.service_type,
                                                                   req.method, req.env.get("PATH_INFO", "")):
            raise NotAuthenticated("Token authorization failed: the application credential's access rules do "
                                   f"not allow {req.method} {req.env.get('PATH_INFO', '')} on {self.service_type}.")


#: set in the WSGI environ of a request one service makes of another in-process (a chain of
#: requests for the user, as a service token marks it: access rules apply to the first only)
INTERNAL = "stratus.internal"
_PATTERN_TOKEN = re.compile(r"(?P<tag>{[^}]*})|(?P<wild>\*(?=$|[^*]))|(?P<any>\*\*)|(?P<literal>[^{}*])")


def path_matches(path: str, pattern: str) -> bool:
    """Whether ``path`` matches an access rule's ``pattern``: ``*`` or ``{name}`` stands for one
    path segment, ``**`` for any number of them (keystonemiddleware's rule)."""
    regex = ""
    for token in _PATTERN_TOKEN.finditer(pattern):
        if token["tag"] or token["wild"]:
            regex += r"[^/]+"
        elif token["any"]:
            regex += ".*"
        else:
            regex += re.escape(token["literal"])
    return re.fullmatch(regex, path) is not None


def allowed(rules: list[dict[str, str]], service_type: str, method: str, path: str) -> bool:
    """Whether some access rule lets ``method path`` through on ``service_type``."""
    return any(rule["service"] == service_type and rule["method"] == method and path_matches(path, rule["path"])
               for rule in rules)


class RequestFinished:
    """Calls the ``stratus_request_finished`` hook after each response."""

    def __init__(self, service: str, notify: Callable[..., None]) -> None:
        self.service = service
        self.notify = notify

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        started = getattr(req.context, "started", None)
        self.notify(
            "stratus_request_finished", service=self.service, method=req.method, path=req.path,
            status=resp.status_code,
            duration=time.monotonic() - started if started else 0.0,
            context=getattr(req.context, "stratus", None),
        )


class EmptyIdIsNotFound:
    """A path ending in ``/`` below a version (``/v2.1/images/``, ``/v2/images/``) names an
    item with an empty id: 404, as Nova and Glance answer — not the collection (a listing, or
    405 for a method the collection lacks), which dropping the slash would reach. Version
    roots (``/v2.1/``) keep their slash for discovery."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.env.get("PATH_INFO", "")
        if raw.endswith("/") and len([part for part in raw.split("/") if part]) >= 2:
            from stratus.exceptions import NotFound

            raise NotFound(f"The resource could not be found: {raw} names no item (its id is empty).")
