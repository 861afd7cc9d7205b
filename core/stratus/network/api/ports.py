"""``/v2.0/ports``: fixed IPs from IPAM, MAC addresses, bindings."""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid
from stratus.interfaces import network as iface
from stratus.interfaces.network import Operation, ResourceType
from stratus.network import errors, ipam, models, quotas, security, tags
from stratus.network.api import common, views
from stratus.network.api.networks import find as find_network
from stratus.network.api.networks import mark_error, segments
from stratus.network.api.query import Attribute, Collection, fields_of, parse_bool, project, respond_list
from stratus.network.api.security_groups import find_group
from stratus.network.service import NetworkService

Port = models.Port
MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
_NAME = {"type": "string", "maxLength": 255}
_FIXED_IPS = {"type": "array", "items": {"type": "object", "additionalProperties": False, "properties": {
    "subnet_id": {"type": "string"}, "ip_address": {"type": "string"}}}}
_PAIRS = {"type": "array", "maxItems": 10, "items": {"type": "object", "required": ["ip_address"],
                                                     "additionalProperties": False,
                                                     "properties": {"ip_address": {"type": "string"},
                                                                    "mac_address": {"type": "string"}}}}
_WRITABLE = {"name": _NAME, "description": _NAME, "admin_state_up": {"type": "boolean"},
             "device_id": _NAME, "device_owner": _NAME, "fixed_ips": _FIXED_IPS, "allowed_address_pairs": _PAIRS,
             "port_security_enabled": {"type": "boolean"}, "mac_address": {"type": "string"},
             "binding:host_id": _NAME, "binding:vnic_type": {"enum": ["normal", "direct", "macvtap", "baremetal"]},
             "binding:profile": {"type": "object"},
             "security_groups": {"type": "array", "items": {"type": "string"}}}
CREATE = {"type": "object", "required": ["port"], "properties": {"port": {
    "type": "object", "required": ["network_id"], "additionalProperties": False, "properties": {
        **_WRITABLE, "network_id": {"type": "string"}, "tenant_id": _NAME, "project_id": _NAME,
        "tags": tags.TAG_LIST}}}}
UPDATE = {"type": "object", "required": ["port"], "properties": {"port": {
    "type": "object", "additionalProperties": False, "properties": _WRITABLE}}}
COLLECTION = Collection("ports", Port, {
    "id": Attribute(Port.id), "name": Attribute(Port.name), "description": Attribute(Port.description),
    "tenant_id": Attribute(Port.project_id), "project_id": Attribute(Port.project_id),
    "network_id": Attribute(Port.network_id), "mac_address": Attribute(Port.mac_address),
    "admin_state_up": Attribute(Port.admin_state_up, parse_bool), "status": Attribute(Port.status),
    "device_id": Attribute(Port.device_id), "device_owner": Attribute(Port.device_owner),
    "binding:host_id": Attribute(Port.binding_host_id), "binding:vnic_type": Attribute(Port.binding_vnic_type),
    "port_security_enabled": Attribute(Port.port_security_enabled, parse_bool),
    "created_at": Attribute(Port.created_at), "updated_at": Attribute(Port.updated_at),
    "revision_number": Attribute(Port.revision_number, int)})
BINDING = ("binding:host_id", "binding:profile")


def find(session: Any, req: falcon.Request, port_id: str) -> Port:
    row = session.scalars(sa.select(Port).where(Port.id == port_id,
                                                common.port_visible(common.context(req)))).first()
    if row is None:
        raise errors.PortNotFound(f"Port {port_id} could not be found.")
    return row


def _random_mac(base: str) -> str:
    return ":".join([*base.split(":")[:3], *(f"{b:02x}" for b in secrets.token_bytes(3))])


def _set_mac(session: Any, row: Port, requested: str | None, base: str) -> None:
    if requested is not None:
        if not MAC.match(requested) or int(requested.split(":")[0], 16) & 1:
            raise Invalid(f"Invalid input for mac_address. Reason: '{requested}' is not a valid unicast MAC address.")
        row.mac_address = requested.lower()
        if session.scalar(sa.select(Port.id).where(Port.network_id == row.network_id,
                                                   Port.mac_address == row.mac_address, Port.id != row.id)):
            raise errors.MacAddressInUse(f"Unable to complete operation for network {row.network_id}. The mac "
                                         f"address {requested} is in use.")
        return
    for _ in range(16):
        candidate = _random_mac(base)
        if not session.scalar(sa.select(Port.id).where(Port.network_id == row.network_id,
                                                       Port.mac_address == candidate)):
            row.mac_address = candidate
            return
    raise errors.MacAddressInUse(f"Unable to generate a unique MAC address on network {row.network_id}")


