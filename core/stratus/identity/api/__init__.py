"""Identity API app, mounted at ``/identity``.

Serves Keystone's discovery documents and ``/v3/auth/*`` (tokens, catalog, scopes).
CRUD for domains, projects, users, groups, roles, assignments, the catalog and
application credentials is not built yet.
"""

from __future__ import annotations

from typing import Any

from stratus.api import versions
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy
from stratus.identity import policies
from stratus.identity.api import (
    app_creds,
    auth,
    catalog,
    credentials,
    domain_configs,
    endpoint_groups,
    limits,
    policy_documents,
    projects,
    roles,
    users,
)

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
        add_identity_routes(app, identity, Policy(deps.conf, policies.RULES))
    return finish(app)


def add_identity_routes(app: ServiceApp, identity: Any, policy: Policy) -> None:
    app.add_route("/v3/auth/tokens", auth.AuthTokens(identity, policy))
    app.add_route("/v3/auth/catalog", auth.AuthCatalog(identity))
    app.add_route("/v3/auth/projects", auth.AuthProjects(identity))
    app.add_route("/v3/auth/domains", auth.AuthDomains(identity))
    app.add_route("/v3/domains", projects.Domains(identity, policy))
    app.add_route("/v3/domains/{domain_id}", projects.Domain(identity, policy))
    app.add_route("/v3/projects", projects.Projects(identity, policy))
    app.add_route("/v3/projects/{project_id}", projects.Project(identity, policy))
    app.add_route("/v3/projects/{project_id}/tags", projects.ProjectTags(identity, policy))
    app.add_route("/v3/projects/{project_id}/tags/{tag}", projects.ProjectTag(identity, policy))
    app.add_route("/v3/users", users.Users(identity, policy))
    app.add_route("/v3/users/{user_id}", users.UserItem(identity, policy))
    app.add_route("/v3/users/{user_id}/password", users.UserPassword(identity, policy))
    app.add_route("/v3/users/{user_id}/projects", users.UserProjects(identity, policy))
    app.add_route("/v3/users/{user_id}/groups", users.UserGroups(identity, policy))
    app.add_route("/v3/users/{user_id}/application_credentials", app_creds.AppCredentials(identity, policy))
    app.add_route("/v3/users/{user_id}/application_credentials/{credential_id}",
                  app_creds.AppCredential(identity, policy))
    app.add_route("/v3/users/{user_id}/access_rules", app_creds.AccessRules(identity, policy))
    app.add_route("/v3/users/{user_id}/access_rules/{rule_id}", app_creds.AccessRuleItem(identity, policy))
    endpoint_groups.add_routes(app, identity, policy)
    domain_configs.add_routes(app, identity, policy)
    limits.add_routes(app, identity, policy)
    app.add_route("/v3/policies", policy_documents.Policies(identity, policy))
    app.add_route("/v3/policies/{policy_id}", policy_documents.PolicyItem(identity, policy))
    app.add_route("/v3/credentials", credentials.Credentials(identity, policy))
    app.add_route("/v3/credentials/{credential_id}", credentials.CredentialItem(identity, policy))
    app.add_route("/v3/users/{user_id}/credentials/OS-EC2", credentials.Ec2Credentials(identity, policy))
    app.add_route("/v3/users/{user_id}/credentials/OS-EC2/{access}", credentials.Ec2Credential(identity, policy))
    app.add_route("/v3/s3tokens", credentials.S3Tokens(identity))
    app.add_route("/v3/groups", users.Groups(identity, policy))
    app.add_route("/v3/groups/{group_id}", users.GroupItem(identity, policy))
    app.add_route("/v3/groups/{group_id}/users", users.GroupUsers(identity, policy))
    app.add_route("/v3/groups/{group_id}/users/{user_id}", users.GroupMember(identity, policy))
    app.add_route("/v3/roles", roles.Roles(identity, policy))
    app.add_route("/v3/roles/{role_id}", roles.RoleItem(identity, policy))
    app.add_route("/v3/role_assignments", roles.RoleAssignments(identity, policy))
    app.add_route("/v3/roles/{role_id}/implies", roles.RoleInferences(identity, policy, one=True))
    app.add_route("/v3/roles/{role_id}/implies/{implied_role_id}", roles.RoleInference(identity, policy))
    app.add_route("/v3/role_inferences", roles.RoleInferences(identity, policy, one=False))
    for target, prefix in (("project", "/v3/projects/{project_id}"), ("domain", "/v3/domains/{domain_id}"),
                           ("system", "/v3/system")):
        for actor in ("user", "group"):
            base = f"{prefix}/{actor}s/{{{actor}_id}}/roles"
            app.add_route(base, roles.GrantList(identity, policy, target, actor))
            app.add_route(f"{base}/{{role_id}}", roles.Grant(identity, policy, target, actor))
    for target, prefix in (("domain", "/v3/OS-INHERIT/domains/{domain_id}"),
                           ("project", "/v3/OS-INHERIT/projects/{project_id}")):
        for actor in ("user", "group"):
            base = f"{prefix}/{actor}s/{{{actor}_id}}/roles"
            app.add_route(f"{base}/inherited_to_projects", roles.GrantList(identity, policy, target, actor, True))
            app.add_route(f"{base}/{{role_id}}/inherited_to_projects",
                          roles.Grant(identity, policy, target, actor, True))
    for kind in (catalog.REGION, catalog.SERVICE, catalog.ENDPOINT):
        app.add_route(f"/v3/{kind.key}s", catalog.CatalogCollection(identity, policy, kind))
        app.add_route(f"/v3/{kind.key}s/{{item_id}}", catalog.CatalogItem(identity, policy, kind))
