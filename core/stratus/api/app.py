"""The app factory every service API uses.

A service module declares a :class:`ServiceSpec` and a ``create_app(deps)`` that calls
:func:`create_service_app` and adds its routes with :meth:`ServiceApp.add_route`. All
dependencies come in through :class:`ApiDeps`; nothing is looked up globally, so tests
and embedders build apps with whatever fakes they like.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import falcon
import orjson

from stratus.api import bodies, errors, middleware
from stratus.api.errors import ErrorStyle
from stratus.hooks.manager import call_safely


@dataclass(frozen=True)
class ServiceSpec:
    """What distinguishes one service's API.

    :param name: catalog name, also used in hooks (``"compute"``).
    :param prefix: mount point in the composite app (``"/compute"``).
    :param catalog_type: service type in the catalog (``"compute"``, ``"block-storage"``).
    :param error_style: the error-body flavour its clients expect.
    :param request_id_header: legacy request-id header sent besides ``x-openstack-request-id``.
    :param request_id_factory: makes request ids in the service's own format (Swift's ``tx…``).
    """

    name: str
    prefix: str
    catalog_type: str
    error_style: ErrorStyle
    request_id_header: str | None = None
    #: makes each request's id (None: OpenStack's ``req-<uuid>``)
    request_id_factory: Callable[[], str] | None = None


@dataclass
class ApiDeps:
    """Everything an API app needs from outside.

    :param conf: the process's ``ConfigOpts``.
    :param plugins: the pluggy manager (:func:`stratus.hooks.manager.create_plugin_manager`).
    :param authenticator: credentials -> context; None until the identity service provides one.
    :param services: service-specific collaborators by name (databases, RPC clients, drivers).
    :param apps: the API apps served in this process by catalog type, filled once they are
        built (:func:`stratus.api.composite.build`): what :class:`~stratus.api.internal.ServiceCaller`
        calls (the other services' APIs over REST with ``service_auth``).
    """

    conf: Any
    plugins: Any
    authenticator: middleware.Authenticator | None = None
    services: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, Any] = field(default_factory=dict)
    #: the session other services' REST APIs are called with (a ServiceAuth), when a client is in rest mode
    service_auth: Any = None
    #: what else to release when the process stops
    closers: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    template: str
    resource: object
    suffix: str | None = None


class OnlyMethods:
    """``resource`` seen through one route that takes only ``methods`` (falcon and the OpenAPI
    document find responders by attribute, so the others are simply not there)."""

    def __init__(self, resource: object, methods: Iterable[str]) -> None:
        self._resource, self._methods = resource, {m.lower() for m in methods}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_") and name[3:].split("_")[0] not in self._methods:
            raise AttributeError(name)
        value = getattr(self._resource, name)
        if name == "operation_schemas":
            return {method: op for method, op in value.items() if method in self._methods}
        return value


def json_bytes(media: Any) -> bytes:
    """``media`` as JSON: by orjson (a 1000-server page renders in a sixth of the time), or by the
    standard library for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(media, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(media, ensure_ascii=False).encode()


#: responses' JSON (requests are still read by the standard library: it names what it refuses)
RESPONSE_JSON = falcon.media.JSONHandler(dumps=json_bytes)


class ServiceApp:
    """A falcon app plus the routes it serves (the OpenAPI document is built from them)."""

    def __init__(self, spec: ServiceSpec, deps: ApiDeps, extra_middleware: Sequence[object] = ()) -> None:
        self.spec = spec
        self.deps = deps
        self.routes: list[Route] = []
        notify: Callable[..., None] = lambda hook, **kw: call_safely(deps.plugins, hook, **kw)  # noqa: E731
        self.falcon = falcon.App(
            middleware=[
                middleware.RequestId(spec.request_id_header, *([spec.request_id_factory]
                                                               if spec.request_id_factory else [])),
                middleware.BodyLimit(deps.conf.api.max_request_body_size),
                middleware.AuthContext(deps.authenticator, spec.catalog_type),
                *extra_middleware,
                middleware.RequestFinished(spec.name, notify),
            ],
        )
        self.falcon.resp_options.media_handlers[falcon.MEDIA_JSON] = RESPONSE_JSON
        self.falcon.req_options.strip_url_path_trailing_slash = True
        self.falcon.req_options.auto_parse_qs_csv = False
        errors.install_handlers(self.falcon, spec.error_style)

    def add_route(self, template: str, resource: object, suffix: str | None = None,
                  methods: Iterable[str] | None = None) -> None:
        """Serve ``resource`` at ``template``; with ``methods``, only those (a resource shared by
        several routes answers each with its own methods, 405 for the rest)."""
        if methods is not None:
            resource = OnlyMethods(resource, methods)
        self.falcon.add_route(template, resource, suffix=suffix)
        self.routes.append(Route(template, resource, suffix))

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        return bodies.serve(self.falcon, environ, start_response)


def create_service_app(spec: ServiceSpec, deps: ApiDeps, extra_middleware: Sequence[object] = ()) -> ServiceApp:
    """Build the app with the shared middleware (then ``extra_middleware``, after
    authentication) and error handlers.

    The caller adds its routes, then calls :func:`finish`.
    """
    return ServiceApp(spec, deps, extra_middleware)


def finish(app: ServiceApp) -> ServiceApp:
    """Add the OpenAPI route and the plugins' routes; call after the service's own routes."""
    from stratus.api.openapi import OpenApiResource

    app.add_route("/openapi.json", OpenApiResource(app))
    app.deps.plugins.hook.stratus_api_routes(service=app.spec.name, app=app)
    return app