def _allocate(service: NetworkService, session: Any, row: Port, network: models.Network,
              requests: list[dict[str, Any]] | None) -> None:
    """Give ``row`` the fixed IPs ``requests`` ask for (Neutron's defaults when None)."""
    subnets = {s.id: s for s in network.subnets}
    gateway_ok = row.device_owner.startswith("network:router")
    if requests is None:
        v4 = [s for s in network.subnets if s.ip_version == 4]
        stateful = [s for s in network.subnets if s.ip_version == 6 and s.ipv6_address_mode not in ipam.SLAAC_MODES]
        automatic = [s for s in network.subnets if s.ip_version == 6 and s.ipv6_address_mode in ipam.SLAAC_MODES]
        position = 0
        for group in (v4, stateful):
            failure: Exception | None = None
            for subnet in group:
                try:
                    ipam.allocate(session, subnet, row, position)
                    position += 1
                    break
                except errors.IpAddressGenerationFailure as exc:
                    failure = exc
            else:
                if failure is not None:
                    raise failure
        for subnet in automatic:
            ipam.allocate(session, subnet, row, position)
            position += 1
        return
    if len(requests) > service.conf.network.max_fixed_ips_per_port:
        raise Invalid(f"Exceeded maximum amount of fixed ips per port ({service.conf.network.max_fixed_ips_per_port})")
    chosen: list[tuple[models.Subnet, ipaddress.IPv4Address | ipaddress.IPv6Address | None]] = []
    for request in requests:
        address = ipam.parse_ip(request["ip_address"], "fixed_ips") if "ip_address" in request else None
        if "subnet_id" in request:
            subnet = subnets.get(request["subnet_id"])
            if subnet is None:
                raise Invalid(f"Invalid input for operation: subnet {request['subnet_id']} is not on network "
                              f"{network.id}.")
        elif address is not None:
            subnet = next((s for s in network.subnets if address in ipaddress.ip_network(s.cidr)), None)
            if subnet is None:
                raise Invalid(f"Invalid input for operation: IP address {address} is not a valid IP for any of the "
                              f"subnets on the specified network {network.id}.")
        else:
            raise Invalid("Invalid input for fixed_ips: each entry needs subnet_id or ip_address.")
        chosen.append((subnet, address))
    for position, (subnet, address) in enumerate(chosen):
        ipam.allocate(session, subnet, row, position, address, allow_gateway=gateway_ok)


def _pairs(row: Port, pairs: list[dict[str, str]]) -> list[models.AllowedAddressPair]:
    result = []
    for pair in pairs:
        try:
            address = str(ipaddress.ip_network(pair["ip_address"], strict=False))
        except ValueError:
            raise Invalid(f"Invalid input for allowed_address_pairs: '{pair['ip_address']}' is not an IP address "
                          "or CIDR.") from None
        address = address.removesuffix("/32") if "/" not in pair["ip_address"] else address
        address = address.removesuffix("/128") if "/" not in pair["ip_address"] else address
        mac = pair.get("mac_address", row.mac_address)
        if not MAC.match(mac):
            raise Invalid(f"Invalid input for allowed_address_pairs: '{mac}' is not a valid MAC address.")
        result.append(models.AllowedAddressPair(ip_address=address, mac_address=mac.lower()))
    if len({(p.ip_address, p.mac_address) for p in result}) != len(result):
        raise Invalid("Invalid input for allowed_address_pairs: duplicate address pair.")
    return result


def _set_groups(session: Any, req: falcon.Request, row: Port, requested: list[str] | None) -> None:
    """Attach ``requested`` groups, or (None, on a new port) the project's default group."""
    if requested is None:
        secured = row.port_security_enabled and not row.device_owner.startswith("network:")
        ids = [security.ensure_default(session, row.project_id, common.now()).id] if secured else []
    else:
        ids = list(dict.fromkeys(find_group(session, req, group_id).id for group_id in requested))
    if ids and not row.port_security_enabled:
        raise errors.PortSecurityAndIPRequiredForSecurityGroups(
            "Port security must be enabled and port must have an IP address in order to use security groups.")
    row.security_groups = [models.PortSecurityGroup(security_group_id=group_id) for group_id in ids]


def as_interface(row: Port, network: models.Network) -> iface.Port:
    return iface.Port(id=row.id, network_id=row.network_id, project_id=row.project_id, mac_address=row.mac_address,
                      fixed_ips=tuple(iface.FixedIP(a.subnet_id, a.ip_address) for a in row.fixed_ips),
                      device_id=row.device_id, device_owner=row.device_owner, admin_state_up=row.admin_state_up,
                      host=row.binding_host_id, port_security_enabled=row.port_security_enabled,
                      allowed_address_pairs=tuple((p.ip_address, p.mac_address) for p in row.address_pairs),
                      security_group_ids=tuple(g.security_group_id for g in row.security_groups),
                      mtu=network.mtu, segments=segments(network))


