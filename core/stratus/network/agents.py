"""What host agents of a data-plane plugin ask the networking service over RPC.

An agent (one per host) serves nothing the core calls directly: it reports itself
(``report_state``), asks for everything its host must realise (``sync_host``) whenever the
plugin tells it something changed, and reports which of its ports are wired
(``update_port_status``). The answer of ``sync_host`` is a complete description, so an
agent reconciles its host to it instead of applying events one by one: a lost or
duplicated notification costs one more sync, never a wrong data plane.

Placement: every live agent with ``dhcp`` in its configurations serves DHCP for every
network with a DHCP-enabled IPv4 subnet (as Neutron with ``dhcp_agents_per_network`` at
the number of agents); each router lives on one live agent with ``l3``, chosen by a hash
of its id over the live ones sorted by host, so it moves when that set changes.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import insert_unless_taken
from stratus.network import errors, models
from stratus.network.api import common, views

LOG = logging.getLogger(__name__)

TOPIC = "network-plugin"
"""The RPC topic the networking service serves agents on."""
AGENT_TOPIC = "network-agent"
"""The RPC topic agents serve; the plugin fans ``resync`` out on it."""
DHCP_OWNER = "network:dhcp"


def dhcp_device_id(host: str, network_id: str) -> str:
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


class AgentEndpoint:
    """The methods agents call; ``service`` is the :class:`~stratus.network.service.NetworkService`."""

    def __init__(self, service: Any, notify: Any = None) -> None:
        self.service = service
        self.notify = notify or (lambda: None)

    def _live(self, session: Any) -> list[models.Agent]:
        horizon = common.now() - datetime.timedelta(seconds=self.service.conf.network.agent_down_time)
        return list(session.scalars(sa.select(models.Agent).where(models.Agent.heartbeat_at >= horizon,
                                                                  models.Agent.admin_state_up.is_(True))
                                    .order_by(models.Agent.host)))

    def report_state(self, context: Any, host: str, agent_type: str, binary: str, topic: str,
                     configurations: dict[str, Any], start_flag: bool = False) -> dict[str, Any]:
        """Record a heartbeat; a new or restarted agent makes every agent resync (placement
        and tunnel endpoints may have changed)."""
        now = common.now()
        with self.service.db.transaction() as session:
            row = session.scalars(sa.select(models.Agent).where(models.Agent.host == host,
                                                                models.Agent.agent_type == agent_type)).first()
            fresh = row is None
            if fresh:
                row = models.Agent(id=common.new_id(), host=host, agent_type=agent_type, binary=binary, topic=topic,
                                   admin_state_up=True, configurations=configurations, created_at=now,
                                   started_at=now, heartbeat_at=now, description="")
                if not insert_unless_taken(session, row):
                    return self.report_state(context, host, agent_type, binary, topic, configurations, start_flag)
            else:
                horizon = now - datetime.timedelta(seconds=self.service.conf.network.agent_down_time)
                fresh = start_flag or row.heartbeat_at < horizon or row.configurations != configurations
                row.configurations, row.binary, row.topic, row.heartbeat_at = configurations, binary, topic, now
                if start_flag:
                    row.started_at = now
            agent_id = row.id
        if fresh:
            self.notify()
        return {"agent_id": agent_id}

    def update_port_status(self, context: Any, host: str, up: list[str], down: list[str]) -> None:
        """Ports of ``host`` the agent has wired (``up``) or found unwired (``down``); those
        that changed go to the service's port status listeners once committed."""
        from stratus.network.service import PortStatus

        changed: list[PortStatus] = []
        with self.service.db.transaction() as session:
            for ids, status in ((up, "ACTIVE"), (down, "DOWN")):
                if ids:
                    where = (models.Port.id.in_(ids), models.Port.binding_host_id == host,
                             models.Port.status != status, models.Port.status != "ERROR")
                    changed += [PortStatus(r.id, status, r.device_id or "", r.device_owner or "", host)
                                for r in session.execute(sa.select(models.Port.id, models.Port.device_id,
                                                                   models.Port.device_owner).where(*where))]
                    session.execute(sa.update(models.Port).where(*where).values(status=status))
        if changed:
            self.service.port_status_changed(changed)

    def sync_host(self, context: Any, host: str) -> dict[str, Any]:
        """Everything ``host`` must realise now (see the module docstring), after making
        sure the DHCP ports it needs exist and those it no longer needs are gone."""
        self._settle_dhcp_ports(host)
        with self.service.db.transaction() as session:
            return HostState(session, host, self._live(session)).build()

    def _settle_dhcp_ports(self, host: str) -> None:
        from stratus.network.api.ports import internal_port

        with self.service.db.transaction() as session:
            agents = self._live(session)
            serves = any(a.host == host and a.configurations.get("dhcp") for a in agents)
            wanted: dict[str, models.Network] = {}
            if serves:
                for network in session.scalars(sa.select(models.Network).where(
                        sa.exists().where(models.Subnet.network_id == models.Network.id,
                                          models.Subnet.enable_dhcp.is_(True), models.Subnet.ip_version == 4))):
                    wanted[network.id] = network
            held = {p.network_id: p for p in session.scalars(sa.select(models.Port).where(
                models.Port.device_owner == DHCP_OWNER, models.Port.binding_host_id == host))}
            for network_id, port in held.items():
                if network_id not in wanted:
                    session.delete(port)
            for network_id, network in wanted.items():
                dhcp_subnets = [s for s in network.subnets if s.enable_dhcp and s.ip_version == 4]
                if network_id in held:
                    have = {a.subnet_id for a in held[network_id].fixed_ips}
                    if have == {s.id for s in dhcp_subnets}:
                        continue
                    session.delete(held[network_id])
                    session.flush()
                try:
                    with session.begin_nested():
                        port = internal_port(self.service, session, network, network.project_id, DHCP_OWNER,
                                             dhcp_device_id(host, network_id),
                                             [{"subnet_id": s.id} for s in dhcp_subnets])
                        port.binding_host_id, port.status = host, "DOWN"
                except errors.IpAddressGenerationFailure as exc:
                    LOG.warning("no DHCP port for network %s on %s: %s", network_id, host, exc)


