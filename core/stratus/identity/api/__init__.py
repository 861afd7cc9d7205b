"""Identity API app, mounted at ``/identity``.

Serves Keystone's discovery documents and ``/v3/auth/*`` (tokens, catalog, scopes).
CRUD for domains, projects, users, groups, roles, assignments, the catalog and
application credentials is not built yet.
"""

from __future__ import annotations

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy
from stratus.identity import policies
from stratus.identity.api import auth

SPEC = ServiceSpec("identity", "/identity", "identity", ErrorStyle.IDENTITY)

V3 = versions.Version(
    id="v3.14", path="v3", status="stable", updated="2020-04-07T00:00:00Z",
    media_type="application/vnd.openstack.identity-v3+json",
)


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    app.add_route("/", versions.VersionDocument(
        deps.conf, lambda root: (300, {"versions": {"values": [V3.document(root)]}}),
        "Identity API versions (300 Multiple Choices, as Keystone answers)", versions.VERSIONS_VALUES_SCHEMA,
    ))
    app.add_route("/v3", versions.VersionDocument(
        deps.conf, lambda root: (200, {"version": V3.document(root)}),
        "Identity v3 version document", versions.VERSION_SINGLE_SCHEMA,
    ))
    identity = deps.services.get("identity")
    if identity is not None:
        policy = Policy(deps.conf, policies.RULES)
        app.add_route("/v3/auth/tokens", auth.AuthTokens(identity, policy))
        app.add_route("/v3/auth/catalog", auth.AuthCatalog(identity))
        app.add_route("/v3/auth/projects", auth.AuthProjects(identity))
        app.add_route("/v3/auth/domains", auth.AuthDomains(identity))
    return finish(app)
