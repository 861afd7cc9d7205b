"""The composite WSGI app: every service's app under its path prefix on one port.

``build(deps)`` is what ``stratus api`` and ``stratus up`` serve, and what a WSGI server
mounts (see ``etc/gunicorn.conf.py.example``). Unknown prefixes get a JSON 404; ``/``
lists the mounted services and ``/healthcheck`` answers 200 while the process serves.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from stratus import registry
from stratus.api import bodies
from stratus.api.app import ApiDeps, ServiceApp
from stratus.api.errors import ErrorStyle, render

#: the API modules mounted by default, in catalog order (from the registry)
SERVICE_MODULES = registry.api_modules()


class CompositeApp:
    def __init__(self, apps: Iterable[ServiceApp]) -> None:
        self.apps = {app.spec.prefix.rstrip("/"): app for app in apps}
        # longest prefix first so /volume-backup would not be taken by /volume
        self._ordered = sorted(self.apps.items(), key=lambda item: len(item[0]), reverse=True)

    def _json(self, start_response: Callable, status: str, body: Any) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "") or "/"
        for prefix, app in self._ordered:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                return app(environ, start_response)
        return bodies.serve(self._own, environ, start_response)

    def _own(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/healthcheck":
            return self._json(start_response, "200 OK", {"status": "ok"})
        if path == "/":
            base = environ.get("SCRIPT_NAME", "").rstrip("/")
            services = [{"name": app.spec.name, "type": app.spec.catalog_type, "path": base + prefix}
                        for prefix, app in self.apps.items()]
            return self._json(start_response, "200 OK", {"services": services})
        _, body = render(ErrorStyle.IDENTITY, 404, f"No service is mounted at {path}.")
        data = body.encode()
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def build(deps: ApiDeps, modules: Iterable[str] | None = None) -> CompositeApp:
    """Create the app of every service ``[api] services`` names (or of ``modules``) with
    ``deps`` and mount it at its prefix; ``deps.apps`` lists them by catalog type (services
    calling each other's APIs in-process find them there)."""
    if modules is None:
        served = set(deps.conf.api.services)
        modules = [module for s in registry.SERVICES if s.name in served for module in s.api_modules()]
    apps = [importlib.import_module(name).create_app(deps) for name in modules]
    deps.apps.update({app.spec.catalog_type: app for app in apps})
    return CompositeApp(apps)
