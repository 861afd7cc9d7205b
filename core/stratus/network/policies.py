"""Default policy rules of the networking API.

Visibility (own, shared, external) decides what a caller sees; these rules decide what a
caller may do: members write in their project, only administrators create shared or
external networks, choose provider segments or bind ports to hosts.
"""

from __future__ import annotations

from oslo_policy import policy


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(f"network:{name}", check, description, [{"method": method, "path": path}])


RULES = []
for _kind in ("network", "subnet", "port", "security_group", "security_group_rule", "router", "floatingip",
              "subnetpool", "address_scope"):
    _path = f"/v2.0/{_kind.replace('_', '-')}s"
    RULES += [
        _rule(f"create_{_kind}", "rule:admin_or_member", f"Create a {_kind}.", "POST", _path),
        _rule(f"get_{_kind}", "rule:admin_or_reader", f"List or show visible {_kind}s.", "GET", _path),
        _rule(f"update_{_kind}", "rule:admin_or_member", f"Update a {_kind} of one's project.", "PUT",
              f"{_path}/{{id}}"),
        _rule(f"delete_{_kind}", "rule:admin_or_member", f"Delete a {_kind} of one's project.", "DELETE",
              f"{_path}/{{id}}"),
    ]
RULES += [
    _rule("create_network:shared", "rule:admin", "Create a shared network.", "POST", "/v2.0/networks"),
    _rule("create_network:router:external", "rule:admin", "Create an external network.", "POST", "/v2.0/networks"),
    _rule("update_network:router:external", "rule:admin", "Make a network external or not.", "PUT",
          "/v2.0/networks/{id}"),
    _rule("create_network:provider", "rule:admin", "Choose a network's provider segment.", "POST",
          "/v2.0/networks"),
    _rule("create_subnetpool:shared", "rule:admin", "Create a shared subnet pool.", "POST", "/v2.0/subnetpools"),
    _rule("create_subnetpool:is_default", "rule:admin", "Create the default subnet pool of an IP family.", "POST",
          "/v2.0/subnetpools"),
    _rule("update_subnetpool:is_default", "rule:admin", "Make a subnet pool the default or not.", "PUT",
          "/v2.0/subnetpools/{id}"),
    _rule("create_address_scope:shared", "rule:admin", "Create a shared address scope.", "POST",
          "/v2.0/address-scopes"),
    _rule("update_address_scope:shared", "rule:admin", "Share an address scope.", "PUT", "/v2.0/address-scopes/{id}"),
    _rule("create_port:binding", "rule:admin", "Bind a new port to a host.", "POST", "/v2.0/ports"),
    _rule("update_port:binding", "rule:admin", "Bind a port to a host.", "PUT", "/v2.0/ports/{id}"),
    _rule("add_router_interface", "rule:admin_or_member", "Attach a subnet or port to a router of one's project.",
          "PUT", "/v2.0/routers/{id}/add_router_interface"),
    _rule("remove_router_interface", "rule:admin_or_member", "Detach an interface from a router of one's project.",
          "PUT", "/v2.0/routers/{id}/remove_router_interface"),
    _rule("update_router:external_gateway_info", "rule:admin",
          "Choose a router gateway's fixed IPs or SNAT mode.", "PUT", "/v2.0/routers/{id}"),
    _rule("create_floatingip:floating_ip_address", "rule:admin", "Allocate a specific floating IP address.", "POST",
          "/v2.0/floatingips"),
    _rule("get_quotas", "rule:admin", "List the projects with their own quotas.", "GET", "/v2.0/quotas"),
    _rule("get_quota", "rule:admin_or_reader", "Show a project's quotas.", "GET", "/v2.0/quotas/{project_id}"),
    _rule("update_quota", "rule:admin", "Set a project's quotas.", "PUT", "/v2.0/quotas/{project_id}"),
    _rule("delete_quota", "rule:admin", "Reset a project's quotas.", "DELETE", "/v2.0/quotas/{project_id}"),
    _rule("get_agent", "rule:admin", "List or show host agents.", "GET", "/v2.0/agents"),
    _rule("update_agent", "rule:admin", "Enable or disable a host agent.", "PUT", "/v2.0/agents/{id}"),
    _rule("delete_agent", "rule:admin", "Forget a host agent.", "DELETE", "/v2.0/agents/{id}"),
    _rule("get_availability_zone", "rule:admin_or_reader", "List availability zones.", "GET",
          "/v2.0/availability_zones"),
    _rule("update_port:mac_address", "rule:admin", "Change a port's MAC address.", "PUT", "/v2.0/ports/{id}"),
]