def _bind(service: NetworkService, row: Port, network: models.Network) -> None:
    if not row.binding_host_id:
        row.binding_vif_type, row.binding_vif_details = "unbound", {}
        if not row.device_owner.startswith("network:"):  # router and floating IP ports keep their status
            row.status = "DOWN"
        return
    binding = service.plugin.bind_port(as_interface(row, network), row.binding_host_id)
    if binding is None:
        row.binding_vif_type, row.binding_vif_details, row.status = "binding_failed", {}, "DOWN"
        return
    row.binding_vif_type, row.binding_vif_details = binding.vif_type, dict(binding.vif_details)
    if not service.has_agents:
        row.status = "ACTIVE" if row.admin_state_up else "DOWN"
    elif not row.admin_state_up:
        row.status = "DOWN"  # with agents, a port is ACTIVE once its host's agent has wired it


def new_port(project_id: str, network: models.Network, **fields: Any) -> Port:
    """A port row with Neutron's defaults and ``fields`` on top; no MAC, address or group yet."""
    now = common.now()
    values: dict[str, Any] = dict(
        id=common.new_id(), project_id=project_id, network_id=network.id, name="", description="",
        admin_state_up=True, device_id="", device_owner="", port_security_enabled=network.port_security_enabled,
        binding_host_id="", binding_vnic_type="normal", binding_profile={}, binding_vif_details={}, created_at=now,
        updated_at=now, revision_number=1, fixed_ips=[], address_pairs=[], security_groups=[])
    values.update(fields)
    return Port(**values)


def internal_port(service: NetworkService, session: Any, network: models.Network, project_id: str,
                  device_owner: str, device_id: str, fixed_ips: list[dict[str, Any]] | None) -> Port:
    """A port Stratus makes for itself (router interfaces and gateways, floating IPs)."""
    row = new_port(project_id, network, device_id=device_id, device_owner=device_owner, port_security_enabled=False,
                   status="ACTIVE")
    _set_mac(session, row, None, service.conf.network.base_mac)
    session.add(row)
    session.flush()
    _allocate(service, session, row, network, fixed_ips)
    session.flush()
    session.refresh(row)
    return row


SERVICE_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")


