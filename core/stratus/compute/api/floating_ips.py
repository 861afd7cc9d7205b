"""Floating IPs through compute (Nova v2.1): the ``os-floating-ips`` and
``os-floating-ip-pools`` proxies (until 2.35) and the ``addFloatingIp`` /
``removeFloatingIp`` server actions (until 2.43), answered by the network service's API in
Nova's shapes and words. A pool is an external network, named as the network is.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api import proxy
from stratus.compute.api.common import context, is_uuid
from stratus.compute.api.microversions import at_least
from stratus.exceptions import Conflict, Invalid, NotFound

NETWORK = "network"
_ADDRESS = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
CREATE = {"type": ["object", "null"], "properties": {"pool": {"type": ["string", "null"]}}}
SERVER_ACTIONS = {
    "addFloatingIp": {"type": "object", "required": ["address"], "additionalProperties": False,
                      "properties": {"address": _ADDRESS, "fixed_address": _ADDRESS}},
    "removeFloatingIp": {"type": "object", "required": ["address"], "additionalProperties": False,
                         "properties": {"address": _ADDRESS}},
}
ACTION_POLICIES = {"addFloatingIp": "os_compute_api:os-floating-ips:add",
                   "removeFloatingIp": "os_compute_api:os-floating-ips:remove"}


def _view(fip: dict[str, Any], pools: dict[str, str]) -> dict[str, Any]:
    details = fip.get("port_details") or {}
    return {"id": fip["id"], "ip": fip["floating_ip_address"], "fixed_ip": fip.get("fixed_ip_address"),
            "instance_id": details.get("device_id") or None,
            "pool": pools.get(fip["floating_network_id"]) or fip["floating_network_id"]}


def _pools(deps: Any, req: falcon.Request) -> dict[str, str]:
    """External network id -> name."""
    answer = proxy.check(proxy.caller(deps).call(req, NETWORK, "GET", "/v2.0/networks",
                                                 query={"router:external": "True"}))
    return {n["id"]: n["name"] for n in answer.body["networks"]}


def _by_address(deps: Any, req: falcon.Request, address: str) -> dict[str, Any]:
    answer = proxy.check(proxy.caller(deps).call(req, NETWORK, "GET", "/v2.0/floatingips",
                                                 query={"floating_ip_address": address}))
    found = answer.body["floatingips"]
    if not found:
        raise NotFound("floating IP not found")
    if len(found) > 1:
        raise Conflict(f"Multiple floating IPs are found for address {address}.")
    return found[0]


def _policy(req: falcon.Request, policy: Policy, rule: str) -> None:
    proxy.require(req)
    enforce(req, policy, f"os_compute_api:os-floating-ips:{rule}", {"project_id": context(req).project_id})


class FloatingIPs:
    """``/os-floating-ips``: the project's floating IPs; allocate one from a pool."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("List the project's floating IPs (proxy; until 2.35)",
            responses={200: {"type": "object", "required": ["floating_ips"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _policy(req, self.policy, "list")
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "GET", "/v2.0/floatingips",
                                                          query={"project_id": context(req).project_id}))
        pools = _pools(self.deps, req)
        resp.media = {"floating_ips": [_view(f, pools) for f in answer.body["floatingips"]]}

    @schema("Allocate a floating IP from a pool (proxy; until 2.35)", request=CREATE,
            responses={200: {"type": "object", "required": ["floating_ip"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _policy(req, self.policy, "create")
        wanted = (req.context.body or {}).get("pool") or self.deps.conf.compute.default_floating_pool
        pools = _pools(self.deps, req)
        if wanted:
            chosen = [i for i, name in pools.items() if wanted in (name, i)]
        else:  # no pool asked for and none configured: the cloud's only external network
            chosen = list(pools) if len(pools) == 1 else []
        if len(chosen) != 1:
            raise NotFound(f"Floating IP pool not found: {wanted}" if wanted else
                           "Floating IP pool not found: give a pool (os-floating-ip-pools lists them).")
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "POST", "/v2.0/floatingips", body={
            "floatingip": {"floating_network_id": chosen[0]}}), {409: NotFound})
        resp.media = {"floating_ip": _view(answer.body["floatingip"], pools)}


class FloatingIPItem:
    """``/os-floating-ips/{id}``: show; release (disassociating it first)."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    def _get(self, req: falcon.Request, fip_id: str) -> dict[str, Any]:
        if not is_uuid(fip_id):
            raise NotFound(f"Floating IP not found for ID {fip_id}")
        answer = proxy.caller(self.deps).call(req, NETWORK, "GET", f"/v2.0/floatingips/{fip_id}")
        if answer.status == 404:
            raise NotFound(f"Floating IP not found for ID {fip_id}")
        return proxy.check(answer).body["floatingip"]

    @schema("Show a floating IP (proxy; until 2.35)", responses={200: {"type": "object", "required": ["floating_ip"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, floating_ip_id: str) -> None:
        _policy(req, self.policy, "show")
        resp.media = {"floating_ip": _view(self._get(req, floating_ip_id), _pools(self.deps, req))}

    @schema("Release a floating IP (proxy; until 2.35)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, floating_ip_id: str) -> None:
        _policy(req, self.policy, "delete")
        self._get(req, floating_ip_id)
        proxy.check(proxy.caller(self.deps).call(req, NETWORK, "DELETE", f"/v2.0/floatingips/{floating_ip_id}"))
        resp.status = 202


class FloatingIPPools:
    """``/os-floating-ip-pools``: the external networks."""

    def __init__(self, deps: Any, policy: Policy) -> None:
        self.deps, self.policy = deps, policy

    @schema("List floating IP pools (proxy; until 2.35)",
            responses={200: {"type": "object", "required": ["floating_ip_pools"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        enforce(req, self.policy, "os_compute_api:os-floating-ip-pools:list", {"project_id": context(req).project_id})
        resp.media = {"floating_ip_pools": [{"name": name} for name in sorted(_pools(self.deps, req).values())]}


def server_action(deps: Any, req: falcon.Request, policy: Policy, instance: Any, name: str,
                  argument: dict[str, Any]) -> None:
    """``addFloatingIp`` / ``removeFloatingIp`` on a server (read before: ``instance``).

    :raises Invalid: from 2.44, where they are gone, and for Nova's 400s."""
    if at_least(req, "2.44"):
        raise Invalid(f"Invalid input for field/attribute {name}: Additional properties are not allowed "
                      f"('{name}' was unexpected); it was removed in microversion 2.44")
    enforce(req, policy, ACTION_POLICIES[name], {"project_id": instance.project_id})
    address = argument["address"]
    call = proxy.caller(deps).call
    fip = _by_address(deps, req, address)
    if name == "removeFloatingIp":
        if (fip.get("port_details") or {}).get("device_id") != instance.uuid:
            raise Conflict(f"Floating IP {address} is not associated with instance {instance.uuid}.")
        proxy.check(call(req, NETWORK, "PUT", f"/v2.0/floatingips/{fip['id']}", body={"floatingip": {"port_id": None}}))
        return
    fixed = [(nic["port_id"], f["ip_address"]) for nic in instance.network_info for f in nic["fixed_ips"]]
    if not instance.network_info:
        raise Invalid("Instance network is not ready yet")
    if not fixed:
        raise Invalid("No fixed IPs associated to instance")
    if "fixed_address" in argument:
        chosen = next((pair for pair in fixed if pair[1] == argument["fixed_address"]), None)
        if chosen is None:
            raise Invalid("Specified fixed address not assigned to instance")
    else:
        chosen = next((pair for pair in fixed if ipaddress.ip_address(pair[1]).version == 4), None)
        if chosen is None:
            raise Invalid(f"Unable to associate floating IP {address} to any fixed IPs for instance "
                          f"{instance.uuid}. Instance has no fixed IPv4 addresses to associate.")
    answer = call(req, NETWORK, "PUT", f"/v2.0/floatingips/{fip['id']}",
                  body={"floatingip": {"port_id": chosen[0], "fixed_ip_address": chosen[1]}})
    if not answer.ok:
        raise Invalid(f"Unable to associate floating IP {address} to fixed IP {chosen[1]} for instance "
                      f"{instance.uuid}. Error: {answer.message}")
