"""``/v2.0/floatingips``: addresses of an external network, associated with a port's fixed
IP through a router that has a gateway on that network and an interface on the port's subnet."""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid
from stratus.interfaces.network import Operation, ResourceType
from stratus.network import errors, models, quotas, tags
from stratus.network.api import common
from stratus.network.api.networks import find as find_network
from stratus.network.api.ports import find as find_port
from stratus.network.api.ports import internal_port
from stratus.network.api.query import Attribute, Collection, fields_of, iso, project, respond_list
from stratus.network.service import NetworkService

FIP = models.FloatingIP
_NAME = {"type": "string", "maxLength": 255}
_ASSOCIATION = {"port_id": {"type": ["string", "null"]}, "fixed_ip_address": {"type": ["string", "null"]},
                "description": _NAME}
CREATE = {"type": "object", "required": ["floatingip"], "properties": {"floatingip": {
    "type": "object", "required": ["floating_network_id"], "additionalProperties": False, "properties": {
        **_ASSOCIATION, "floating_network_id": {"type": "string"}, "floating_ip_address": {"type": "string"},
        "subnet_id": {"type": "string"}, "tenant_id": _NAME, "project_id": _NAME, "tags": tags.TAG_LIST}}}}
UPDATE = {"type": "object", "required": ["floatingip"], "properties": {"floatingip": {
    "type": "object", "additionalProperties": False, "properties": _ASSOCIATION}}}
COLLECTION = Collection("floatingips", FIP, {
    "id": Attribute(FIP.id), "description": Attribute(FIP.description), "tenant_id": Attribute(FIP.project_id),
    "project_id": Attribute(FIP.project_id), "floating_ip_address": Attribute(FIP.floating_ip_address),
    "floating_network_id": Attribute(FIP.floating_network_id), "router_id": Attribute(FIP.router_id, nullable=True),
    "port_id": Attribute(FIP.fixed_port_id, nullable=True),
    "fixed_ip_address": Attribute(FIP.fixed_ip_address, nullable=True), "status": Attribute(FIP.status),
    "created_at": Attribute(FIP.created_at), "updated_at": Attribute(FIP.updated_at),
    "revision_number": Attribute(FIP.revision_number, int)})


def visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else FIP.project_id == ctx.project_id


def find(session: Any, req: falcon.Request, fip_id: str) -> models.FloatingIP:
    row = session.scalars(sa.select(FIP).where(FIP.id == fip_id, visible(common.context(req)))).first()
    if row is None:
        raise errors.FloatingIPNotFound(f"Floating IP {fip_id} could not be found")
    return row


def _port_details(port: models.Port | None) -> dict[str, Any] | None:
    """The associated port as ``fip-port-details`` shows it."""
    if port is None:
        return None
    return {"name": port.name, "network_id": port.network_id, "mac_address": port.mac_address,
            "admin_state_up": port.admin_state_up, "status": port.status, "device_id": port.device_id,
            "device_owner": port.device_owner}


def view(row: models.FloatingIP) -> dict[str, Any]:
    return {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id, "description": row.description,
            "floating_ip_address": row.floating_ip_address, "floating_network_id": row.floating_network_id,
            "router_id": row.router_id, "port_id": row.fixed_port_id, "fixed_ip_address": row.fixed_ip_address,
            "status": row.status, "tags": [t.tag for t in row.tag_rows], "port_forwardings": [], "qos_policy_id": None,
            "port_details": _port_details(row.fixed_port) if row.fixed_port_id else None,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "revision_number": row.revision_number}


def _associate(session: Any, req: falcon.Request, row: models.FloatingIP, port_id: str | None,
               fixed_ip: str | None) -> None:
    """Point ``row`` at ``port_id``'s (IPv4) fixed IP through a router that reaches the external network."""
    if port_id is None:
        row.fixed_port_id = row.fixed_ip_address = row.router_id = None
        row.status = "DOWN"
        set_committed_value(row, "fixed_port", None)
        return
    port = find_port(session, req, port_id)
    if port.project_id != row.project_id and not common.context(req).is_admin:
        raise errors.PortNotFound(f"Port {port_id} could not be found.")
    v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if fixed_ip is not None:
        chosen = next((a for a in v4 if a.ip_address == fixed_ip), None)
        if chosen is None:
            raise Invalid(f"Bad floatingip request: Port {port_id} does not have fixed ip {fixed_ip}.")
    elif len(v4) == 1:
        chosen = v4[0]
    elif not v4:
        raise Invalid(f"Bad floatingip request: Port {port_id} does not have any IPv4 fixed IP.")
    else:
        raise Invalid(f"Bad floatingip request: Port {port_id} has multiple fixed IPv4 addresses. Must provide a "
                      "specific IPv4 address when assigning a floating IP.")
    router_id = session.scalar(
        sa.select(models.Router.id).join(models.RouterPort, models.RouterPort.router_id == models.Router.id)
        .join(models.IpAllocation, models.IpAllocation.port_id == models.RouterPort.port_id)
        .join(models.Port, models.Port.id == models.Router.gw_port_id)
        .where(models.IpAllocation.subnet_id == chosen.subnet_id,
               models.Port.network_id == row.floating_network_id))
    if router_id is None:
        raise errors.ExternalGatewayForFloatingIPNotFound(
            f"External network {row.floating_network_id} is not reachable from subnet {chosen.subnet_id}. "
            f"Therefore, cannot associate Port {port_id} with a Floating IP.")
    taken = session.scalar(sa.select(FIP.id).where(FIP.fixed_port_id == port.id,
                                                   FIP.fixed_ip_address == chosen.ip_address, FIP.id != row.id))
    if taken:
        raise errors.FloatingIPPortAlreadyAssociated(
            f"Cannot associate floating IP {row.floating_ip_address} ({row.id}) with port {port.id} using fixed IP "
            f"{chosen.ip_address}, as that fixed IP already has a floating IP on external network "
            f"{row.floating_network_id}.")
    row.fixed_port_id, row.fixed_ip_address, row.router_id, row.status = port.id, chosen.ip_address, router_id, \
        "ACTIVE"
    set_committed_value(row, "fixed_port", port)  # the view's port_details, before any reload


