"""Default policy rules of the identity API (overridable in the policy file).

Writes are for cloud administrators (the ``admin`` role is cloud-wide). Users may read
themselves, the projects they belong to, and change their own password.
"""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin"
ADMIN_OR_SELF = "rule:admin or user_id:%(target_user_id)s"
ADMIN_OR_PROJECT_MEMBER = "rule:admin or project_id:%(target_project_id)s"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(f"identity:{name}", check, description, [{"method": method, "path": path}])


RULES = [
    policy.RuleDefault("token_subject", "user_id:%(token_user_id)s",
                       "The user the token in X-Subject-Token was issued to."),
    _rule("validate_token", "rule:admin or rule:token_subject", "Validate a token.", "GET", "/v3/auth/tokens"),
    _rule("revoke_token", "rule:admin or rule:token_subject", "Revoke a token.", "DELETE", "/v3/auth/tokens"),
]
for noun, path in (("domain", "/v3/domains"), ("region", "/v3/regions"), ("service", "/v3/services"),
                   ("endpoint", "/v3/endpoints"), ("role", "/v3/roles"), ("group", "/v3/groups"),
                   ("user", "/v3/users"), ("project", "/v3/projects")):
    RULES += [
        _rule(f"create_{noun}", ADMIN, f"Create a {noun}.", "POST", path),
        _rule(f"update_{noun}", ADMIN, f"Update a {noun}.", "PATCH", f"{path}/{{id}}"),
        _rule(f"delete_{noun}", ADMIN, f"Delete a {noun}.", "DELETE", f"{path}/{{id}}"),
    ]
