"""Image API app, mounted at ``/image`` (an unversioned root: clients discover ``v2``)."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.middleware import EmptyIdIsNotFound
from stratus.api.policy import Policy
from stratus.image import policies
from stratus.image.api import actions, data, images, imports, locations, members, schemas, tags

SPEC = ServiceSpec("image", "/image", "image", ErrorStyle.COMPUTE)

V2 = versions.Version(
    id="v2.0", path="v2", status="CURRENT", updated="2012-11-01T00:00:00Z",
    media_type="application/vnd.openstack.image-v2+json",
)


def _versions(root: str) -> tuple[int, dict]:
    return 300, {"versions": [V2.document(root)]}


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps, [EmptyIdIsNotFound()])
    app.add_route("/", versions.VersionDocument(deps.conf, _versions, "Image API versions",
                                                versions.VERSIONS_LIST_SCHEMA))
    app.add_route("/v2", versions.VersionDocument(deps.conf, _versions, "Image API versions (from v2)",
                                                  versions.VERSIONS_LIST_SCHEMA))
    service = deps.services.get("image")
    if service is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v2/images", images.Images(service, policy))
        app.add_route("/v2/images/{image_id}", images.ImageItem(service, policy))
        app.add_route("/v2/images/{image_id}/file", data.ImageData(service, policy))
        app.add_route("/v2/images/{image_id}/stage", data.ImageStage(service, policy))
        app.add_route("/v2/images/{image_id}/import", imports.ImageImport(service, policy))
        app.add_route("/v2/images/{image_id}/locations", locations.ImageLocations(service, policy))
        app.add_route("/v2/images/{image_id}/tags/{tag}", tags.ImageTag(service, policy))
        app.add_route("/v2/images/{image_id}/members", members.Members(service, policy))
        app.add_route("/v2/images/{image_id}/members/{member_id}", members.Member(service, policy))
        for action in ("deactivate", "reactivate"):
            app.add_route(f"/v2/images/{{image_id}}/actions/{action}", actions.ImageAction(service, policy, action))
        app.add_route("/v2/info/import", imports.ImportInfo(service))
        app.add_route("/v2/info/stores", imports.StoresInfo(service))
    for name in schemas.ALL:
        app.add_route(f"/v2/schemas/{name}", schemas.Schema(name))
    return finish(app)
