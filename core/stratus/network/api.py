"""Networking API app, mounted at ``/network`` (clients append ``v2.0``)."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle

SPEC = ServiceSpec("network", "/network", "network", ErrorStyle.NETWORK)

V2_0 = versions.Version(
    id="v2.0", path="v2.0", status="CURRENT", updated="2014-01-01T00:00:00Z",
    media_type="application/json",
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V2_0.document(root)]}),
        "Networking API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    return finish(app)
