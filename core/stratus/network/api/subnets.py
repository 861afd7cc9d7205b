"""``/v2.0/subnets``."""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid
from stratus.interfaces.network import Operation, ResourceType
from stratus.network import errors, ipam, models, quotas, subnetpools, tags
from stratus.network.api import common, views
from stratus.network.api.networks import find as find_network
from stratus.network.api.networks import mark_error, segments
from stratus.network.api.query import Attribute, Collection, fields_of, parse_bool, project, respond_list
from stratus.network.api.subnetpools import find_pool
from stratus.network.service import NetworkService

Subnet = models.Subnet
_NAME = {"type": "string", "maxLength": 255}
_IP = {"type": "string", "maxLength": 64}
_IP_VERSION = {"enum": [4, 6]}
_PREFIXLEN = {"type": "integer", "minimum": 0, "maximum": 128}
_V6_MODES = {"enum": ["slaac", "dhcpv6-stateful", "dhcpv6-stateless", None]}
_WRITABLE = {
    "name": _NAME, "description": _NAME, "enable_dhcp": {"type": "boolean"}, "gateway_ip": {"type": ["string", "null"]},
    "dns_nameservers": {"type": "array", "maxItems": 5, "items": _IP},
    "host_routes": {"type": "array", "maxItems": 20, "items": {
        "type": "object", "required": ["destination", "nexthop"], "additionalProperties": False,
        "properties": {"destination": _IP, "nexthop": _IP}}},
    "allocation_pools": {"type": "array", "items": {
        "type": "object", "required": ["start", "end"], "additionalProperties": False,
        "properties": {"start": _IP, "end": _IP}}},
}
CREATE = {"type": "object", "required": ["subnet"], "properties": {"subnet": {
    "type": "object", "required": ["network_id"], "additionalProperties": False, "properties": {
        **_WRITABLE, "network_id": {"type": "string"}, "cidr": {"type": ["string", "null"]},
        "subnetpool_id": {"type": ["string", "null"]}, "use_default_subnetpool": {"type": "boolean"},
        "prefixlen": common.integer(_PREFIXLEN),
        "ip_version": common.integer(_IP_VERSION),
        "ipv6_ra_mode": _V6_MODES, "ipv6_address_mode": _V6_MODES, "tenant_id": _NAME, "project_id": _NAME,
        "service_types": {"type": "array"}, "tags": tags.TAG_LIST}}}}
UPDATE = {"type": "object", "required": ["subnet"], "properties": {"subnet": {
    "type": "object", "additionalProperties": False, "properties": _WRITABLE}}}
COLLECTION = Collection("subnets", Subnet, {
    "id": Attribute(Subnet.id), "name": Attribute(Subnet.name), "description": Attribute(Subnet.description),
    "tenant_id": Attribute(Subnet.project_id), "project_id": Attribute(Subnet.project_id),
    "network_id": Attribute(Subnet.network_id), "ip_version": Attribute(Subnet.ip_version, int),
    "cidr": Attribute(Subnet.cidr), "gateway_ip": Attribute(Subnet.gateway_ip, nullable=True),
    "enable_dhcp": Attribute(Subnet.enable_dhcp, parse_bool),
    "ipv6_ra_mode": Attribute(Subnet.ipv6_ra_mode, nullable=True),
    "ipv6_address_mode": Attribute(Subnet.ipv6_address_mode, nullable=True),
    "subnetpool_id": Attribute(Subnet.subnetpool_id, nullable=True),
    "created_at": Attribute(Subnet.created_at), "updated_at": Attribute(Subnet.updated_at),
    "revision_number": Attribute(Subnet.revision_number, int)})


def find(session: Any, req: falcon.Request, subnet_id: str) -> Subnet:
    row = session.scalars(sa.select(Subnet).where(Subnet.id == subnet_id,
                                                  common.subnet_visible(common.context(req)))).first()
    if row is None:
        raise errors.SubnetNotFound(f"Subnet {subnet_id} could not be found.")
    return row


