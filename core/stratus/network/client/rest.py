"""The network client over Neutron's public API v2.0 (Stratus's network API or upstream Neutron).

As Nova does with Neutron: ports are created in the server's project by the service user
(an admin, so it may set ``project_id`` and ``binding:host_id``), taken ports are updated
with the device and host, and given back by deleting or clearing them. Wiring a port on
this host (plugins with a data plane) is the configured ``[network] plugin``'s host side,
loaded here as os-vif would be; the network service itself is never opened.
"""

from __future__ import annotations

import threading
from typing import Any

from stratus import loading
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.interfaces.network import HostPlugging, NetworkCapability, PortBinding
from stratus.network.client import COMPUTE_OWNER, Attachment, NetworkClient
from stratus.service_auth import ServiceAuth, request

GROUP = "network_client"


class RestNetworkClient(NetworkClient):
    """:class:`NetworkClient` over ``/v2.0/ports``, ``/networks``, ``/subnets``,
    ``/floatingips`` and ``/security-groups`` with ``auth``."""

    def __init__(self, conf: Any, auth: ServiceAuth) -> None:
        self.conf, self.auth = conf, auth
        self._plugin: Any = None
        self._plugin_lock = threading.Lock()

    def close(self) -> None:
        """Nothing of its own to release (the session is the process's)."""

    def _call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        """The JSON answer of ``method url`` (None when it has no body)."""
        response = request(self.auth.adapter(GROUP), method, url, what, **kwargs)
        return response.json() if response.content else None

    def _list(self, collection: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        key = collection.replace("-", "_")
        return self._call("GET", f"/v2.0/{collection}", f"{collection} list", params=params)[key]

    def _plugging(self) -> Any:
        with self._plugin_lock:
            if self._plugin is None:
                plugin = loading.load_driver("stratus.network", self.conf.network.plugin, self.conf)
                self._plugin = plugin if plugin.capabilities & NetworkCapability.DATA_PLANE \
                    and isinstance(plugin, HostPlugging) else False
            return self._plugin or None

    @property
    def has_agents(self) -> bool:
        return self._plugging() is not None

    def host_plugging(self) -> HostPlugging | None:
        return self._plugging()

    def attach(self, project_id: str, server_id: str, host: str, *, network_id: str | None = None,
               port_id: str | None = None, fixed_ip: str | None = None,
               security_groups: list[str] | None = None) -> Attachment:
        binding = {"device_id": server_id, "device_owner": COMPUTE_OWNER, "binding:host_id": host}
        if port_id is not None:
            port = self._call("GET", f"/v2.0/ports/{port_id}", f"port {port_id}")["port"]
            if port["device_id"] and port["device_id"] != server_id:
                raise Conflict(f"Port {port_id} is still in use.")
            port = self._call("PUT", f"/v2.0/ports/{port_id}", f"port {port_id}", json={"port": binding})["port"]
            created = False
        else:
            body: dict[str, Any] = {"network_id": network_id, "project_id": project_id, **binding}
            if fixed_ip:
                body["fixed_ips"] = [{"ip_address": fixed_ip}]
            if security_groups:
                body["security_groups"] = self._group_ids(project_id, security_groups)
            port = self._call("POST", "/v2.0/ports", f"port on network {network_id}", json={"port": body})["port"]
            created = True
        if port.get("binding:vif_type") == "binding_failed":
            self.detach(server_id, [(port["id"], created)])
            raise Invalid(f"Binding failed for port {port['id']} on host {host}.")
        network = self._call("GET", f"/v2.0/networks/{port['network_id']}", f"network {port['network_id']}")["network"]
        return Attachment(port["id"], network["id"], network["name"], port["mac_address"],
                          tuple({"subnet_id": a["subnet_id"], "ip_address": a["ip_address"]}
                                for a in port["fixed_ips"]),
                          PortBinding(port.get("binding:vif_type") or "unbound",
                                      dict(port.get("binding:vif_details") or {})),
                          network.get("mtu") or 1500, created)

    def _group_ids(self, project_id: str, names: list[str]) -> list[str]:
        groups = self._list("security-groups", {"project_id": project_id})
        ids = []
        for name in dict.fromkeys(names):
            found = [g["id"] for g in groups if name in (g["id"], g["name"])]
            if len(found) != 1:
                raise NotFound(f"Security group {name} not found." if not found else
                               f"Multiple security groups named {name}: use the id.")
            ids.append(found[0])
        return ids

    def release(self, server_id: str, network_info: list[dict[str, Any]]) -> None:
        if network_info:
            self.detach(server_id, [(n["port_id"], n["created"]) for n in network_info])

    def detach(self, server_id: str, ports: list[tuple[str, bool]]) -> None:
        for port_id, created in ports:
            try:
                port = self._call("GET", f"/v2.0/ports/{port_id}", f"port {port_id}")["port"]
                if port["device_id"] != server_id:
                    continue
                for floating in self._list("floatingips", {"port_id": port_id}):
                    self._call("PUT", f"/v2.0/floatingips/{floating['id']}", "floating IP",
                               json={"floatingip": {"port_id": None}})
                if created:
                    self._call("DELETE", f"/v2.0/ports/{port_id}", f"port {port_id}")
                else:
                    self._call("PUT", f"/v2.0/ports/{port_id}", f"port {port_id}", json={"port": {
                        "device_id": "", "device_owner": "", "binding:host_id": ""}})
            except NotFound:
                continue

    def bound_ports(self, server_id: str) -> list[str]:
        return [p["id"] for p in self._list("ports", {"device_id": server_id, "fields": "id"})]

    def _ports(self, port_ids: list[str]) -> list[dict[str, Any]]:
        return self._list("ports", {"id": port_ids}) if port_ids else []

    def addresses(self, port_ids: list[str]) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = {
            p["id"]: {"fixed_ips": [{"subnet_id": a["subnet_id"], "ip_address": a["ip_address"]}
                                    for a in p["fixed_ips"]], "floating_ips": {}}
            for p in self._ports(port_ids)}
        if result:
            floating = self._list("floatingips", {"port_id": list(result)})
            for f in sorted(floating, key=lambda f: f["floating_ip_address"]):
                result[f["port_id"]]["floating_ips"].setdefault(f["fixed_ip_address"], []).append(
                    f["floating_ip_address"])
        return result

    def port_states(self, port_ids: list[str]) -> dict[str, str]:
        return {p["id"]: p["status"] for p in self._ports(port_ids)}

    def wired(self, port_ids: list[str], host: str) -> set[str]:
        return {p["id"] for p in self._ports(port_ids) if p["status"] == "ACTIVE" and p.get("binding:host_id") == host}

    def subnets(self, subnet_ids: set[str]) -> dict[str, dict[str, Any]]:
        if not subnet_ids:
            return {}
        return {s["id"]: {"cidr": s["cidr"], "ip_version": s["ip_version"], "gateway_ip": s["gateway_ip"],
                          "enable_dhcp": s["enable_dhcp"], "ipv6_address_mode": s.get("ipv6_address_mode"),
                          "dns": list(s.get("dns_nameservers") or []),
                          "routes": [{"destination": r["destination"], "nexthop": r["nexthop"]}
                                     for r in s.get("host_routes") or []]}
                for s in self._list("subnets", {"id": sorted(subnet_ids)})}

    def networks_for(self, project_id: str) -> list[tuple[str, str]]:
        own = self._list("networks", {"project_id": project_id, "router:external": "false"})
        shared = self._list("networks", {"shared": "true", "router:external": "false"})
        found = {n["id"]: n for n in own + shared}
        ordered = sorted(found.values(), key=lambda n: (n.get("created_at") or "", n["id"]))
        return [(n["id"], n["name"]) for n in ordered]

    def check_network(self, project_id: str, network_id: str, is_admin: bool = False) -> None:
        try:
            network = self._call("GET", f"/v2.0/networks/{network_id}", f"network {network_id}")["network"]
        except NotFound:
            network = None
        if network is None or not (is_admin or network.get("project_id") == project_id or network.get("shared")):
            raise NotFound(f"Network {network_id} could not be found.")

    def check_port(self, project_id: str, port_id: str, is_admin: bool = False) -> None:
        try:
            port = self._call("GET", f"/v2.0/ports/{port_id}", f"port {port_id}")["port"]
        except NotFound:
            port = None
        if port is None or not (is_admin or port.get("project_id") == project_id):
            raise NotFound(f"Port {port_id} could not be found.")
        if port["device_id"]:
            raise Conflict(f"Port {port_id} is still in use.")

    def check_security_groups(self, project_id: str, names: list[str]) -> None:
        if names:
            self._group_ids(project_id, names)
