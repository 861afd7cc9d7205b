"""``os-networks`` and ``os-tenant-networks`` (Nova v2.1, until 2.35): the networks the
caller can see, from the network service, in the shapes Nova gives them since nova-network
left (every nova-network field present and empty; creating or deleting answers 410)."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api import proxy
from stratus.compute.api.common import context
from stratus.exceptions import Gone, NotFound

NETWORK = "network"
FIELDS = ("cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "netmask_v6")
ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
                "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id", "host",
                "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp",
                "share_address")


def _network(req: falcon.Request, network: dict[str, Any], tenant: bool) -> dict[str, Any]:
    if tenant:
        return {"id": network["id"], "cidr": "None", "label": network["name"]}
    fields = FIELDS + (ADMIN_FIELDS if context(req).is_admin else ())
    return {"id": network["id"], "label": network["name"], **dict.fromkeys(fields)}


class Networks:
    """``GET /os-networks`` (``tenant``: ``/os-tenant-networks``); creating is gone (410)."""

    def __init__(self, deps: Any, policy: Policy, tenant: bool) -> None:
        self.deps, self.policy, self.tenant = deps, policy, tenant
        self.rule = "os-tenant-networks" if tenant else "os-networks"

    @schema("List networks (proxy to the network service; until 2.35)",
            responses={200: {"type": "object", "required": ["networks"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        proxy.require(req)
        enforce(req, self.policy, f"os_compute_api:{self.rule}:list", {"project_id": context(req).project_id})
        answer = proxy.check(proxy.caller(self.deps).call(req, NETWORK, "GET", "/v2.0/networks"))
        resp.media = {"networks": [_network(req, n, self.tenant) for n in answer.body["networks"]]}

    @schema("Create a network: gone with nova-network (410)", responses={410: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise Gone("This API only worked with nova-network, which was removed; create networks with the "
                   "network service.")


class NetworkItem:
    def __init__(self, deps: Any, policy: Policy, tenant: bool) -> None:
        self.deps, self.policy, self.tenant = deps, policy, tenant
        self.rule = "os-tenant-networks" if tenant else "os-networks"

    @schema("Show a network (proxy; until 2.35)", responses={200: {"type": "object", "required": ["network"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        proxy.require(req)
        enforce(req, self.policy, f"os_compute_api:{self.rule}:{'show' if self.tenant else 'view'}",
                {"project_id": context(req).project_id})
        answer = proxy.caller(self.deps).call(req, NETWORK, "GET", f"/v2.0/networks/{network_id}")
        if answer.status == 404:
            raise NotFound("Network not found")
        resp.media = {"network": _network(req, proxy.check(answer).body["network"], self.tenant)}

    @schema("Delete a network: gone with nova-network (410)", responses={410: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        raise Gone("This API only worked with nova-network, which was removed; delete networks with the "
                   "network service.")
