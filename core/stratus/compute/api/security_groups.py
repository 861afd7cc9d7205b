"""Security groups through compute (Nova v2.1): the ``os-security-groups`` and
``os-security-group-rules`` proxies (until 2.35), a server's groups
(``/servers/{id}/os-security-groups``) and the ``addSecurityGroup`` / ``removeSecurityGroup``
actions — all answered by the network service's API, in Nova's shapes and words.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api import proxy
from stratus.compute.api.common import context, int_param, is_uuid
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound

_TEXT = {"type": "string", "minLength": 0, "maxLength": 255}
GROUP = {"type": "object", "required": ["security_group"], "properties": {"security_group": {
    "type": "object", "required": ["name", "description"], "properties": {"name": _TEXT, "description": _TEXT}}}}
RULE = {"type": "object", "required": ["security_group_rule"], "properties": {"security_group_rule": {
    "type": "object", "required": ["parent_group_id"], "properties": {
        "group_id": {"type": ["string", "null"], "format": "uuid"},
        "parent_group_id": {"type": "string", "format": "uuid"}}}}}
SERVER_ACTIONS = {name: {"type": "object", "required": ["name"], "additionalProperties": False,
                         "properties": {"name": {"type": "string", "minLength": 1}}}
                  for name in ("addSecurityGroup", "removeSecurityGroup")}
ACTION_POLICIES = {"addSecurityGroup": "os_compute_api:os-security-groups:add",
                   "removeSecurityGroup": "os_compute_api:os-security-groups:remove"}
NETWORK = "network"


def _rule(rule: dict[str, Any], groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A Neutron ingress rule as Nova shows it (``groups``: name and project of known groups)."""
    protocol = rule.get("protocol")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        if protocol.upper() in ("TCP", "UDP"):
            low, high = 1, 65535
        elif protocol.upper() == "ICMP":
            low, high = -1, -1
    body = {"id": rule["id"], "parent_group_id": rule["security_group_id"], "ip_protocol": protocol,
            "from_port": low, "to_port": high, "group": {}, "ip_range": {}}
    remote = rule.get("remote_group_id")
    if remote:
        known = groups.get(remote, {})
        body["group"] = {"name": known.get("name"), "tenant_id": known.get("tenant_id")}
    else:
        body["ip_range"] = {"cidr": rule.get("remote_ip_prefix")}
    return body


def _group(group: dict[str, Any], groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"id": group["id"], "name": group["name"], "description": group.get("description", ""),
            "tenant_id": group.get("tenant_id") or group.get("project_id"),
            "rules": [_rule(r, groups) for r in group.get("security_group_rules", [])
                      if r.get("direction") == "ingress"]}


