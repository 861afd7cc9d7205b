"""Image API app, mounted at ``/image`` (an unversioned root: clients discover ``v2``)."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle

SPEC = ServiceSpec("image", "/image", "image", ErrorStyle.COMPUTE)

V2 = versions.Version(
    id="v2.0", path="v2", status="CURRENT", updated="2012-11-01T00:00:00Z",
    media_type="application/vnd.openstack.image-v2+json",
)


def _versions(root: str) -> tuple[int, dict]:
    return 300, {"versions": [V2.document(root)]}


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(deps.conf, _versions, "Image API versions",
                                                versions.VERSIONS_LIST_SCHEMA))
    app.add_route("/v2", versions.VersionDocument(deps.conf, _versions, "Image API versions (from v2)",
                                                  versions.VERSIONS_LIST_SCHEMA))
    return finish(app)
