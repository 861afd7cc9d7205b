"""Object-storage API app, mounted at ``/object-store``; accounts at ``/v1/AUTH_<project>``.

Swift has no version document; clients read ``/info`` (capabilities) instead. The root
lists v1 for discovery tools that look.
"""

from __future__ import annotations

import falcon

from stratus import __version__
from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.validation import schema

SPEC = ServiceSpec("object-store", "/object-store", "object-store", ErrorStyle.OBJECT, "x-trans-id")

V1 = versions.Version(id="v1.0", path="v1", status="CURRENT", updated="2011-01-01T00:00:00Z",
                      media_type="application/json")


class Info:
    """``GET /info``: the cluster's capabilities, as Swift publishes them."""

    auth_required = False

    @schema("Object-storage capabilities", responses={200: {
        "type": "object", "required": ["swift"],
        "properties": {"swift": {"type": "object", "required": ["version"]}},
    }})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"swift": {"version": f"stratus-{__version__}"}}


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V1.document(root)]}),
        "Object Storage API versions", versions.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/info", Info())
    return finish(app)
