"""``/v2.0/routers``: external gateways, and interfaces added and removed by subnet or port."""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid
from stratus.interfaces.network import Operation, ResourceType
from stratus.network import errors, models, quotas, tags
from stratus.network.api import common
from stratus.network.api.agents import check_hints
from stratus.network.api.networks import find as find_network
from stratus.network.api.ports import find as find_port
from stratus.network.api.ports import internal_port
from stratus.network.api.query import Attribute, Collection, fields_of, iso, parse_bool, project, respond_list
from stratus.network.api.subnets import find as find_subnet
from stratus.network.service import NetworkService

Router = models.Router
_NAME = {"type": "string", "maxLength": 255}
_GATEWAY = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "network_id": {"type": "string"}, "enable_snat": {"type": "boolean"},
    "external_fixed_ips": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                      "properties": {"subnet_id": {"type": "string"},
                                                                     "ip_address": {"type": "string"}}}}}}
_WRITABLE = {"name": _NAME, "description": _NAME, "admin_state_up": {"type": "boolean"},
             "external_gateway_info": _GATEWAY}
CREATE = {"type": "object", "required": ["router"], "properties": {"router": {
    "type": "object", "additionalProperties": False,
    "properties": {**_WRITABLE, "tenant_id": _NAME, "project_id": _NAME, "tags": tags.TAG_LIST,
                   "availability_zone_hints": {"type": "array", "items": {"type": "string", "maxLength": 255}}}}}}
_ROUTES = {"type": "array", "items": {"type": "object", "required": ["destination", "nexthop"],
                                      "additionalProperties": False,
                                      "properties": {"destination": {"type": "string"}, "nexthop": {"type": "string"}}}}
UPDATE = {"type": "object", "required": ["router"], "properties": {"router": {
    "type": "object", "additionalProperties": False,
    "properties": {**_WRITABLE, "routes": {"anyOf": [_ROUTES, {"type": "null"}]}}}}}  # null clears, as Neutron
EXTRAROUTES = {"type": "object", "required": ["router"], "properties": {"router": {
    "type": "object", "required": ["routes"], "additionalProperties": False, "properties": {"routes": _ROUTES}}}}
INTERFACE = {"type": "object", "additionalProperties": False,
             "properties": {"subnet_id": {"type": "string"}, "port_id": {"type": "string"}}}
COLLECTION = Collection("routers", Router, {
    "id": Attribute(Router.id), "name": Attribute(Router.name), "description": Attribute(Router.description),
    "tenant_id": Attribute(Router.project_id), "project_id": Attribute(Router.project_id),
    "status": Attribute(Router.status), "admin_state_up": Attribute(Router.admin_state_up, parse_bool),
    "created_at": Attribute(Router.created_at), "updated_at": Attribute(Router.updated_at),
    "revision_number": Attribute(Router.revision_number, int)})


def visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else Router.project_id == ctx.project_id


def find(session: Any, req: falcon.Request, router_id: str) -> models.Router:
    row = session.scalars(sa.select(Router).where(Router.id == router_id, visible(common.context(req)))).first()
    if row is None:
        raise errors.RouterNotFound(f"Router {router_id} could not be found")
    return row


