"""Ports for servers, made and removed by the compute service on its hosts.

The same rules as ``POST /v2.0/ports`` (IPAM, MAC, default security group, binding
through the plugin) without an HTTP request: compute calls these in-process with the
server's project, so networking and compute need only share the database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.interfaces.network import Operation, PortBinding, ResourceType
from stratus.network import errors, models, quotas, security
from stratus.network.api import common, views
from stratus.network.api.networks import segments
from stratus.network.client import COMPUTE_OWNER, Attachment
from stratus.network.service import NetworkService


def networks_for(service: NetworkService, project_id: str) -> list[tuple[str, str]]:
    """(id, name) of the networks a project may attach to, own and shared, not external."""
    with service.db.reading() as session:
        rows = session.execute(sa.select(models.Network.id, models.Network.name).where(
            sa.or_(models.Network.project_id == project_id, models.Network.shared.is_(True)),
            models.Network.router_external.is_(False)).order_by(models.Network.created_at))
        return [(r.id, r.name) for r in rows]


def check_network(service: NetworkService, project_id: str, network_id: str, is_admin: bool = False) -> None:
    """:raises NotFound: the project may not attach to ``network_id``."""
    with service.db.reading() as session:
        row = session.get(models.Network, network_id)
        if row is None or not (is_admin or row.project_id == project_id or row.shared):
            raise NotFound(f"Network {network_id} could not be found.")


def check_port(service: NetworkService, project_id: str, port_id: str, is_admin: bool = False) -> None:
    """:raises NotFound / Conflict: the port is not the project's or already has a device."""
    with service.db.reading() as session:
        row = session.get(models.Port, port_id)
        if row is None or not (is_admin or row.project_id == project_id):
            raise NotFound(f"Port {port_id} could not be found.")
        if row.device_id:
            raise Conflict(f"Port {port_id} is still in use.")


