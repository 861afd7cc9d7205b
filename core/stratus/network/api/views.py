"""How networks, subnets and ports look in responses (Neutron's field names)."""

from __future__ import annotations

from typing import Any

from stratus.network import models
from stratus.network.api.query import iso
from stratus.network.security import network_of


def _standard(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
            "description": row.description, "tags": [t.tag for t in row.tag_rows], "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "revision_number": row.revision_number}


def network(row: models.Network, is_admin: bool) -> dict[str, Any]:
    body = {**_standard(row), "admin_state_up": row.admin_state_up, "status": row.status,
            "subnets": [s.id for s in row.subnets], "shared": row.shared, "router:external": row.router_external,
            "mtu": row.mtu, "port_security_enabled": row.port_security_enabled, "availability_zone_hints": [],
            "availability_zones": ["nova"], "ipv4_address_scope": _scope(row, 4), "ipv6_address_scope": _scope(row, 6),
            "l2_adjacency": True, "is_default": False}
    if is_admin:
        body.update({"provider:network_type": row.network_type, "provider:physical_network": row.physical_network,
                     "provider:segmentation_id": row.segmentation_id})
    return body


def _scope(row: models.Network, version: int) -> str | None:
    """The address scope of the network's subnets of ``version`` (through their pool)."""
    return next((s.subnetpool.address_scope_id for s in row.subnets
                 if s.ip_version == version and s.subnetpool is not None and s.subnetpool.address_scope_id), None)


def subnet(row: models.Subnet) -> dict[str, Any]:
    return {**_standard(row), "network_id": row.network_id, "ip_version": row.ip_version, "cidr": row.cidr,
            "gateway_ip": row.gateway_ip, "enable_dhcp": row.enable_dhcp, "ipv6_ra_mode": row.ipv6_ra_mode,
            "ipv6_address_mode": row.ipv6_address_mode, "subnetpool_id": row.subnetpool_id, "service_types": [],
            "allocation_pools": [{"start": p.first_ip, "end": p.last_ip} for p in row.pools],
            "dns_nameservers": [d.address for d in row.dns],
            "host_routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes]}


def port(row: models.Port, is_admin: bool) -> dict[str, Any]:
    body = {**_standard(row), "network_id": row.network_id, "mac_address": row.mac_address,
            "admin_state_up": row.admin_state_up, "status": row.status, "device_id": row.device_id,
            "device_owner": row.device_owner, "port_security_enabled": row.port_security_enabled,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips],
            "allowed_address_pairs": [{"ip_address": p.ip_address, "mac_address": p.mac_address}
                                      for p in row.address_pairs],
            "extra_dhcp_opts": [], "security_groups": [g.security_group_id for g in row.security_groups],
            "binding:vnic_type": row.binding_vnic_type}
    if is_admin:
        body.update({"binding:host_id": row.binding_host_id, "binding:vif_type": row.binding_vif_type,
                     "binding:vif_details": row.binding_vif_details, "binding:profile": row.binding_profile})
    return body


def rule(row: models.SecurityGroupRule, default_group: bool = False) -> dict[str, Any]:
    return {"id": row.id, "security_group_id": row.security_group_id, "direction": row.direction,
            "ethertype": row.ethertype, "protocol": row.protocol, "port_range_min": row.port_range_min,
            "port_range_max": row.port_range_max, "remote_ip_prefix": row.remote_ip_prefix,
            "normalized_cidr": network_of(row.remote_ip_prefix), "remote_group_id": row.remote_group_id,
            "remote_address_group_id": None, "description": row.description, "project_id": row.project_id,
            "tenant_id": row.project_id, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "revision_number": row.revision_number, "belongs_to_default_sg": default_group}


def security_group(row: models.SecurityGroup, default_group: bool = False) -> dict[str, Any]:
    return {**_standard(row), "stateful": row.stateful, "shared": False,
            "security_group_rules": [rule(r, default_group) for r in row.rules]}