class FloatingIPs:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Allocate a floating IP (and associate it)", request=CREATE,
            responses={201: {"type": "object", "required": ["floatingip"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["floatingip"]
        enforce(req, self.policy, "network:create_floatingip")
        if "floating_ip_address" in body:
            enforce(req, self.policy, "network:create_floatingip:floating_ip_address")
        owner = common.owner_for(req, body)
        with self.service.change() as change:
            network = find_network(change.session, req, body["floating_network_id"])
            if not network.router_external:
                raise Invalid(f"Bad floatingip request: Network {network.id} is not a valid external network.")
            request = {k: v for k, v in (("subnet_id", body.get("subnet_id")),
                                         ("ip_address", body.get("floating_ip_address"))) if v}
            quotas.check(self.service.db, change.session, self.service.conf, owner, "floatingip")
            fip_id, now = common.new_id(), common.now()
            port = internal_port(self.service, change.session, network, "", "network:floatingip", fip_id,
                                 [request] if request else None)
            address = next((a.ip_address for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4),
                           None)
            if address is None:
                raise errors.IpAddressGenerationFailure(f"No IPv4 address available on external network "
                                                        f"{network.id}.")
            row = FIP(id=fip_id, project_id=owner, description=body.get("description", ""),
                      floating_ip_address=address, floating_network_id=network.id, floating_port_id=port.id,
                      status="DOWN", created_at=now, updated_at=now, revision_number=1)
            _associate(change.session, req, row, body.get("port_id"), body.get("fixed_ip_address"))
            change.session.add(row)
            change.session.flush()
            tags.replace(change.session, row, body.get("tags", ()), bump=False)
            current = view(row)
            change.events.append(self.service.event(ResourceType.FLOATING_IP, Operation.CREATE, current))
        resp.status = 201
        resp.media = {"floatingip": project(current, fields_of(req))}

    @schema("List floating IPs", responses={200: {"type": "object", "required": ["floatingips"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_floatingip")
        respond_list(self.service, req, resp, COLLECTION, visible(common.context(req)), lambda _, row: view(row))


class FloatingIPItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a floating IP", responses={200: {"type": "object", "required": ["floatingip"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, floatingip_id: str) -> None:
        enforce(req, self.policy, "network:get_floatingip")
        with self.service.db.transaction() as session:
            resp.media = {"floatingip": project(view(find(session, req, floatingip_id)), fields_of(req))}

    @schema("Associate (port_id) or disassociate (port_id null) a floating IP", request=UPDATE,
            responses={200: {"type": "object", "required": ["floatingip"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, floatingip_id: str) -> None:
        body = req.context.body["floatingip"]
        with self.service.change() as change:
            row = find(change.session, req, floatingip_id)
            enforce(req, self.policy, "network:update_floatingip", {"project_id": row.project_id})
            original = view(row)
            if "description" in body:
                row.description = body["description"]
            if "port_id" in body:
                _associate(change.session, req, row, body["port_id"], body.get("fixed_ip_address"))
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            current = view(row)
            change.events.append(self.service.event(ResourceType.FLOATING_IP, Operation.UPDATE, current, original))
        resp.media = {"floatingip": current}

    @schema("Release a floating IP", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, floatingip_id: str) -> None:
        with self.service.change() as change:
            row = find(change.session, req, floatingip_id)
            enforce(req, self.policy, "network:delete_floatingip", {"project_id": row.project_id})
            original = view(row)
            port = change.session.get(models.Port, row.floating_port_id)
            change.session.delete(row)
            change.session.flush()
            change.session.delete(port)
            change.events.append(self.service.event(ResourceType.FLOATING_IP, Operation.DELETE, None, original))
        resp.status = 204