def subnets(service: NetworkService, subnet_ids: set[str]) -> dict[str, dict[str, Any]]:
    """What a guest's network configuration needs of each subnet: its CIDR, version,
    gateway, DHCP, IPv6 address mode, DNS servers and host routes."""
    if not subnet_ids:
        return {}
    with service.db.reading() as session:
        return {row.id: {"cidr": row.cidr, "ip_version": row.ip_version, "gateway_ip": row.gateway_ip,
                         "enable_dhcp": row.enable_dhcp, "ipv6_address_mode": row.ipv6_address_mode,
                         "dns": [d.address for d in row.dns],
                         "routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes]}
                for row in session.scalars(sa.select(models.Subnet).where(models.Subnet.id.in_(subnet_ids)))}


def addresses(service: NetworkService, port_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each existing port's ``fixed_ips`` now and ``floating_ips`` (floating addresses by the
    fixed address they point at): what a server's recorded addresses follow."""
    if not port_ids:
        return {}
    with service.db.reading() as session:
        result: dict[str, dict[str, Any]] = {
            row.id: {"fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips],
                     "floating_ips": {}}
            for row in session.scalars(sa.select(models.Port).where(models.Port.id.in_(port_ids)))}
        for port_id, fixed, floating in session.execute(sa.select(
                models.FloatingIP.fixed_port_id, models.FloatingIP.fixed_ip_address,
                models.FloatingIP.floating_ip_address).where(models.FloatingIP.fixed_port_id.in_(list(result)))
                .order_by(models.FloatingIP.floating_ip_address)):
            result[port_id]["floating_ips"].setdefault(fixed, []).append(floating)
        return result


def port_states(service: NetworkService, port_ids: list[str]) -> dict[str, str]:
    """Each existing port's status."""
    if not port_ids:
        return {}
    with service.db.reading() as session:
        return dict(session.execute(sa.select(models.Port.id, models.Port.status).where(
            models.Port.id.in_(port_ids))).all())


def wired(service: NetworkService, port_ids: list[str], host: str) -> set[str]:
    """Which of the ports are ACTIVE and bound to ``host`` (their agent has wired them)."""
    with service.db.reading() as session:
        return set(session.scalars(sa.select(models.Port.id).where(
            models.Port.id.in_(port_ids), models.Port.binding_host_id == host, models.Port.status == "ACTIVE")))


def attach(service: NetworkService, project_id: str, server_id: str, host: str, *, network_id: str | None = None,
           port_id: str | None = None, fixed_ip: str | None = None,
           security_groups: list[str] | None = None) -> Attachment:
    """Create a port on ``network_id`` (or take ``port_id``) for the server, bound to ``host``."""
    from stratus.network.api.ports import _allocate, _bind, _set_mac, new_port

    with service.change() as change:
        session = change.session
        if port_id is not None:
            row = session.get(models.Port, port_id)
            if row is None:
                raise NotFound(f"Port {port_id} could not be found.")
            if row.device_id and row.device_id != server_id:
                raise Conflict(f"Port {port_id} is still in use.")
            network = session.get(models.Network, row.network_id)
            original = views.port(row, True)
            created = False
        else:
            network = session.get(models.Network, network_id)
            if network is None:
                raise NotFound(f"Network {network_id} could not be found.")
            row = new_port(project_id, network)
            _set_mac(session, row, None, service.conf.network.base_mac)
            quotas.check(service.db, session, service.conf, project_id, "port")
            session.add(row)
            session.flush()
            _allocate(service, session, row, network, [{"ip_address": fixed_ip}] if fixed_ip else None)
            if row.port_security_enabled:
                row.security_groups = [models.PortSecurityGroup(security_group_id=g)
                                       for g in _groups(session, project_id, security_groups)]
            original = None
            created = True
        row.device_id, row.device_owner, row.binding_host_id = server_id, COMPUTE_OWNER, host
        session.flush()
        session.refresh(row)
        _bind(service, row, network)
        if row.binding_vif_type == "binding_failed":
            raise Invalid(f"Binding failed for port {row.id} on host {host}.")
        session.flush()
        change.events.append(service.event(ResourceType.PORT, Operation.CREATE if created else Operation.UPDATE,
                                           views.port(row, True), original, segments(network)))
        return Attachment(row.id, network.id, network.name, row.mac_address,
                          tuple({"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips),
                          PortBinding(row.binding_vif_type, dict(row.binding_vif_details)), network.mtu, created)


def _groups(session: Any, project_id: str, names: list[str] | None) -> list[str]:
    if not names:
        return [security.ensure_default(session, project_id, common.now()).id]
    ids = []
    for name in dict.fromkeys(names):
        found = session.scalars(sa.select(models.SecurityGroup.id).where(
            models.SecurityGroup.project_id == project_id,
            sa.or_(models.SecurityGroup.name == name, models.SecurityGroup.id == name))).all()
        if name == "default" and not found:
            found = [security.ensure_default(session, project_id, common.now()).id]
        if len(found) != 1:
            raise errors.SecurityGroupNotFound(f"Security group {name} not found." if not found else
                                               f"Multiple security groups named {name}: use the id.")
        ids.append(found[0])
    return ids


def check_security_groups(service: NetworkService, project_id: str, names: list[str]) -> None:
    """:raises SecurityGroupNotFound: a name matches no group (or several) of the project."""
    with service.db.transaction() as session:
        _groups(session, project_id, names)


def bound_ports(service: NetworkService, server_id: str) -> list[str]:
    """The ids of the ports whose device is the server."""
    with service.db.reading() as session:
        return list(session.scalars(sa.select(models.Port.id).where(models.Port.device_id == server_id)))


def release(service: NetworkService, server_id: str, network_info: list[dict[str, Any]]) -> None:
    """:func:`detach` the ports a server's ``network_info`` lists (what compute recorded)."""
    if network_info:
        detach(service, server_id, [(n["port_id"], n["created"]) for n in network_info])


def detach(service: NetworkService, server_id: str, ports: list[tuple[str, bool]]) -> None:
    """Delete the ports made for the server, unbind the ones it was given. Idempotent."""
    with service.change() as change:
        for port_id, created in ports:
            row = change.session.get(models.Port, port_id)
            if row is None or row.device_id != server_id:
                continue
            original = views.port(row, True)
            change.session.execute(sa.update(models.FloatingIP).where(models.FloatingIP.fixed_port_id == row.id)
                                   .values(fixed_port_id=None, fixed_ip_address=None, router_id=None,
                                           status="DOWN"))
            if created:
                change.session.delete(row)
                change.events.append(service.event(ResourceType.PORT, Operation.DELETE, None, original))
            else:
                row.device_id, row.device_owner, row.binding_host_id = "", "", ""
                row.binding_vif_type, row.binding_vif_details, row.status = "unbound", {}, "DOWN"
                change.events.append(service.event(ResourceType.PORT, Operation.UPDATE, views.port(row, True),
                                                   original))