def _apply(row: Subnet, body: dict[str, Any], network: ipaddress.IPv4Network | ipaddress.IPv6Network,
           creating: bool) -> None:
    """Validate and set gateway, pools, DNS servers and routes from ``body``."""
    if "gateway_ip" in body or creating:
        if "gateway_ip" in body:
            gateway = None if body["gateway_ip"] is None else ipam.parse_ip(body["gateway_ip"], "gateway_ip")
        else:
            gateway = next(iter(ipam.default_pools(network, None)), (None,))[0]
        if gateway is not None and (gateway.version != network.version or gateway not in network):
            raise Invalid(f"Invalid input for operation: Gateway IP {gateway} is not in subnet {network}.")
        row.gateway_ip = None if gateway is None else str(gateway)
    gateway = None if row.gateway_ip is None else ipaddress.ip_address(row.gateway_ip)
    if "allocation_pools" in body:
        pools = [(ipam.parse_ip(p["start"], "allocation_pools"), ipam.parse_ip(p["end"], "allocation_pools"))
                 for p in body["allocation_pools"]]
    elif creating:
        pools = ipam.default_pools(network, gateway)
    else:
        pools = [(ipaddress.ip_address(p.first_ip), ipaddress.ip_address(p.last_ip)) for p in row.pools]
    ipam.check_pools(network, pools, gateway)
    if "allocation_pools" in body or creating:
        row.pools = [models.AllocationPool(position=i, first_ip=str(a), last_ip=str(b))
                     for i, (a, b) in enumerate(pools)]
    if "dns_nameservers" in body:
        servers = [str(ipam.parse_ip(a, "dns_nameservers")) for a in body["dns_nameservers"]]
        if len(set(servers)) != len(servers):
            raise Invalid("Invalid input for dns_nameservers. Reason: Duplicate nameserver.")
        row.dns = [models.DnsNameserver(position=i, address=a) for i, a in enumerate(servers)]
    if "host_routes" in body:
        routes = []
        for route in body["host_routes"]:
            destination = ipam.parse_cidr(route["destination"], "host_routes")
            nexthop = ipam.parse_ip(route["nexthop"], "host_routes")
            if destination.version != network.version or nexthop.version != network.version:
                raise Invalid(f"Invalid input for host_routes. Reason: {route} is not IPv{network.version}.")
            routes.append((str(destination), str(nexthop)))
        row.routes = [models.HostRoute(position=i, destination=d, nexthop=n) for i, (d, n) in enumerate(routes)]


