"""Image API app, mounted at ``/image`` (an unversioned root: clients discover ``v2``)."""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.middleware import EmptyIdIsNotFound
from stratus.api.policy import Policy
from stratus.image import policies
from stratus.image.api import (
    actions,
    data,
    images,
    imports,
    locations,
    members,
    metadef_schemas,
    metadefs,
    schemas,
    stores,
    tags,
    tasks,
    usage,
)

SPEC = ServiceSpec("image", "/image", "image", ErrorStyle.COMPUTE)

# Glance's list for a cloud with several stores and no cache API (2.14, 2.16 and 2.18 are the
# cache's): every version is served at v2, the newest CURRENT
_IMAGE_VERSIONS = ("2.17", "2.15", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4",
                   "2.3", "2.2", "2.1", "2.0")
VERSIONS = [versions.Version(id=f"v{number}", path="v2", status="CURRENT" if number == _IMAGE_VERSIONS[0]
                             else "SUPPORTED", updated="2012-11-01T00:00:00Z",
                             media_type="application/vnd.openstack.image-v2+json") for number in _IMAGE_VERSIONS]


def _versions(root: str) -> tuple[int, dict]:
    return 300, {"versions": [version.document(root) for version in VERSIONS]}


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
        app.add_route("/v2/images/{image_id}/tasks", tasks.ImageTasks(service, policy))
        app.add_route("/v2/tasks", tasks.Tasks(service, policy))
        app.add_route("/v2/tasks/{task_id}", tasks.TaskItem(service, policy))
        app.add_route("/v2/info/import", imports.ImportInfo(service))
        app.add_route("/v2/info/stores", stores.StoresInfo(service))
        app.add_route("/v2/info/stores/detail", stores.StoresDetail(service, policy))
        app.add_route("/v2/info/usage", usage.Usage(service, policy))
        app.add_route("/v2/stores/{store_id}/{image_id}", stores.StoreImage(service, policy))
        metadefs.add_routes(app, service, policy)
    for name in schemas.ALL:
        app.add_route(f"/v2/schemas/{name}", schemas.Schema(name))
    for name, document in metadef_schemas.DOCUMENTS.items():
        app.add_route(f"/v2/schemas/{name}", schemas.Schema(name, document))
    return finish(app)
