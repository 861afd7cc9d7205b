"""Block-storage API app, mounted at ``/volume``; the catalog URL is ``/volume/v3/<project>``."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle

SPEC = ServiceSpec("volume", "/volume", "block-storage", ErrorStyle.COMPUTE)

MIN_MICROVERSION = "3.0"
MAX_MICROVERSION = "3.0"

V3 = versions.Version(
    id="v3.0", path="v3", status="CURRENT", updated="2023-08-31T00:00:00Z",
    media_type="application/vnd.openstack.volume+json;version=3",
    version=MAX_MICROVERSION, min_version=MIN_MICROVERSION,
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (300, {"versions": [V3.document(root)]}),
        "Block Storage API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/v3", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V3.document(root)]}),
        "Block Storage v3 version document (as Cinder, a list)", versions.VERSIONS_LIST_SCHEMA,
    ))
    return finish(app)