class Subnets:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create a subnet, or several at once (all or none)", request=common.bulk_schema(CREATE, "subnet",
                                                                                            "subnets"),
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted, bulk = common.bodies(req, "subnet", "subnets")
        with self.service.change() as change:
            shown = [self._create(req, change, body) for body in wanted]  # all, or none (one transaction)
        for event in change.failed:
            mark_error(self.service, Subnet, event.current["id"])
        resp.status = 201
        shown = [project(current, fields_of(req)) for current in shown]
        resp.media = {"subnets": shown} if bulk else {"subnet": shown[0]}

    @staticmethod
    def _pool(session: Any, req: falcon.Request, body: dict[str, Any]) -> models.SubnetPool | None:
        """The pool the subnet is carved from, locked: the one named, or the family's default
        (``use_default_subnetpool``); None for a subnet given by its cidr alone."""
        if body.get("subnetpool_id"):
            if body.get("use_default_subnetpool"):
                raise Invalid("Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be given.")
            pool = subnetpools.lock(session, find_pool(session, req, body["subnetpool_id"]).id)
        elif body.get("use_default_subnetpool"):
            if "ip_version" not in body:
                raise Invalid("Bad subnets request: ip_version must be given with use_default_subnetpool.")
            pool = subnetpools.lock(session, subnetpools.default_pool(session, int(body["ip_version"])).id)
        else:
            return None
        if "ip_version" in body and int(body["ip_version"]) != pool.ip_version:
            raise Invalid(f"Bad subnets request: subnet pool {pool.id} is IPv{pool.ip_version}, the subnet "
                          f"IPv{body['ip_version']}.")
        return pool

    def _create(self, req: falcon.Request, change: Any, body: dict[str, Any]) -> dict[str, Any]:
        ctx = common.context(req)
        enforce(req, self.policy, "network:create_subnet")
        common.coerce(body, {"ip_version": _IP_VERSION, "prefixlen": _PREFIXLEN})
        parent = find_network(change.session, req, body["network_id"])
        if not common.owns(ctx, parent.project_id):
            raise Forbidden(f"Only the owner of network {parent.id} (or an administrator) may add subnets.")
        pool = self._pool(change.session, req, body)
        network = ipam.parse_cidr(body["cidr"], strict=False) if body.get("cidr") else None
        if pool is not None:
            network = subnetpools.carve(change.session, pool, common.owner_for(req, body), network,
                                        body.get("prefixlen"))
        elif network is None:
            raise Invalid("Bad subnets request: a cidr must be given in the absence of a subnet pool.")
        elif body.get("prefixlen") is not None:
            raise Invalid("Bad subnets request: prefixlen is only taken with a subnet pool (subnetpool_id).")
        version = int(body.get("ip_version", network.version))
        if version != network.version:
            raise Invalid(f"Invalid input for operation: cidr {network} is not IPv{version}.")
        for other in parent.subnets:
            if other.ip_version == version and other.subnetpool_id != (pool.id if pool else None):
                raise errors.NetworkSubnetPoolAffinityError(
                    "Subnets hosted on the same network must be allocated from the same subnet pool.")
        if version == 4 and (body.get("ipv6_ra_mode") or body.get("ipv6_address_mode")):
            raise Invalid("Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when "
                          "ip_version is 4.")
        ra_mode, address_mode = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
        if ra_mode and address_mode and ra_mode != address_mode:
            raise Invalid(f"Invalid input for operation: ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set "
                          f"to '{address_mode}' is not valid. If both attributes are set, they must be the same "
                          "value.")
        now = common.now()
        for other in parent.subnets:
            if ipaddress.ip_network(other.cidr).overlaps(network):
                raise Invalid(f"Invalid input for operation: Requested subnet with cidr: {network} for network: "
                              f"{parent.id} overlaps with another subnet.")
        row = Subnet(id=common.new_id(), project_id=common.owner_for(req, body), network_id=parent.id,
                     name=body.get("name", ""), description=body.get("description", ""), ip_version=version,
                     cidr=str(network), enable_dhcp=body.get("enable_dhcp", True),
                     ipv6_ra_mode=body.get("ipv6_ra_mode"), ipv6_address_mode=body.get("ipv6_address_mode"),
                     subnetpool_id=pool.id if pool else None,
                     created_at=now, updated_at=now, revision_number=1, pools=[], dns=[], routes=[])
        _apply(row, body, network, creating=True)
        quotas.check(self.service.db, change.session, self.service.conf, row.project_id, "subnet")
        change.session.add(row)
        change.session.flush()
        if row not in parent.subnets:
            parent.subnets.append(row)  # the next subnet of a bulk request sees this one (overlaps)
        tags.replace(change.session, row, body.get("tags", ()), bump=False)
        current = views.subnet(row)
        change.events.append(self.service.event(ResourceType.SUBNET, Operation.CREATE, current,
                                                segments=segments(parent)))
        return current

    @schema("List subnets", responses={200: {"type": "object", "required": ["subnets"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_subnet")
        respond_list(self.service, req, resp, COLLECTION, common.subnet_visible(common.context(req)),
                     lambda _, row: views.subnet(row))


class SubnetItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a subnet", responses={200: {"type": "object", "required": ["subnet"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, subnet_id: str) -> None:
        enforce(req, self.policy, "network:get_subnet")
        with self.service.db.transaction() as session:
            resp.media = {"subnet": project(views.subnet(find(session, req, subnet_id)), fields_of(req))}

    @schema("Update a subnet", request=UPDATE, responses={200: {"type": "object", "required": ["subnet"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, subnet_id: str) -> None:
        body = req.context.body["subnet"]
        with self.service.change() as change:
            row = find(change.session, req, subnet_id)
            enforce(req, self.policy, "network:update_subnet", {"project_id": row.project_id})
            original = views.subnet(row)
            for key in ("name", "description", "enable_dhcp"):
                if key in body:
                    setattr(row, key, body[key])
            _apply(row, body, ipaddress.ip_network(row.cidr), creating=False)
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            current = views.subnet(row)
            change.events.append(self.service.event(ResourceType.SUBNET, Operation.UPDATE, current, original))
        resp.media = {"subnet": current}

    @schema("Delete a subnet", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, subnet_id: str) -> None:
        with self.service.change() as change:
            row = find(change.session, req, subnet_id)
            enforce(req, self.policy, "network:delete_subnet", {"project_id": row.project_id})
            # as Neutron: DHCP ports give their addresses up, and so does every port but a router's on an
            # IPv6 subnet whose addresses are automatic (SLAAC, DHCPv6-stateless)
            automatic = row.ip_version == 6 and row.ipv6_address_mode in ipam.SLAAC_MODES
            freed = sa.select(models.Port.id).where(
                models.Port.device_owner.not_like("network:router%") if automatic
                else models.Port.device_owner == "network:dhcp")
            in_use = change.session.scalar(sa.select(sa.func.count()).select_from(models.IpAllocation).where(
                models.IpAllocation.subnet_id == row.id, models.IpAllocation.port_id.not_in(freed)))
            if in_use:
                raise errors.SubnetInUse(f"Unable to complete operation on subnet {row.id}: One or more ports have "
                                         "an IP allocation from this subnet.")
            original = views.subnet(row)
            change.session.execute(sa.delete(models.IpAllocation).where(models.IpAllocation.subnet_id == row.id))
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.SUBNET, Operation.DELETE, None, original))
        resp.status = 204
