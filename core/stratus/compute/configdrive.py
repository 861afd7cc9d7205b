"""What a server's config drive holds: Nova's OpenStack metadata layout, which cloud-init
and Ignition read from a drive labelled ``config-2``.

``openstack/<version>/`` (each dated version Nova publishes, and ``latest``) holds
``meta_data.json``, ``network_data.json``, ``vendor_data.json``, ``vendor_data2.json`` and,
when the server has user data, ``user_data``. The EC2-style tree Nova also writes is left
out: cloud-init prefers the OpenStack one, and nothing here serves EC2.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from typing import Any

#: the metadata versions Nova publishes (its Folsom to Epoxy dates), then ``latest``
VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22",
            "2018-08-27", "2020-10-14", "latest")


def _key_type(public_key: str) -> str:
    return "x509" if public_key.lstrip().startswith("-----BEGIN CERTIFICATE") else "ssh"


def meta_data(row: dict[str, Any], metadata: dict[str, str], network_info: list[dict[str, Any]],
              block_devices: list[dict[str, Any]]) -> dict[str, Any]:
    """``meta_data.json`` for the server ``row`` (see :func:`stratus.compute.instances.columns`)."""
    document: dict[str, Any] = {"uuid": row["uuid"]}
    if metadata:
        document["meta"] = dict(metadata)
    if row.get("key_name") and row.get("key_data"):
        document["public_keys"] = {row["key_name"]: row["key_data"]}
        document["keys"] = [{"name": row["key_name"], "type": _key_type(row["key_data"]), "data": row["key_data"]}]
    devices = [{"type": "nic", "bus": "pci", "mac": nic["mac_address"], "tags": [nic["tag"]]}
               for nic in network_info if nic.get("tag")]
    devices += [{"type": "disk", "bus": bdm.get("disk_bus") or "virtio", "path": bdm["device_name"],
                 "tags": [bdm["tag"]]} for bdm in block_devices if bdm.get("tag") and bdm.get("device_name")]
    document.update({"hostname": row["hostname"], "name": row["display_name"], "launch_index": row["launch_index"],
                     "availability_zone": row.get("availability_zone") or "",
                     "random_seed": base64.b64encode(os.urandom(512)).decode(), "project_id": row["project_id"],
                     "devices": devices, "dedicated_cpus": []})
    return document


def _routes(version: int, subnet: dict[str, Any]) -> list[dict[str, str]]:
    routes = []
    if subnet.get("gateway_ip"):
        any_net = "0.0.0.0" if version == 4 else "::"  # noqa: S104 (a default route, not a bind)
        routes.append({"network": any_net, "netmask": any_net, "gateway": subnet["gateway_ip"]})
    for route in subnet.get("routes", ()):
        network = ipaddress.ip_network(route["destination"], strict=False)
        routes.append({"network": str(network.network_address), "netmask": str(network.netmask),
                       "gateway": route["nexthop"]})
    return routes


def _dns(subnet: dict[str, Any]) -> list[dict[str, str]]:
    return [{"type": "dns", "address": address} for address in subnet.get("dns", ())]


def network_data(network_info: list[dict[str, Any]], subnets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``network_data.json``: a link per port, a network per port and IP version (the first
    address of each), DNS servers as services; DHCP subnets say only ``ipv4_dhcp``."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, str]] = []
    for nic in network_info:
        link = {"id": f"tap{nic['port_id'][:11]}", "vif_id": nic["port_id"],
                "type": nic.get("vif_type") if nic.get("vif_type") in ("ovs", "bridge", "vhostuser") else "phy",
                "mtu": nic.get("mtu"), "ethernet_mac_address": nic["mac_address"]}
        added = False
        for version in (4, 6):
            fixed = next((f for f in nic["fixed_ips"] if subnets.get(f["subnet_id"], {}).get("ip_version") == version),
                         None)
            if fixed is None:
                continue
            subnet = subnets[fixed["subnet_id"]]
            entry: dict[str, Any] = {"id": f"network{len(networks)}", "link": link["id"],
                                     "network_id": nic["network_id"]}
            mode = subnet.get("ipv6_address_mode")
            if mode is None and subnet.get("enable_dhcp"):
                entry["type"] = f"ipv{version}_dhcp"
            else:
                cidr = ipaddress.ip_network(subnet["cidr"], strict=False)
                entry.update({"type": f"ipv{version}" + (f"_{mode}" if mode else ""),
                              "ip_address": fixed["ip_address"], "netmask": str(cidr.netmask),
                              "routes": _routes(version, subnet), "services": _dns(subnet)})
            networks.append(entry)
            services += [s for s in _dns(subnet) if s not in services]
            added = True
        if added:
            links.append(link)
    return {"links": links, "networks": networks, "services": services}


def files(row: dict[str, Any], metadata: dict[str, str], network_info: list[dict[str, Any]],
          subnets: dict[str, dict[str, Any]], block_devices: list[dict[str, Any]]) -> dict[str, bytes]:
    """Every file of the drive, path -> content."""
    meta = json.dumps(meta_data(row, metadata, network_info, block_devices)).encode()
    network = json.dumps(network_data(network_info, subnets)).encode()
    user_data = base64.b64decode(row["user_data"]) if row.get("user_data") else None
    result: dict[str, bytes] = {}
    for version in VERSIONS:
        base = f"openstack/{version}"
        result[f"{base}/meta_data.json"] = meta
        result[f"{base}/vendor_data.json"] = b"{}"
        if version >= "2016-10-06":
            result[f"{base}/vendor_data2.json"] = b"{}"
        if version >= "2015-10-15":
            result[f"{base}/network_data.json"] = network
        if user_data is not None:
            result[f"{base}/user_data"] = user_data
    return result
