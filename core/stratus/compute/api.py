"""Compute API app, mounted at ``/compute``.

Serves Nova's version documents. The advertised microversion range is the one really
implemented: 2.1 only until the compute issue adds more.
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle

SPEC = ServiceSpec("compute", "/compute", "compute", ErrorStyle.COMPUTE, "x-compute-request-id")

MIN_MICROVERSION = "2.1"
MAX_MICROVERSION = "2.1"

V2_1 = versions.Version(
    id="v2.1", path="v2.1", status="CURRENT", updated="2013-07-23T11:33:21Z",
    media_type="application/vnd.openstack.compute+json;version=2.1",
    version=MAX_MICROVERSION, min_version=MIN_MICROVERSION,
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V2_1.document(root)]}),
        "Compute API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/v2.1", versions.VersionDocument(
        deps.conf, lambda root: (200, {"version": V2_1.document(root)}),
        "Compute v2.1 version document with the microversion range", versions.VERSION_SINGLE_SCHEMA,
    ))
    return finish(app)