class HostState:
    """Builds the answer of ``sync_host`` from one transaction's view of the database."""

    def __init__(self, session: Any, host: str, live: list[models.Agent]) -> None:
        self.session, self.host, self.live = session, host, live

    def _router_host(self, router_id: str) -> str | None:
        l3 = [a.host for a in self.live if a.configurations.get("l3")]
        if not l3:
            return None
        return l3[int(hashlib.sha256(router_id.encode()).hexdigest(), 16) % len(l3)]

    def build(self) -> dict[str, Any]:
        session = self.session
        ports = list(session.scalars(sa.select(models.Port).where(models.Port.binding_host_id == self.host)))
        routers = [r for r in session.scalars(sa.select(models.Router)) if self._router_host(r.id) == self.host]
        router_port_ids = {i.port_id for r in routers for i in r.interfaces} | {r.gw_port_id for r in routers
                                                                                if r.gw_port_id}
        router_ports = {p.id: p for p in session.scalars(sa.select(models.Port)
                                                         .where(models.Port.id.in_(router_port_ids)))}
        network_ids = {p.network_id for p in ports} | {p.network_id for p in router_ports.values()}
        networks = {n.id: n for n in session.scalars(sa.select(models.Network)
                                                     .where(models.Network.id.in_(network_ids)))}
        group_ids = {g.security_group_id for p in ports for g in p.security_groups}
        groups = {g.id: g for g in session.scalars(sa.select(models.SecurityGroup)
                                                   .where(models.SecurityGroup.id.in_(group_ids)))}
        remote_ids = {r.remote_group_id for g in groups.values() for r in g.rules if r.remote_group_id}
        return {
            "host": self.host,
            "networks": {n.id: self._network(n) for n in networks.values()},
            "ports": [views.port(p, True) for p in ports],
            "neighbours": self._neighbours(network_ids),
            "security_groups": {g.id: {"stateful": g.stateful, "rules": [views.rule(r) for r in g.rules]}
                                for g in groups.values()},
            "group_members": self._members(remote_ids),
            "routers": [self._router(r, router_ports) for r in routers],
            "agents": [{"host": a.host, "agent_type": a.agent_type, "tunnel_ip": a.configurations.get("tunnel_ip")}
                       for a in self.live],
        }

    @staticmethod
    def _network(row: models.Network) -> dict[str, Any]:
        return {"id": row.id, "mtu": row.mtu, "admin_state_up": row.admin_state_up,
                "network_type": row.network_type, "physical_network": row.physical_network,
                "segmentation_id": row.segmentation_id, "router_external": row.router_external,
                "subnets": [views.subnet(s) for s in row.subnets]}

    def _neighbours(self, network_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Every port's MAC and addresses on the networks present here, and its host: DHCP
        host entries and where a destination MAC lives."""
        result: dict[str, list[dict[str, Any]]] = {n: [] for n in network_ids}
        routers = {r.id: r for r in self.session.scalars(sa.select(models.Router))}
        for port in self.session.scalars(sa.select(models.Port).where(models.Port.network_id.in_(network_ids))):
            host = port.binding_host_id
            if port.device_owner in ("network:router_interface", "network:router_gateway"):
                host = self._router_host(port.device_id) if port.device_id in routers else None
            result[port.network_id].append({
                "port_id": port.id, "mac_address": port.mac_address, "host": host or None,
                "device_owner": port.device_owner, "admin_state_up": port.admin_state_up,
                "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]})
        return result

    def _members(self, group_ids: set[str]) -> dict[str, list[str]]:
        members: dict[str, list[str]] = {g: [] for g in group_ids}
        if not group_ids:
            return members
        rows = self.session.execute(
            sa.select(models.PortSecurityGroup.security_group_id, models.IpAllocation.ip_address)
            .join(models.IpAllocation, models.IpAllocation.port_id == models.PortSecurityGroup.port_id)
            .where(models.PortSecurityGroup.security_group_id.in_(group_ids)))
        for group_id, address in rows:
            members[group_id].append(address)
        return members

    def _router(self, row: models.Router, ports: dict[str, models.Port]) -> dict[str, Any]:
        fips = self.session.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.router_id == row.id,
                                                                       models.FloatingIP.fixed_port_id.is_not(None)))
        return {"id": row.id, "admin_state_up": row.admin_state_up, "enable_snat": row.enable_snat,
                "gateway": views.port(ports[row.gw_port_id], True) if row.gw_port_id in ports else None,
                "interfaces": [views.port(ports[i.port_id], True) for i in row.interfaces if i.port_id in ports],
                "floating_ips": [{"id": f.id, "floating_ip_address": f.floating_ip_address,
                                  "fixed_ip_address": f.fixed_ip_address, "port_id": f.fixed_port_id}
                                 for f in fips],
                "routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes]}
