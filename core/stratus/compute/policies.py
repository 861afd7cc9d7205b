"""Default policy rules of the compute API, named as Nova names them (operators' policy
files carry over)."""

from __future__ import annotations

from oslo_policy import policy


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(f"os_compute_api:{name}", check, description,
                                        [{"method": method, "path": path}])


_OWNER = "rule:admin or user_id:%(user_id)s"
RULES = [
    _rule("os-flavor-manage:create", "rule:admin", "Create a flavor.", "POST", "/flavors"),
    _rule("os-flavor-manage:delete", "rule:admin", "Delete a flavor.", "DELETE", "/flavors/{flavor_id}"),
    _rule("os-flavor-extra-specs:index", "rule:admin_or_reader", "List a flavor's extra specs.", "GET",
          "/flavors/{flavor_id}/os-extra_specs"),
    _rule("os-flavor-extra-specs:show", "rule:admin_or_reader", "Show an extra spec.", "GET",
          "/flavors/{flavor_id}/os-extra_specs/{key}"),
    _rule("os-flavor-extra-specs:create", "rule:admin", "Add extra specs.", "POST",
          "/flavors/{flavor_id}/os-extra_specs"),
    _rule("os-flavor-extra-specs:update", "rule:admin", "Set an extra spec.", "PUT",
          "/flavors/{flavor_id}/os-extra_specs/{key}"),
    _rule("os-flavor-extra-specs:delete", "rule:admin", "Delete an extra spec.", "DELETE",
          "/flavors/{flavor_id}/os-extra_specs/{key}"),
    _rule("os-flavor-access", "rule:admin", "List the projects with access to a private flavor.", "GET",
          "/flavors/{flavor_id}/os-flavor-access"),
    _rule("os-flavor-access:add_tenant_access", "rule:admin", "Give a project a private flavor.", "POST",
          "/flavors/{flavor_id}/action (addTenantAccess)"),
    _rule("os-flavor-access:remove_tenant_access", "rule:admin", "Take a private flavor from a project.", "POST",
          "/flavors/{flavor_id}/action (removeTenantAccess)"),
    _rule("servers:index", "rule:admin_or_reader", "List a project's servers.", "GET", "/servers"),
    _rule("servers:detail", "rule:admin_or_reader", "List a project's servers in detail.", "GET", "/servers/detail"),
    _rule("servers:index:get_all_tenants", "rule:admin", "List every project's servers, filter by host.", "GET",
          "/servers?all_tenants=1"),
    _rule("servers:show", "rule:admin_or_reader", "Show a server.", "GET", "/servers/{server_id}"),
    _rule("servers:create", "rule:admin_or_member", "Create servers.", "POST", "/servers"),
    _rule("servers:update", "rule:admin_or_member", "Update a server.", "PUT", "/servers/{server_id}"),
    _rule("servers:delete", "rule:admin_or_member", "Delete a server.", "DELETE", "/servers/{server_id}"),
    _rule("servers:reboot", "rule:admin_or_member", "Reboot a server.", "POST", "/servers/{server_id}/action (reboot)"),
    _rule("os-start", "rule:admin_or_member", "Start a server.", "POST", "/servers/{server_id}/action (os-start)"),
    _rule("os-stop", "rule:admin_or_member", "Stop a server.", "POST", "/servers/{server_id}/action (os-stop)"),
    _rule("os-pause-server:pause", "rule:admin_or_member", "Pause a server.", "POST",
          "/servers/{server_id}/action (pause)"),
    _rule("os-pause-server:unpause", "rule:admin_or_member", "Unpause a server.", "POST",
          "/servers/{server_id}/action (unpause)"),
    _rule("os-suspend-server:suspend", "rule:admin_or_member", "Suspend a server.", "POST",
          "/servers/{server_id}/action (suspend)"),
    _rule("os-suspend-server:resume", "rule:admin_or_member", "Resume a server.", "POST",
          "/servers/{server_id}/action (resume)"),
    _rule("os-lock-server:lock", "rule:admin_or_member", "Lock a server.", "POST",
          "/servers/{server_id}/action (lock)"),
    _rule("os-lock-server:unlock", "rule:admin_or_member", "Unlock a server.", "POST",
          "/servers/{server_id}/action (unlock)"),
    _rule("os-console-output", "rule:admin_or_member", "Read a server's console log.", "POST",
          "/servers/{server_id}/action (os-getConsoleOutput)"),
    _rule("os-hypervisors:list", "rule:admin", "List hypervisors.", "GET", "/os-hypervisors"),
    _rule("os-hypervisors:show", "rule:admin", "Show a hypervisor.", "GET", "/os-hypervisors/{hypervisor_id}"),
    _rule("os-services:list", "rule:admin", "List services.", "GET", "/os-services"),
    _rule("os-services:update", "rule:admin", "Enable or disable a service.", "PUT", "/os-services/disable"),
    _rule("os-availability-zone:list", "rule:admin_or_reader", "List availability zones.", "GET",
          "/os-availability-zone"),
    _rule("os-availability-zone:detail", "rule:admin", "List availability zones with their hosts.", "GET",
          "/os-availability-zone/detail"),
    _rule("os-quota-sets:show", "rule:admin_or_reader", "Show a project's quotas.", "GET",
          "/os-quota-sets/{project_id}"),
    _rule("os-quota-sets:defaults", "@", "Show the default quotas.", "GET", "/os-quota-sets/{project_id}/defaults"),
    _rule("os-quota-sets:update", "rule:admin", "Set a project's quotas.", "PUT", "/os-quota-sets/{project_id}"),
    _rule("os-quota-sets:delete", "rule:admin", "Reset a project's quotas.", "DELETE",
          "/os-quota-sets/{project_id}"),
    *(_rule(f"os-server-groups:{a}", check, f"{a.capitalize()} server groups.", m, path) for a, check, m, path in (
        ("index", "rule:admin_or_reader", "GET", "/os-server-groups"),
        ("show", "rule:admin_or_reader", "GET", "/os-server-groups/{id}"),
        ("create", "rule:admin_or_member", "POST", "/os-server-groups"),
        ("delete", "rule:admin_or_member", "DELETE", "/os-server-groups/{id}"))),
    *(_rule(f"server-metadata:{a}", check, f"Server metadata: {a}.", m, "/servers/{server_id}/metadata")
      for a, check, m in (("index", "rule:admin_or_reader", "GET"), ("show", "rule:admin_or_reader", "GET"),
                          ("create", "rule:admin_or_member", "POST"), ("update_all", "rule:admin_or_member", "PUT"),
                          ("update", "rule:admin_or_member", "PUT"), ("delete", "rule:admin_or_member", "DELETE"))),
    _rule("ips:index", "rule:admin_or_reader", "List a server's addresses.", "GET", "/servers/{server_id}/ips"),
    _rule("os-keypairs:index", _OWNER, "List one's key pairs.", "GET", "/os-keypairs"),
    _rule("os-keypairs:create", _OWNER, "Import or generate a key pair.", "POST", "/os-keypairs"),
    _rule("os-keypairs:show", _OWNER, "Show a key pair.", "GET", "/os-keypairs/{keypair_name}"),
    _rule("os-keypairs:delete", _OWNER, "Delete a key pair.", "DELETE", "/os-keypairs/{keypair_name}"),
]
