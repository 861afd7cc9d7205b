"""``/v2.0/agents`` (administrators): the host agents of a data-plane plugin, as they report
themselves; ``/v2.0/availability_zones``: the one zone networks and routers are in."""

from __future__ import annotations

import datetime
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import NotFound
from stratus.network import models
from stratus.network.api import common
from stratus.network.api.query import Attribute, Collection, fields_of, iso, parse_bool, project, respond_list
from stratus.network.service import NetworkService

Agent = models.Agent
COLLECTION = Collection("agents", Agent, {
    "id": Attribute(Agent.id), "host": Attribute(Agent.host), "agent_type": Attribute(Agent.agent_type),
    "binary": Attribute(Agent.binary), "topic": Attribute(Agent.topic),
    "admin_state_up": Attribute(Agent.admin_state_up, parse_bool), "description": Attribute(Agent.description),
    "created_at": Attribute(Agent.created_at), "heartbeat_timestamp": Attribute(Agent.heartbeat_at)})
UPDATE = {"type": "object", "required": ["agent"], "properties": {"agent": {
    "type": "object", "additionalProperties": False, "properties": {
        "admin_state_up": {"type": "boolean"}, "description": {"type": "string", "maxLength": 255}}}}}
ZONE = "nova"


def check_hints(body: dict[str, Any]) -> None:
    """Networks and routers may only ask for the zone that exists."""
    from stratus.network import errors

    for hint in body.get("availability_zone_hints", []):
        if hint != ZONE:
            raise errors.AvailabilityZoneNotFound(f"AvailabilityZone {hint} could not be found.")


def view(row: Agent, down_time: int) -> dict[str, Any]:
    alive = row.heartbeat_at >= common.now() - datetime.timedelta(seconds=down_time)
    return {"id": row.id, "agent_type": row.agent_type, "binary": row.binary, "host": row.host, "topic": row.topic,
            "admin_state_up": row.admin_state_up, "alive": alive, "description": row.description,
            "configurations": row.configurations, "created_at": iso(row.created_at),
            "started_at": iso(row.started_at), "heartbeat_timestamp": iso(row.heartbeat_at),
            "availability_zone": ZONE if row.configurations.get("l3") or row.configurations.get("dhcp") else None,
            "resources_synced": None}


def _find(session: Any, agent_id: str) -> Agent:
    row = session.get(Agent, agent_id)
    if row is None:
        raise NotFound(f"Agent {agent_id} could not be found.")
    return row


class Agents:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List the host agents (none for those the policy does not let see them, as Neutron)",
            responses={200: {"type": "object", "required": ["agents"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        visible = sa.true() if self.policy.allows(req.context.stratus, "network:get_agent") else sa.false()
        down_time = self.service.conf.network.agent_down_time
        respond_list(self.service, req, resp, COLLECTION, visible, lambda _, row: view(row, down_time))


class AgentItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a host agent", responses={200: {"type": "object", "required": ["agent"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        enforce(req, self.policy, "network:get_agent")
        with self.service.db.transaction() as session:
            body = view(_find(session, agent_id), self.service.conf.network.agent_down_time)
        resp.media = {"agent": project(body, fields_of(req))}

    @schema("Enable or disable a host agent (a disabled one hosts no DHCP or routers)", request=UPDATE,
            responses={200: {"type": "object", "required": ["agent"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        enforce(req, self.policy, "network:update_agent")
        body = req.context.body["agent"]
        with self.service.db.transaction() as session:
            row = _find(session, agent_id)
            for key in ("admin_state_up", "description"):
                if key in body:
                    setattr(row, key, body[key])
            result = view(row, self.service.conf.network.agent_down_time)
        self.service.notify_agents()
        resp.media = {"agent": result}

    @schema("Forget a host agent (it registers again when it next reports)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, agent_id: str) -> None:
        enforce(req, self.policy, "network:delete_agent")
        with self.service.db.transaction() as session:
            session.delete(_find(session, agent_id))
        self.service.notify_agents()
        resp.status = 204


class AvailabilityZones:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List availability zones", responses={200: {"type": "object", "required": ["availability_zones"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_availability_zone")
        zones = [{"name": ZONE, "resource": resource, "state": "available"} for resource in ("network", "router")]
        for key in ("name", "resource", "state"):
            wanted = req.params.get(key)
            if wanted is not None:
                wanted = [wanted] if isinstance(wanted, str) else wanted
                zones = [z for z in zones if z[key] in wanted]
        resp.media = {"availability_zones": zones}