class Ports:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create a port, or several at once (all or none)", request=common.bulk_schema(CREATE, "port", "ports"),
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted, bulk = common.bodies(req, "port", "ports")
        with self.service.change() as change:
            results = [self._create(req, change, body) for body in wanted]  # all, or none (one transaction)
        failed = {event.current["id"] for event in change.failed}
        for result in results:
            if result["id"] in failed:
                mark_error(self.service, Port, result["id"])
                result["status"] = "ERROR"
        resp.status = 201
        shown = [project(result, fields_of(req)) for result in results]
        resp.media = {"ports": shown} if bulk else {"port": shown[0]}

    def _create(self, req: falcon.Request, change: Any, body: dict[str, Any]) -> dict[str, Any]:
        ctx = common.context(req)
        enforce(req, self.policy, "network:create_port")
        if any(k in body for k in BINDING):
            enforce(req, self.policy, "network:create_port:binding")
        network = find_network(change.session, req, body["network_id"])
        if not (common.owns(ctx, network.project_id) or network.shared):
            raise Forbidden(f"Only the owner of network {network.id} (or an administrator) may create ports "
                            "on it.")
        if body.get("device_owner", "").startswith("network:") and not common.owns(ctx, network.project_id):
            raise Forbidden("Only the network's owner may create ports with a network: device_owner.")
        row = new_port(common.owner_for(req, body), network, name=body.get("name", ""),
                       description=body.get("description", ""), admin_state_up=body.get("admin_state_up", True),
                       device_id=body.get("device_id", ""), device_owner=body.get("device_owner", ""),
                       port_security_enabled=body.get("port_security_enabled", network.port_security_enabled),
                       binding_host_id=body.get("binding:host_id", ""),
                       binding_vnic_type=body.get("binding:vnic_type", "normal"),
                       binding_profile=body.get("binding:profile", {}))
        _set_mac(change.session, row, body.get("mac_address"), self.service.conf.network.base_mac)
        quotas.check(self.service.db, change.session, self.service.conf, row.project_id, "port")
        change.session.add(row)
        change.session.flush()
        _allocate(self.service, change.session, row, network, body.get("fixed_ips"))
        row.address_pairs = _pairs(row, body.get("allowed_address_pairs", []))
        _set_groups(change.session, req, row, body.get("security_groups"))
        change.session.flush()
        change.session.refresh(row)
        _bind(self.service, row, network)
        change.session.flush()
        tags.replace(change.session, row, body.get("tags", ()), bump=False)
        change.events.append(self.service.event(ResourceType.PORT, Operation.CREATE, views.port(row, True),
                                                segments=segments(network)))
        return views.port(row, ctx.is_admin)

    @schema("List ports", responses={200: {"type": "object", "required": ["ports"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_port")
        ctx = common.context(req)
        fixed = req.params.get("fixed_ips", [])
        visible = common.port_visible(ctx)
        for raw in [fixed] if isinstance(fixed, str) else fixed:
            key, _, wanted = raw.partition("=")
            column = {"ip_address": models.IpAllocation.ip_address,
                      "subnet_id": models.IpAllocation.subnet_id}.get(key)
            if column is None:
                raise Invalid(f"fixed_ips filter {raw!r}: use ip_address=... or subnet_id=...")
            visible = sa.and_(visible, sa.exists().where(models.IpAllocation.port_id == Port.id, column == wanted))
        respond_list(self.service, req, resp, COLLECTION, visible, lambda _, row: views.port(row, ctx.is_admin),
                     skip=("fixed_ips",))


class PortItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a port", responses={200: {"type": "object", "required": ["port"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, port_id: str) -> None:
        enforce(req, self.policy, "network:get_port")
        with self.service.db.transaction() as session:
            row = find(session, req, port_id)
            resp.media = {"port": project(views.port(row, common.context(req).is_admin), fields_of(req))}

    @schema("Update a port", request=UPDATE, responses={200: {"type": "object", "required": ["port"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, port_id: str) -> None:
        body = req.context.body["port"]
        ctx = common.context(req)
        with self.service.change() as change:
            row = find(change.session, req, port_id)
            enforce(req, self.policy, "network:update_port", {"project_id": row.project_id})
            if any(k in body for k in BINDING):
                enforce(req, self.policy, "network:update_port:binding")
            network = change.session.get(models.Network, row.network_id)
            original = views.port(row, True)
            for key in ("name", "description", "admin_state_up", "device_id", "device_owner",
                        "port_security_enabled"):
                if key in body:
                    setattr(row, key, body[key])
            if "mac_address" in body and body["mac_address"].lower() != row.mac_address:
                if row.binding_host_id:
                    raise errors.PortBound(f"Unable to complete operation on port {row.id}: the MAC address of a "
                                           "bound port cannot change.")
                enforce(req, self.policy, "network:update_port:mac_address")
                _set_mac(change.session, row, body["mac_address"], self.service.conf.network.base_mac)
            if "binding:host_id" in body:
                row.binding_host_id = body["binding:host_id"]
            for key in ("binding:vnic_type", "binding:profile"):
                if key in body:
                    setattr(row, key.replace(":", "_"), body[key])
            if "fixed_ips" in body:
                row.fixed_ips = []
                change.session.flush()
                _allocate(self.service, change.session, row, network, body["fixed_ips"])
            if "allowed_address_pairs" in body:
                row.address_pairs = _pairs(row, body["allowed_address_pairs"])
            if "security_groups" in body:
                _set_groups(change.session, req, row, body["security_groups"])
            elif row.security_groups and not row.port_security_enabled:
                raise errors.PortSecurityAndIPRequiredForSecurityGroups(
                    "Port has security group associated. Cannot disable port security until security group is "
                    "removed.")
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            change.session.refresh(row)
            _bind(self.service, row, network)
            change.session.flush()
            change.events.append(self.service.event(ResourceType.PORT, Operation.UPDATE, views.port(row, True),
                                                    original, segments(network)))
            result = views.port(row, ctx.is_admin)
        if change.failed:
            mark_error(self.service, Port, port_id)
            result["status"] = "ERROR"
        resp.media = {"port": result}

    @schema("Delete a port and free its addresses", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, port_id: str) -> None:
        with self.service.change() as change:
            row = find(change.session, req, port_id)
            enforce(req, self.policy, "network:delete_port", {"project_id": row.project_id})
            if row.device_owner in SERVICE_OWNERS:
                raise errors.ServicePortInUse(f"Port {row.id} cannot be deleted directly via the port API: has "
                                              f"device owner {row.device_owner}.")
            original = views.port(row, True)
            change.session.execute(sa.update(models.FloatingIP).where(models.FloatingIP.fixed_port_id == row.id)
                                   .values(fixed_port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.PORT, Operation.DELETE, None, original))
        resp.status = 204
