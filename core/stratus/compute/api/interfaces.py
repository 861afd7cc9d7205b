"""``/servers/{id}/os-interface``: list, show, attach (a new port on a network, or a given
port) and detach a server's network interfaces, with Nova's states and status codes.

Attaching is a call to the server's host (it answers with the attachment, or the error);
detaching is a cast. Either needs the hypervisor's ``INTERFACE_ATTACH`` capability.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import history, states
from stratus.compute.api.actions import check
from stratus.compute.api.common import context, is_uuid
from stratus.compute.api.microversions import at_least, unexpected_before
from stratus.compute.api.servers import find
from stratus.compute.topics import TOPIC
from stratus.exceptions import Conflict, Invalid, NotFound

ATTACH = {"type": "object", "required": ["interfaceAttachment"], "additionalProperties": False, "properties": {
    "interfaceAttachment": {"type": "object", "additionalProperties": False, "properties": {
        "net_id": {"type": "string", "format": "uuid"}, "port_id": {"type": "string", "format": "uuid"},
        "fixed_ips": {"type": "array", "maxItems": 1, "items": {
            "type": "object", "required": ["ip_address"], "additionalProperties": False,
            "properties": {"ip_address": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}}}},
        "tag": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}}}}}
ALLOWED = (states.ACTIVE, states.PAUSED, states.STOPPED)


def _view(req: falcon.Request, entry: dict[str, Any], port_state: str) -> dict[str, Any]:
    body = {"port_state": port_state, "port_id": entry["port_id"], "net_id": entry["network_id"],
            "mac_addr": entry["mac_address"],
            "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in entry["fixed_ips"]]}
    if at_least(req, "2.70"):
        body["tag"] = entry.get("tag")
    return body


def _port_states(network: Any, port_ids: list[str]) -> dict[str, str]:
    return network.port_states(port_ids) if network is not None and port_ids else {}


class Interfaces:
    def __init__(self, deps: Any, policy: Policy) -> None:
        self.compute, self.policy = deps.services["compute"], policy
        self.network = self.compute.network  # the network service's client

    def _entries(self, req: falcon.Request, server_id: str, rule: str) -> list[dict[str, Any]]:
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, rule, {"project_id": row.project_id})
            return list(row.network_info)

    @schema("List a server's network interfaces", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, port_id: str | None = None) -> None:
        entries = self._entries(req, server_id, "os_compute_api:os-attach-interfaces:list")
        if port_id is not None:
            entries = [e for e in entries if e["port_id"] == port_id]
            if not entries:
                raise NotFound(f"Port {port_id} is not attached to instance {server_id}.")
        found = _port_states(self.network, [e["port_id"] for e in entries])
        views = [_view(req, e, found.get(e["port_id"], "DOWN")) for e in entries]
        resp.media = {"interfaceAttachment": views[0]} if port_id is not None else {"interfaceAttachments": views}

    @schema("Attach a network interface (a new port on net_id, or port_id)", request=ATTACH,
            responses={200: {"type": "object", "required": ["interfaceAttachment"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body, ctx = req.context.body["interfaceAttachment"], context(req)
        unexpected_before(req, "2.49", body, "tag")
        if "net_id" in body and "port_id" in body:
            raise Invalid("Must not input both network_id and port_id")
        if body.get("fixed_ips") and "net_id" not in body:
            raise Invalid("Must input network_id when request IP address")
        if self.network is None:
            raise Conflict("Networking is not configured in this cloud.")
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-attach-interfaces:create", {"project_id": row.project_id})
            if row.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            check(row, "attach_interface", ALLOWED)
            history.record_action(session, server_id, ctx, "attach_interface")
            host, project_id = row.host, row.project_id
        net_id, port_id = body.get("net_id"), body.get("port_id")
        if port_id:
            self.network.check_port(project_id, port_id, ctx.is_admin)
        elif net_id:
            self.network.check_network(project_id, net_id, ctx.is_admin)
        else:
            available = self.network.networks_for(project_id)
            if len(available) != 1:
                raise Conflict("Multiple possible networks found, use a Network ID to be more specific."
                               if available else "No network is available to the project.")
            net_id = available[0][0]
        fixed_ip = body["fixed_ips"][0]["ip_address"] if body.get("fixed_ips") else None
        made = self.compute.rpc(TOPIC).call(ctx, "attach_interface", server=host, instance_uuid=server_id,
                                            network_id=net_id, port_id=port_id, fixed_ip=fixed_ip,
                                            tag=body.get("tag"))
        found = _port_states(self.network, [made["port_id"]])
        resp.media = {"interfaceAttachment": _view(req, made, found.get(made["port_id"], "DOWN"))}

    @schema("Detach a network interface", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str, port_id: str) -> None:
        ctx = context(req)
        if not is_uuid(port_id):
            raise NotFound(f"Port {port_id} could not be found.")
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-attach-interfaces:delete", {"project_id": row.project_id})
            if row.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            if not any(e["port_id"] == port_id for e in row.network_info):
                raise NotFound(f"Port {port_id} is not attached to instance {server_id}.")
            check(row, "detach_interface", ALLOWED)
            history.record_action(session, server_id, ctx, "detach_interface")
            host = row.host
        self.compute.rpc(TOPIC).cast(ctx, "detach_interface", server=host, instance_uuid=server_id, port_id=port_id)
        resp.status = 202
