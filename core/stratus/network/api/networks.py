"""``/v2.0/networks``."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid
from stratus.interfaces.network import Operation, ResourceType, Segment
from stratus.network import errors, models, quotas, tags
from stratus.network import segments as segment_ids
from stratus.network.api import common, views
from stratus.network.api.agents import check_hints
from stratus.network.api.query import Attribute, Collection, fields_of, parse_bool, project, respond_list
from stratus.network.service import NetworkService

Network = models.Network
_NAME = {"type": "string", "maxLength": 255}
_MTU = {"type": "integer", "minimum": 68, "maximum": 65535}
_SEGMENTATION_ID = {"type": ["integer", "null"], "minimum": 0}
_WRITABLE = {"name": _NAME, "description": _NAME, "admin_state_up": {"type": "boolean"},
             "shared": {"type": "boolean"}, "router:external": {"type": "boolean"},
             "mtu": common.integer(_MTU), "port_security_enabled": {"type": "boolean"}}
_HINTS = {"type": "array", "items": {"type": "string", "maxLength": 255}}
CREATE = {"type": "object", "required": ["network"], "properties": {"network": {
    "type": "object", "additionalProperties": False, "properties": {
        **_WRITABLE, "tenant_id": _NAME, "project_id": _NAME, "availability_zone_hints": _HINTS, "tags": tags.TAG_LIST,
        "provider:network_type": {"type": "string", "maxLength": 32},
        "provider:physical_network": {"type": ["string", "null"], "maxLength": 64},
        "provider:segmentation_id": common.integer(_SEGMENTATION_ID)}}}}
#: integer attributes that may come as numeric strings (Neutron's convert_to_int)
INTEGERS = {"mtu": _MTU, "provider:segmentation_id": _SEGMENTATION_ID}
UPDATE = {"type": "object", "required": ["network"], "properties": {"network": {
    "type": "object", "additionalProperties": False, "properties": _WRITABLE}}}
COLLECTION = Collection("networks", Network, {
    "id": Attribute(Network.id), "name": Attribute(Network.name), "description": Attribute(Network.description),
    "tenant_id": Attribute(Network.project_id), "project_id": Attribute(Network.project_id),
    "status": Attribute(Network.status), "admin_state_up": Attribute(Network.admin_state_up, parse_bool),
    "shared": Attribute(Network.shared, parse_bool), "router:external": Attribute(Network.router_external, parse_bool),
    "mtu": Attribute(Network.mtu, int), "port_security_enabled": Attribute(Network.port_security_enabled, parse_bool),
    "provider:network_type": Attribute(Network.network_type, nullable=True),
    "provider:physical_network": Attribute(Network.physical_network, nullable=True),
    "provider:segmentation_id": Attribute(Network.segmentation_id, int, nullable=True),
    "created_at": Attribute(Network.created_at), "updated_at": Attribute(Network.updated_at),
    "revision_number": Attribute(Network.revision_number, int)})
#: bytes of encapsulation a segment type takes from the physical MTU
OVERHEAD = {"vxlan": 50, "geneve": 58}
SEGMENT_RANGES = {"vlan": (1, 4094), "vxlan": (1, 2**24 - 1), "geneve": (1, 2**24 - 1)}


def segments(row: Network) -> tuple[Segment, ...]:
    return (Segment(row.network_type, row.physical_network, row.segmentation_id),) if row.network_type else ()


def _provider(body: dict[str, Any]) -> dict[str, Any] | None:
    """The segment an administrator asked for, or None for a tenant network (allocated)."""
    kind = body.get("provider:network_type")
    physnet, seg_id = body.get("provider:physical_network"), body.get("provider:segmentation_id")
    if kind is None:
        if physnet is not None or seg_id is not None:
            raise Invalid("Invalid input for operation: provider:network_type is required with "
                          "provider:physical_network or provider:segmentation_id.")
        return None
    if kind in ("flat", "vlan") and not physnet:
        raise Invalid(f"Invalid input for operation: provider:physical_network is required for {kind} networks.")
    if kind in SEGMENT_RANGES:
        low, high = SEGMENT_RANGES[kind]
        if seg_id is None or not low <= seg_id <= high:
            raise Invalid(f"Invalid input for operation: provider:segmentation_id must be {low}-{high} for "
                          f"{kind} networks.")
    elif seg_id is not None:
        raise Invalid(f"Invalid input for operation: {kind} networks have no provider:segmentation_id.")
    return {"network_type": kind, "physical_network": physnet, "segmentation_id": seg_id}


def find(session: Any, req: falcon.Request, network_id: str) -> Network:
    row = session.scalars(sa.select(Network).where(Network.id == network_id,
                                                   common.network_visible(common.context(req)))).first()
    if row is None:
        raise errors.NetworkNotFound(f"Network {network_id} could not be found.")
    return row


class Networks:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create a network, or several at once (all or none)", request=common.bulk_schema(CREATE, "network",
                                                                                             "networks"),
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted, bulk = common.bodies(req, "network", "networks")
        with self.service.change() as change:
            rows = [self._create(req, change, body) for body in wanted]  # all, or none (one transaction)
        if change.failed:
            for event in change.failed:
                mark_error(self.service, Network, event.current["id"])
                next(r for r in rows if r.id == event.current["id"]).status = "ERROR"
        ctx = common.context(req)
        resp.status = 201
        shown = [project(views.network(row, ctx.is_admin), fields_of(req)) for row in rows]
        resp.media = {"networks": shown} if bulk else {"network": shown[0]}

    def _create(self, req: falcon.Request, change: Any, body: dict[str, Any]) -> Network:
        enforce(req, self.policy, "network:create_network")
        common.coerce(body, INTEGERS)
        check_hints(body)
        for flag, rule in (("shared", "network:create_network:shared"),
                           ("router:external", "network:create_network:router:external")):
            if body.get(flag):
                enforce(req, self.policy, rule)
        if any(k.startswith("provider:") for k in body):
            enforce(req, self.policy, "network:create_network:provider")
        now = common.now()
        provider = _provider(body)
        row = Network(id=common.new_id(), project_id=common.owner_for(req, body), name=body.get("name", ""),
                      description=body.get("description", ""), admin_state_up=body.get("admin_state_up", True),
                      shared=body.get("shared", False), router_external=body.get("router:external", False),
                      port_security_enabled=body.get("port_security_enabled", True), status="ACTIVE",
                      created_at=now, updated_at=now, revision_number=1, subnets=[])
        quotas.check(self.service.db, change.session, self.service.conf, row.project_id, "network")
        change.session.add(row)
        change.session.flush()
        if provider is None:
            provider = segment_ids.allocate(change.session, self.service.conf, row.id)
        else:
            segment_ids.reserve(change.session, row.id, provider["network_type"], provider["physical_network"],
                                provider["segmentation_id"])
        for key, value in provider.items():
            setattr(row, key, value)
        largest = self.service.conf.network.global_physnet_mtu - OVERHEAD.get(row.network_type, 0)
        row.mtu = int(body.get("mtu", largest))
        if row.mtu > largest:
            raise Invalid(f"Invalid input for operation: Requested MTU is too big, maximum is {largest}.")
        change.session.flush()
        tags.replace(change.session, row, body.get("tags", ()), bump=False)
        change.events.append(self.service.event(ResourceType.NETWORK, Operation.CREATE, views.network(row, True),
                                                segments=segments(row)))
        return row

    @schema("List networks", responses={200: {"type": "object", "required": ["networks"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_network")
        ctx = common.context(req)
        respond_list(self.service, req, resp, COLLECTION, common.network_visible(ctx),
                     lambda _, row: views.network(row, ctx.is_admin))


def mark_error(service: NetworkService, model: Any, resource_id: str) -> None:
    with service.db.transaction() as session:
        session.execute(sa.update(model).where(model.id == resource_id).values(status="ERROR"))


class NetworkItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a network", responses={200: {"type": "object", "required": ["network"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        enforce(req, self.policy, "network:get_network")
        with self.service.db.transaction() as session:
            row = find(session, req, network_id)
            resp.media = {"network": project(views.network(row, common.context(req).is_admin), fields_of(req))}

    @schema("Update a network", request=UPDATE, responses={200: {"type": "object", "required": ["network"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        body = common.coerce(req.context.body["network"], INTEGERS)
        ctx = common.context(req)
        with self.service.change() as change:
            row = find(change.session, req, network_id)
            enforce(req, self.policy, "network:update_network", {"project_id": row.project_id})
            if "router:external" in body and body["router:external"] != row.router_external:
                enforce(req, self.policy, "network:update_network:router:external")
            if body.get("shared") is False and row.shared and change.session.scalar(
                    sa.select(sa.func.count()).select_from(models.Port).where(
                        models.Port.network_id == row.id, models.Port.project_id != row.project_id)):
                raise errors.InvalidSharedSetting(
                    f"Unable to reconfigure sharing settings for network {row.id}. Multiple tenants are using it.")
            largest = self.service.conf.network.global_physnet_mtu - OVERHEAD.get(row.network_type or "", 0)
            if body.get("mtu", 0) > largest:
                raise Invalid(f"Invalid input for operation: Requested MTU is too big, maximum is {largest}.")
            original = views.network(row, True)
            for key, value in body.items():
                setattr(row, {"router:external": "router_external"}.get(key, key), value)
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            change.events.append(self.service.event(ResourceType.NETWORK, Operation.UPDATE,
                                                    views.network(row, True), original, segments(row)))
            result = views.network(row, ctx.is_admin)
        if change.failed:
            mark_error(self.service, Network, network_id)
            result["status"] = "ERROR"
        resp.media = {"network": result}

    @schema("Delete a network and its subnets", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        with self.service.change() as change:
            row = find(change.session, req, network_id)
            enforce(req, self.policy, "network:delete_network", {"project_id": row.project_id})
            # as Neutron: floating IPs of an external network that point nowhere go with it
            loose = list(change.session.scalars(sa.select(models.FloatingIP).where(
                models.FloatingIP.floating_network_id == row.id, models.FloatingIP.fixed_port_id.is_(None))))
            loose_ports = [f.floating_port_id for f in loose]
            in_use = change.session.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
                models.Port.network_id == row.id, models.Port.device_owner != "network:dhcp",
                models.Port.id.not_in(loose_ports)))
            if in_use:
                raise errors.NetworkInUse(f"Unable to complete operation on network {row.id}. There are one or "
                                          "more ports still in use on the network.")
            original = views.network(row, True)
            from stratus.network.api.floating_ips import view as floating_ip_view  # it imports this module

            for fip in loose:
                change.events.append(self.service.event(ResourceType.FLOATING_IP, Operation.DELETE, None,
                                                        floating_ip_view(fip)))
                change.session.delete(fip)
            change.session.flush()
            tags.forget(change.session, sa.select(models.Port.id).where(models.Port.network_id == row.id))
            change.session.execute(sa.delete(models.Port).where(models.Port.network_id == row.id))
            for subnet in row.subnets:
                change.session.delete(subnet)
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.NETWORK, Operation.DELETE, None, original,
                                                    segments(row)))
        resp.status = 204