RULES += [
    _rule("list_domains", ADMIN, "List domains.", "GET", "/v3/domains"),
    _rule("get_domain", "rule:admin or domain_id:%(target_domain_id)s or project_domain_id:%(target_domain_id)s",
          "Show a domain.", "GET", "/v3/domains/{id}"),
    _rule("list_projects", ADMIN, "List projects.", "GET", "/v3/projects"),
    _rule("get_project", ADMIN_OR_PROJECT_MEMBER, "Show a project.", "GET", "/v3/projects/{id}"),
    _rule("get_project_tags", ADMIN_OR_PROJECT_MEMBER, "List a project's tags.", "GET", "/v3/projects/{id}/tags"),
    _rule("get_project_tag", ADMIN_OR_PROJECT_MEMBER, "Check a project's tag.", "GET",
          "/v3/projects/{id}/tags/{tag}"),
    _rule("update_project_tags", ADMIN, "Replace a project's tags.", "PUT", "/v3/projects/{id}/tags"),
    _rule("create_project_tag", ADMIN, "Add a tag to a project.", "PUT", "/v3/projects/{id}/tags/{tag}"),
    _rule("delete_project_tags", ADMIN, "Delete a project's tags.", "DELETE", "/v3/projects/{id}/tags"),
    _rule("delete_project_tag", ADMIN, "Delete a tag of a project.", "DELETE", "/v3/projects/{id}/tags/{tag}"),
    _rule("list_users", ADMIN, "List users.", "GET", "/v3/users"),
    _rule("get_user", ADMIN_OR_SELF, "Show a user.", "GET", "/v3/users/{id}"),
    _rule("list_user_projects", ADMIN_OR_SELF, "Projects of a user.", "GET", "/v3/users/{id}/projects"),
    _rule("list_groups_for_user", ADMIN_OR_SELF, "Groups of a user.", "GET", "/v3/users/{id}/groups"),
    _rule("list_groups", ADMIN, "List groups.", "GET", "/v3/groups"),
    _rule("get_group", ADMIN, "Show a group.", "GET", "/v3/groups/{id}"),
    _rule("list_users_in_group", ADMIN, "Members of a group.", "GET", "/v3/groups/{id}/users"),
    _rule("add_user_to_group", ADMIN, "Add a user to a group.", "PUT", "/v3/groups/{id}/users/{user}"),
    _rule("remove_user_from_group", ADMIN, "Remove a user from a group.", "DELETE", "/v3/groups/{id}/users/{user}"),
    _rule("check_user_in_group", ADMIN, "Check membership.", "HEAD", "/v3/groups/{id}/users/{user}"),
    _rule("list_roles", "rule:admin_or_reader", "List roles.", "GET", "/v3/roles"),
    _rule("get_role", "rule:admin_or_reader", "Show a role.", "GET", "/v3/roles/{id}"),
    _rule("create_grant", ADMIN, "Assign a role.", "PUT", "/v3/projects/{p}/users/{u}/roles/{r}"),
    _rule("revoke_grant", ADMIN, "Unassign a role.", "DELETE", "/v3/projects/{p}/users/{u}/roles/{r}"),
    _rule("check_grant", ADMIN, "Check an assignment.", "HEAD", "/v3/projects/{p}/users/{u}/roles/{r}"),
    _rule("list_grants", ADMIN, "List the roles of an actor on a target.", "GET", "/v3/projects/{p}/users/{u}/roles"),
    _rule("list_role_assignments", ADMIN, "List role assignments.", "GET", "/v3/role_assignments"),
    _rule("create_implied_role", ADMIN, "Make a role imply another.", "PUT", "/v3/roles/{prior}/implies/{implied}"),
    _rule("get_implied_role", ADMIN, "Show a role inference.", "GET", "/v3/roles/{prior}/implies/{implied}"),
    _rule("check_implied_role", ADMIN, "Check a role inference.", "HEAD", "/v3/roles/{prior}/implies/{implied}"),
    _rule("delete_implied_role", ADMIN, "Delete a role inference.", "DELETE", "/v3/roles/{prior}/implies/{implied}"),
    _rule("list_implied_roles", ADMIN, "What a role implies.", "GET", "/v3/roles/{prior}/implies"),
    _rule("list_role_inference_rules", ADMIN, "Every role inference.", "GET", "/v3/role_inferences"),
    _rule("create_application_credential", "user_id:%(target_user_id)s", "Create one's application credential.",
          "POST", "/v3/users/{id}/application_credentials"),
    _rule("list_application_credentials", ADMIN_OR_SELF, "List a user's application credentials.", "GET",
          "/v3/users/{id}/application_credentials"),
    _rule("get_application_credential", ADMIN_OR_SELF, "Show an application credential.", "GET",
          "/v3/users/{id}/application_credentials/{cred}"),
    _rule("delete_application_credential", ADMIN_OR_SELF, "Delete an application credential.", "DELETE",
          "/v3/users/{id}/application_credentials/{cred}"),
    _rule("list_access_rules", ADMIN_OR_SELF, "List a user's access rules.", "GET", "/v3/users/{id}/access_rules"),
    _rule("get_access_rule", ADMIN_OR_SELF, "Show an access rule.", "GET", "/v3/users/{id}/access_rules/{rule}"),
    _rule("delete_access_rule", ADMIN_OR_SELF, "Delete an access rule no credential uses.", "DELETE",
          "/v3/users/{id}/access_rules/{rule}"),
    _rule("create_credential", ADMIN_OR_SELF, "Store a credential (one's own).", "POST", "/v3/credentials"),
    _rule("list_credentials", ADMIN, "List everyone's credentials (others list their own).", "GET",
          "/v3/credentials"),
    _rule("get_credential", ADMIN_OR_SELF, "Show a credential.", "GET", "/v3/credentials/{id}"),
    _rule("update_credential", ADMIN_OR_SELF, "Update a credential.", "PATCH", "/v3/credentials/{id}"),
    _rule("delete_credential", ADMIN_OR_SELF, "Delete a credential.", "DELETE", "/v3/credentials/{id}"),
    _rule("ec2_create_credential", ADMIN_OR_SELF, "Make EC2 keys.", "POST", "/v3/users/{id}/credentials/OS-EC2"),
    _rule("ec2_list_credentials", ADMIN_OR_SELF, "List EC2 keys.", "GET", "/v3/users/{id}/credentials/OS-EC2"),
    _rule("ec2_get_credential", ADMIN_OR_SELF, "Show EC2 keys.", "GET",
          "/v3/users/{id}/credentials/OS-EC2/{access}"),
    _rule("ec2_delete_credential", ADMIN_OR_SELF, "Delete EC2 keys.", "DELETE",
          "/v3/users/{id}/credentials/OS-EC2/{access}"),
    _rule("create_policy", ADMIN, "Store a policy document.", "POST", "/v3/policies"),
    _rule("create_endpoint_group", ADMIN, "Create an endpoint group.", "POST", "/v3/OS-EP-FILTER/endpoint_groups"),
    _rule("list_endpoint_groups", ADMIN, "List endpoint groups.", "GET", "/v3/OS-EP-FILTER/endpoint_groups"),
    _rule("get_endpoint_group", ADMIN, "Show an endpoint group.", "GET", "/v3/OS-EP-FILTER/endpoint_groups/{id}"),
    _rule("update_endpoint_group", ADMIN, "Update an endpoint group.", "PATCH",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}"),
    _rule("delete_endpoint_group", ADMIN, "Delete an endpoint group.", "DELETE",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}"),
    _rule("list_endpoints_associated_with_endpoint_group", ADMIN, "List the endpoints a group selects.", "GET",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}/endpoints"),
    _rule("list_projects_associated_with_endpoint_group", ADMIN, "List the projects tied to an endpoint group.",
          "GET", "/v3/OS-EP-FILTER/endpoint_groups/{id}/projects"),
    _rule("get_endpoint_group_in_project", ADMIN, "Show that an endpoint group is tied to a project.", "GET",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}/projects/{project_id}"),
    _rule("add_endpoint_group_to_project", ADMIN, "Tie an endpoint group to a project.", "PUT",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}/projects/{project_id}"),
    _rule("remove_endpoint_group_from_project", ADMIN, "Untie an endpoint group from a project.", "DELETE",
          "/v3/OS-EP-FILTER/endpoint_groups/{id}/projects/{project_id}"),
    _rule("list_endpoint_groups_for_project", ADMIN, "List the endpoint groups tied to a project.", "GET",
          "/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups"),
    _rule("list_endpoints_for_project", ADMIN, "List the endpoints tied to a project.", "GET",
          "/v3/OS-EP-FILTER/projects/{project_id}/endpoints"),
    _rule("check_endpoint_in_project", ADMIN, "Check that an endpoint is tied to a project.", "GET",
          "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}"),
    _rule("add_endpoint_to_project", ADMIN, "Tie an endpoint to a project.", "PUT",
          "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}"),
    _rule("remove_endpoint_from_project", ADMIN, "Untie an endpoint from a project.", "DELETE",
          "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}"),
    _rule("list_projects_for_endpoint", ADMIN, "List the projects an endpoint is tied to.", "GET",
          "/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects"),
    _rule("list_policies", ADMIN, "List policy documents.", "GET", "/v3/policies"),
    _rule("get_policy", ADMIN, "Show a policy document.", "GET", "/v3/policies/{id}"),
    _rule("update_policy", ADMIN, "Update a policy document.", "PATCH", "/v3/policies/{id}"),
    _rule("delete_policy", ADMIN, "Delete a policy document.", "DELETE", "/v3/policies/{id}"),
    _rule("list_regions", "", "List regions (anyone).", "GET", "/v3/regions"),
    _rule("get_region", "", "Show a region (anyone).", "GET", "/v3/regions/{id}"),
    _rule("list_services", ADMIN, "List catalog services.", "GET", "/v3/services"),
    _rule("get_service", ADMIN, "Show a catalog service.", "GET", "/v3/services/{id}"),
    _rule("list_endpoints", ADMIN, "List endpoints.", "GET", "/v3/endpoints"),
    _rule("get_endpoint", ADMIN, "Show an endpoint.", "GET", "/v3/endpoints/{id}"),
]