def view(session: Any, row: models.Router) -> dict[str, Any]:
    gateway = None
    if row.gw_port_id:
        port = session.get(models.Port, row.gw_port_id)
        gateway = {"network_id": port.network_id, "enable_snat": row.enable_snat,
                   "external_fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                                          for a in port.fixed_ips]}
    return {"id": row.id, "name": row.name, "description": row.description, "tenant_id": row.project_id,
            "project_id": row.project_id, "admin_state_up": row.admin_state_up, "status": row.status,
            "external_gateway_info": gateway, "tags": [t.tag for t in row.tag_rows], "availability_zone_hints": [],
            "routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes],
            "availability_zones": ["nova"], "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "revision_number": row.revision_number}


def router_subnets(session: Any, row: models.Router) -> list[models.Subnet]:
    ports = [session.get(models.Port, i.port_id) for i in row.interfaces]
    return [session.get(models.Subnet, a.subnet_id) for p in ports for a in p.fixed_ips]


def _route(route: dict[str, str]) -> tuple[str, str]:
    """A route as Neutron takes it: a network in canonical form and an address of its family."""
    try:
        destination = ipaddress.ip_network(route["destination"])
    except ValueError:
        raise errors.InvalidRoutes(f"Invalid format for routes: {route}, '{route['destination']}' is not a valid "
                                   "IP subnet (its host bits must be zero)") from None
    try:
        nexthop = ipaddress.ip_address(route["nexthop"])
    except ValueError:
        raise errors.InvalidRoutes(f"Invalid format for routes: {route}, '{route['nexthop']}' is not a valid IP "
                                   "address") from None
    if destination.version != nexthop.version:
        raise errors.InvalidRoutes(f"Invalid format for routes: {route}, the destination and the nexthop must be "
                                   "of the same IP version")
    return str(destination), str(nexthop)


def set_routes(session: Any, conf: Any, row: models.Router, routes: list[dict[str, str]]) -> None:
    """Make ``row``'s static routes exactly ``routes``: each nexthop on a subnet the router is
    attached to (an interface or its gateway), never one of the router's own addresses.

    :raises InvalidRoutes: a malformed or unreachable route. :raises RoutesExhausted: over ``max_routes``.
    """
    wanted = {_route(r) for r in routes}
    if len(wanted) > conf.network.max_routes:
        raise errors.RoutesExhausted(f"Unable to complete operation for {row.id}. The number of routes exceeds "
                                     f"the maximum {conf.network.max_routes}.")
    port_ids = [i.port_id for i in row.interfaces] + ([row.gw_port_id] if row.gw_port_id else [])
    allocations = list(session.scalars(sa.select(models.IpAllocation).where(
        models.IpAllocation.port_id.in_(port_ids)))) if port_ids else []
    own = {ipaddress.ip_address(a.ip_address) for a in allocations}
    connected = [ipaddress.ip_network(session.get(models.Subnet, a.subnet_id).cidr) for a in allocations]
    for destination, nexthop in sorted(wanted):
        hop = ipaddress.ip_address(nexthop)
        shown = {"destination": destination, "nexthop": nexthop}
        if hop in own:
            raise errors.InvalidRoutes(f"Invalid format for routes: {shown}, the nexthop is used by router")
        if not any(hop in network for network in connected):
            raise errors.InvalidRoutes(f"Invalid format for routes: {shown}, the nexthop is not connected with "
                                       "router")
    row.routes = [models.RouterRoute(router_id=row.id, destination=d, nexthop=n) for d, n in sorted(wanted)]


class _RouterBase:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def _set_gateway(self, session: Any, req: falcon.Request, row: models.Router, info: dict[str, Any] | None) -> None:
        if row.gw_port_id:
            if session.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP).where(
                    models.FloatingIP.router_id == row.id)) and (not info or info.get("network_id") != session.get(
                    models.Port, row.gw_port_id).network_id):
                raise errors.RouterExternalGatewayInUseByFloatingIp(
                    f"Gateway cannot be updated for router {row.id}, since a gateway to external network is required "
                    "by one or more floating IPs.")
            old = session.get(models.Port, row.gw_port_id)
            row.gw_port_id = None
            session.flush()
            session.delete(old)
            session.flush()
        if not info:
            return
        if not info.get("network_id"):
            raise Invalid("Invalid input for external_gateway_info. Reason: network_id is required (an empty "
                          "external_gateway_info removes the gateway).")
        if "external_fixed_ips" in info or "enable_snat" in info:
            enforce(req, self.policy, "network:update_router:external_gateway_info")
        network = find_network(session, req, info["network_id"])
        if not network.router_external:
            raise Invalid(f"Bad router request: Network {network.id} is not an external network.")
        port = internal_port(self.service, session, network, "", "network:router_gateway", row.id,
                             info.get("external_fixed_ips"))
        row.gw_port_id, row.enable_snat = port.id, info.get("enable_snat", True)
        session.flush()


