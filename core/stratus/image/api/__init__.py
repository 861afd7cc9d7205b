"""Image API app, mounted at ``/image`` (an unversioned root: clients discover ``v2``).

Implemented so far: create, list (filters, sort, marker/limit), show and delete images, and
streaming upload/download of their data. Not yet: PATCH, members, tags API, import,
schemas, info, quotas, deactivation.
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy
from stratus.image import policies
from stratus.image.api import images

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
    service = deps.services.get("image")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v2/images", images.Images(service, policy))
        app.add_route("/v2/images/{image_id}", images.ImageItem(service, policy))
        app.add_route("/v2/images/{image_id}/file", images.ImageData(service, policy))
    return finish(app)