def _known(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {g["id"]: {"name": g["name"], "tenant_id": g.get("tenant_id") or g.get("project_id")} for g in groups}


def _sorted(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = _known(groups)
    return sorted((_group(g, known) for g in groups), key=lambda g: (g["tenant_id"] or "", g["name"]))


def _valid_id(group_id: str) -> None:
    if not is_uuid(group_id):
        raise Invalid("Security group id should be uuid")


def find_group(deps: Any, req: falcon.Request, name_or_id: str) -> dict[str, Any]:
    """The caller's group named or identified by ``name_or_id`` (Neutron's own lookup rules).

    :raises NotFound: none. :raises Conflict: several groups have that name."""
    call = proxy.caller(deps).call
    if is_uuid(name_or_id):
        answer = call(req, NETWORK, "GET", f"/v2.0/security-groups/{name_or_id}")
        if answer.ok:
            return answer.body["security_group"]
    answer = proxy.check(call(req, NETWORK, "GET", "/v2.0/security-groups",
                              query={"name": name_or_id, "project_id": context(req).project_id}))
    found = answer.body["security_groups"]
    if not found:
        raise NotFound(f"Security group {name_or_id} not found.")
    if len(found) > 1:
        raise Conflict(f"Multiple security_group matches found for name '{name_or_id}', use an ID to be more "
                       "specific.")
    return found[0]


def server_ports(deps: Any, req: falcon.Request, server_id: str) -> list[dict[str, Any]]:
    answer = proxy.check(proxy.caller(deps).call(req, NETWORK, "GET", "/v2.0/ports",
                                                 query={"device_id": server_id}))
    return answer.body["ports"]


def server_groups(deps: Any, req: falcon.Request, server_id: str) -> list[dict[str, Any]]:
    """The groups on the server's ports, in Nova's shape, sorted as Nova sorts them."""
    ids = sorted({g for port in server_ports(deps, req, server_id) for g in port.get("security_groups", [])})
    if not ids:
        return []
    answer = proxy.check(proxy.caller(deps).call(req, NETWORK, "GET", "/v2.0/security-groups", query={"id": ids}))
    return _sorted(answer.body["security_groups"])


def change_server(deps: Any, req: falcon.Request, server_id: str, name: str, add: bool) -> None:
    """Add the group ``name`` to every port of the server, or take it off them (Nova's rules:
    404 for an unknown group or one not on the server, 400 where ports lack port security)."""
    group = find_group(deps, req, name)
    ports = server_ports(deps, req, server_id)
    call = proxy.caller(deps).call
    if add:
        if any(not port.get("port_security_enabled", True) or not port.get("fixed_ips") for port in ports):
            raise Invalid("Unable to add security group to server: a port of the server has port security "
                          "disabled or no IP address.")
        changing = [p for p in ports if group["id"] not in p.get("security_groups", [])]
    else:
        changing = [p for p in ports if group["id"] in p.get("security_groups", [])]
        if not changing:
            raise NotFound(f"Security group {name} not associated with the instance {server_id}")
    for port in changing:
        wanted = [g for g in port.get("security_groups", []) if g != group["id"]] + ([group["id"]] if add else [])
        proxy.check(call(req, NETWORK, "PUT", f"/v2.0/ports/{port['id']}",
                         body={"port": {"security_groups": wanted}}))


class SecurityGroups:
    """``/os-security-groups``: list and create."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("List security groups (proxy to the network service; until 2.35)",
            responses={200: {"type": "object", "required": ["security_groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-security-groups:get", {"project_id": ctx.project_id})
        query: dict[str, Any] = {}
        all_tenants = req.params.get("all_tenants")
        if not (ctx.is_admin and all_tenants is not None and all_tenants.lower() not in ("0", "false", "no")):
            query["project_id"] = ctx.project_id
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "GET", "/v2.0/security-groups", query=query))
        groups = answer.body["security_groups"]
        offset = int_param(req, "offset", 0) if "offset" in req.params else 0
        limit = int_param(req, "limit", 0) if "limit" in req.params else None
        groups = groups[offset:offset + limit if limit is not None else None]
        resp.media = {"security_groups": _sorted(groups)}

    @schema("Create a security group (proxy; until 2.35)", request=GROUP,
            responses={200: {"type": "object", "required": ["security_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-security-groups:create", {"project_id": ctx.project_id})
        wanted = req.context.body["security_group"]
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "POST", "/v2.0/security-groups", body={
            "security_group": {"name": wanted["name"], "description": wanted["description"]}}), {409: Forbidden})
        group = answer.body["security_group"]
        resp.media = {"security_group": _group(group, _known([group]))}


class SecurityGroupItem:
    """``/os-security-groups/{id}``: show, update, delete."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    def _get(self, req: falcon.Request, group_id: str, rule: str) -> dict[str, Any]:
        proxy.require(req)
        ctx = context(req)
        enforce(req, self.policy, f"os_compute_api:os-security-groups:{rule}", {"project_id": ctx.project_id})
        _valid_id(group_id)
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "GET", f"/v2.0/security-groups/{group_id}"))
        return answer.body["security_group"]

    @schema("Show a security group (proxy; until 2.35)",
            responses={200: {"type": "object", "required": ["security_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        group = self._get(req, group_id, "show")
        resp.media = {"security_group": _group(group, self._rule_groups(req, group))}

    def _rule_groups(self, req: falcon.Request, group: dict[str, Any]) -> dict[str, dict[str, Any]]:
        remote = sorted({r["remote_group_id"] for r in group.get("security_group_rules", [])
                         if r.get("remote_group_id")} - {group["id"]})
        known = _known([group])
        if remote:
            answer = proxy.caller(self.deps).call(req, NETWORK, "GET", "/v2.0/security-groups", query={"id": remote})
            if answer.ok:
                known.update(_known(answer.body["security_groups"]))
        return known

    @schema("Rename or describe a security group (proxy; until 2.35)", request=GROUP,
            responses={200: {"type": "object", "required": ["security_group"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        self._get(req, group_id, "update")
        wanted = req.context.body["security_group"]
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "PUT", f"/v2.0/security-groups/{group_id}",
                                                          body={"security_group": {
                                                              "name": wanted["name"],
                                                              "description": wanted["description"]}}))
        group = answer.body["security_group"]
        resp.media = {"security_group": _group(group, self._rule_groups(req, group))}

    @schema("Delete a security group (proxy; until 2.35)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        self._get(req, group_id, "delete")
        # Nova answers 400 where Neutron refuses (the default group, a group in use)
        proxy.check(proxy.caller(self.deps).call(req, NETWORK, "DELETE", f"/v2.0/security-groups/{group_id}"),
                    {409: Invalid})
        resp.status = 202


def _ingress_rule(wanted: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """Nova's rule arguments as a Neutron ingress rule (Nova's checks and words)."""
    protocol, low, high = wanted.get("ip_protocol"), wanted.get("from_port"), wanted.get("to_port")
    group_id, cidr = wanted.get("group_id"), None
    if group_id:
        upper = str(protocol).upper() if protocol else ""
        if upper == "ICMP" and low is None and high is None:
            low, high = -1, -1
        elif upper in ("TCP", "UDP") and low is None and high is None:
            low, high = 1, 65535
    else:
        cidr = wanted.get("cidr") or "0.0.0.0/0"
        try:
            given = ipaddress.ip_interface(str(cidr))
        except ValueError:
            raise Invalid(f"Invalid cidr {cidr}.") from None
        if given.network.prefixlen == 0 and int(given.ip) != 0:
            raise Invalid(f"Bad prefix for network in cidr {cidr}")
    if not (protocol and low is not None and high is not None):
        if not group_id:
            raise Invalid("Not enough parameters to build a valid rule.")
        rule: dict[str, Any] = {}
    else:
        upper = str(protocol).upper()
        try:
            low, high = int(low), int(high)
        except (TypeError, ValueError):
            raise Invalid("Type and Code must be integers for ICMP protocol type" if upper == "ICMP"
                          else "To and From ports must be integers") from None
        if upper not in ("TCP", "UDP", "ICMP"):
            raise Invalid(f"Invalid IP protocol {protocol}.")
        if upper in ("TCP", "UDP") and low > high:
            raise Invalid(f"Invalid port range {low}:{high}. Former value cannot be greater than the later")
        if upper in ("TCP", "UDP") and (low < 1 or high > 65535):
            raise Invalid(f"Invalid port range {low}:{high}. Valid {upper} ports should be between 1-65535")
        if upper == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
            raise Invalid(f"Invalid port range {low}:{high}. For ICMP, the type:code must be valid")
        rule = {"protocol": str(protocol).lower(), "port_range_min": None if low == -1 else low,
                "port_range_max": None if high == -1 else high}
    for existing in parent.get("security_group_rules", []):
        if existing.get("direction") == "ingress" and existing.get("remote_group_id") == group_id and \
                existing.get("remote_ip_prefix") == cidr and existing.get("protocol") == rule.get("protocol") and \
                existing.get("port_range_min") == rule.get("port_range_min") and \
                existing.get("port_range_max") == rule.get("port_range_max"):
            raise Invalid(f"This rule already exists in group {parent['id']}")
    version = ipaddress.ip_network(cidr, strict=False).version if cidr else 4
    return {"security_group_id": parent["id"], "direction": "ingress", "ethertype": f"IPv{version}",
            **rule, **({"remote_group_id": group_id} if group_id else {"remote_ip_prefix": cidr})}


class SecurityGroupRules:
    """``POST /os-security-group-rules``."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("Add an ingress rule to a security group (proxy; until 2.35)", request=RULE,
            responses={200: {"type": "object", "required": ["security_group_rule"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-security-groups:rule:create", {"project_id": ctx.project_id})
        wanted = req.context.body["security_group_rule"]
        call = proxy.caller(self.deps).call
        parent = proxy.check(call(req, NETWORK, "GET", f"/v2.0/security-groups/{wanted['parent_group_id']}")
                             ).body["security_group"]
        known = _known([parent])
        if wanted.get("group_id"):
            source = proxy.check(call(req, NETWORK, "GET", f"/v2.0/security-groups/{wanted['group_id']}")
                                 ).body["security_group"]
            known.update(_known([source]))
        answer = proxy.check(call(req, NETWORK, "POST", "/v2.0/security-group-rules",
                                  body={"security_group_rule": _ingress_rule(wanted, parent)}), {409: Forbidden})
        resp.media = {"security_group_rule": _rule(answer.body["security_group_rule"], known)}


class SecurityGroupRuleItem:
    """``DELETE /os-security-group-rules/{id}``."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("Delete a security group rule (proxy; until 2.35)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, rule_id: str) -> None:
        proxy.require(req)
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-security-groups:rule:delete", {"project_id": ctx.project_id})
        _valid_id(rule_id)
        proxy.check(proxy.caller(self.deps).call(req, NETWORK, "DELETE", f"/v2.0/security-group-rules/{rule_id}"))
        resp.status = 202


class ServerSecurityGroups:
    """``GET /servers/{id}/os-security-groups``: the groups on the server's ports."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy
        self.compute = deps.services["compute"]

    @schema("List a server's security groups", responses={200: {"type": "object", "required": ["security_groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        from stratus.compute.api.servers import find

        with self.compute.db.reading() as session:
            project_id = find(session, req, server_id).project_id
        enforce(req, self.policy, "os_compute_api:os-security-groups:list", {"project_id": project_id})
        resp.media = {"security_groups": server_groups(self.deps, req, server_id)}