class Routers(_RouterBase):
    @schema("Create a router", request=CREATE, responses={201: {"type": "object", "required": ["router"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["router"]
        enforce(req, self.policy, "network:create_router")
        check_hints(body)
        now = common.now()
        with self.service.change() as change:
            row = Router(id=common.new_id(), project_id=common.owner_for(req, body), name=body.get("name", ""),
                         description=body.get("description", ""), admin_state_up=body.get("admin_state_up", True),
                         status="ACTIVE", created_at=now, updated_at=now, revision_number=1, interfaces=[])
            quotas.check(self.service.db, change.session, self.service.conf, row.project_id, "router")
            change.session.add(row)
            change.session.flush()
            if body.get("external_gateway_info"):
                self._set_gateway(change.session, req, row, body["external_gateway_info"])
            tags.replace(change.session, row, body.get("tags", ()), bump=False)
            current = view(change.session, row)
            change.events.append(self.service.event(ResourceType.ROUTER, Operation.CREATE, current))
        resp.status = 201
        resp.media = {"router": project(current, fields_of(req))}

    @schema("List routers", responses={200: {"type": "object", "required": ["routers"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_router")
        respond_list(self.service, req, resp, COLLECTION, visible(common.context(req)), view)


class RouterItem(_RouterBase):
    @schema("Show a router", responses={200: {"type": "object", "required": ["router"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, router_id: str) -> None:
        enforce(req, self.policy, "network:get_router")
        with self.service.db.transaction() as session:
            resp.media = {"router": project(view(session, find(session, req, router_id)), fields_of(req))}

    @schema("Update a router (its gateway too)", request=UPDATE,
            responses={200: {"type": "object", "required": ["router"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, router_id: str) -> None:
        body = req.context.body["router"]
        with self.service.change() as change:
            row = find(change.session, req, router_id)
            enforce(req, self.policy, "network:update_router", {"project_id": row.project_id})
            original = view(change.session, row)
            for key in ("name", "description", "admin_state_up"):
                if key in body:
                    setattr(row, key, body[key])
            if "external_gateway_info" in body:
                self._set_gateway(change.session, req, row, body["external_gateway_info"])
            if "routes" in body:
                set_routes(change.session, self.service.conf, row, body["routes"] or [])
            elif "external_gateway_info" in body:  # routes through a gateway that went must go too
                set_routes(change.session, self.service.conf, row, _current_routes(row))
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            current = view(change.session, row)
            change.events.append(self.service.event(ResourceType.ROUTER, Operation.UPDATE, current, original))
        resp.media = {"router": current}

    @schema("Delete a router without interfaces", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, router_id: str) -> None:
        with self.service.change() as change:
            row = find(change.session, req, router_id)
            enforce(req, self.policy, "network:delete_router", {"project_id": row.project_id})
            if row.interfaces:
                raise errors.RouterInUse(f"Router {row.id} still has ports")
            original = view(change.session, row)
            self._set_gateway(change.session, req, row, None)
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.ROUTER, Operation.DELETE, None, original))
        resp.status = 204


class RouterInterface(_RouterBase):
    """``PUT /v2.0/routers/{id}/add_router_interface`` and ``.../remove_router_interface``."""

    def __init__(self, service: NetworkService, policy: Policy, adding: bool) -> None:
        super().__init__(service, policy)
        self.adding = adding

    @schema("Attach or detach a subnet or port", request=INTERFACE, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, router_id: str) -> None:
        body = req.context.body
        if ("subnet_id" in body) == ("port_id" in body):
            raise Invalid("Bad router request: Either subnet_id or port_id must be specified.")
        with self.service.change() as change:
            row = find(change.session, req, router_id)
            action = "add_router_interface" if self.adding else "remove_router_interface"
            enforce(req, self.policy, f"network:{action}", {"project_id": row.project_id})
            port = (self._add if self.adding else self._remove)(change.session, req, row, body)
            info = {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id, "port_id": port.id,
                    "network_id": port.network_id, "subnet_id": port.fixed_ips[0].subnet_id if port.fixed_ips
                    else None, "subnet_ids": [a.subnet_id for a in port.fixed_ips]}
            change.events.append(self.service.event(ResourceType.ROUTER_INTERFACE, Operation.CREATE if self.adding
                                                    else Operation.DELETE, info if self.adding else None,
                                                    None if self.adding else info))
            if not self.adding:
                change.session.delete(port)
        resp.media = info

    def _add(self, session: Any, req: falcon.Request, row: models.Router, body: dict[str, Any]) -> models.Port:
        existing = router_subnets(session, row)
        if "subnet_id" in body:
            subnet = find_subnet(session, req, body["subnet_id"])
            if not subnet.gateway_ip:
                raise Invalid(f"Bad router request: Subnet for router interface must have a gateway IP "
                              f"({subnet.id}).")
            candidates = [subnet]
        else:
            port = find_port(session, req, body["port_id"])
            if port.device_id or port.device_owner:
                raise errors.PortInUse(f"Unable to complete operation on port {port.id} for network "
                                       f"{port.network_id}. Port already has an attached device {port.device_id}.")
            if not port.fixed_ips:
                raise Invalid(f"Bad router request: Router port must have at least one fixed IP ({port.id}).")
            candidates = [session.get(models.Subnet, a.subnet_id) for a in port.fixed_ips]
        for subnet in candidates:
            for other in existing:
                if other.id == subnet.id:
                    raise Invalid(f"Bad router request: Router already has a port on subnet {subnet.id}.")
                if ipaddress.ip_network(other.cidr).overlaps(ipaddress.ip_network(subnet.cidr)):
                    raise Invalid(f"Bad router request: Cidr {subnet.cidr} of subnet {subnet.id} overlaps with cidr "
                                  f"{other.cidr} of subnet {other.id}.")
        if "subnet_id" in body:
            subnet = candidates[0]
            network = session.get(models.Network, subnet.network_id)
            if not common.owns(common.context(req), subnet.project_id):
                raise Forbidden(f"Subnet {subnet.id} belongs to another project.")
            port = internal_port(self.service, session, network, row.project_id, "network:router_interface", row.id,
                                 [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}])
        else:
            port.device_owner, port.device_id = "network:router_interface", row.id
            port.security_groups = []
        row.interfaces.append(models.RouterPort(port_id=port.id))
        session.flush()
        return port

    def _remove(self, session: Any, req: falcon.Request, row: models.Router, body: dict[str, Any]) -> models.Port:
        ports = [session.get(models.Port, i.port_id) for i in row.interfaces]
        if "port_id" in body:
            port = next((p for p in ports if p.id == body["port_id"]), None)
            if port is None:
                raise errors.RouterInterfaceNotFound(f"Router {row.id} does not have an interface with id "
                                                     f"{body['port_id']}")
        else:
            port = next((p for p in ports if any(a.subnet_id == body["subnet_id"] for a in p.fixed_ips)), None)
            if port is None:
                raise errors.RouterInterfaceNotFoundForSubnet(f"Router {row.id} has no interface on subnet "
                                                              f"{body['subnet_id']}")
        fixed = {a.subnet_id for a in port.fixed_ips}
        in_use = session.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.router_id == row.id,
                                                                    models.FloatingIP.fixed_port_id.is_not(None)))
        for fip in in_use:
            fixed_port = session.get(models.Port, fip.fixed_port_id)
            if fixed_port is not None and fixed & {a.subnet_id for a in fixed_port.fixed_ips}:
                raise errors.RouterInterfaceInUseByFloatingIP(
                    f"Router interface for subnet on router {row.id} cannot be deleted, as it is required by one or "
                    "more floating IPs.")
        networks = [ipaddress.ip_network(session.get(models.Subnet, s).cidr) for s in fixed]
        if any(ipaddress.ip_address(r.nexthop) in n for r in row.routes for n in networks):
            raise errors.RouterInterfaceInUseByRoute(
                f"Router interface for subnet {', '.join(sorted(fixed))} on router {row.id} cannot be deleted, as it "
                "is required by one or more routes.")
        row.interfaces = [i for i in row.interfaces if i.port_id != port.id]
        session.flush()
        return port


def _current_routes(row: models.Router) -> list[dict[str, str]]:
    return [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes]


class ExtraRoutes(_RouterBase):
    """``PUT /v2.0/routers/{id}/add_extraroutes`` and ``.../remove_extraroutes`` (extraroute-atomic):
    change some routes without replacing the list another client may be changing too."""

    def __init__(self, service: NetworkService, policy: Policy, adding: bool) -> None:
        super().__init__(service, policy)
        self.adding = adding

    @schema("Add or remove some of a router's static routes", request=EXTRAROUTES,
            responses={200: {"type": "object", "required": ["router"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, router_id: str) -> None:
        given = {_route(r) for r in req.context.body["router"]["routes"]}
        with self.service.change() as change:
            # the row lock makes two concurrent changes apply one after the other
            row = change.session.scalars(sa.select(Router).where(
                Router.id == router_id, visible(common.context(req))).with_for_update()).first()
            if row is None:
                raise errors.RouterNotFound(f"Router {router_id} could not be found")
            enforce(req, self.policy, "network:update_router", {"project_id": row.project_id})
            original = view(change.session, row)
            current = {(r.destination, r.nexthop) for r in row.routes}
            wanted = current | given if self.adding else current - given
            set_routes(change.session, self.service.conf, row,
                       [{"destination": d, "nexthop": n} for d, n in sorted(wanted)])
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            shown = view(change.session, row)
            change.events.append(self.service.event(ResourceType.ROUTER, Operation.UPDATE, shown, original))
        resp.media = {"router": shown}
