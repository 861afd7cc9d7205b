"""``/servers/{id}/os-volume_attachments`` (Nova v2.1): list, show, attach and detach a
server's volumes, through the block-storage client as Nova reaches Cinder.

Attaching reserves an attachment of the volume for the server with the caller's token (so
only a volume the caller may use can be attached), then asks the server's host to export
it there, plug it into the guest and complete the attachment; a failure anywhere gives the
attachment back, leaving the volume available. Detaching is a cast to the host. Both need
the hypervisor's ``VOLUME_ATTACH`` capability.
"""

from __future__ import annotations

import string
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import history, states
from stratus.compute.api.actions import check, require_capability
from stratus.compute.api.common import context, is_uuid
from stratus.compute.api.microversions import at_least, unexpected_before
from stratus.compute.api.servers import find
from stratus.compute.topics import TOPIC
from stratus.exceptions import Conflict, Invalid, NotFound

ATTACH = {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False, "properties": {
    "volumeAttachment": {"type": "object", "required": ["volumeId"], "additionalProperties": False, "properties": {
        "volumeId": {"type": "string", "format": "uuid"},
        "device": {"type": ["string", "null"], "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"},
        "tag": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"},
        "delete_on_termination": {"type": "boolean"}}}}}
UPDATE = {"type": "object", "required": ["volumeAttachment"], "properties": {"volumeAttachment": {
    "type": "object", "required": ["volumeId"], "properties": {
        "volumeId": {"type": "string", "format": "uuid"}, "delete_on_termination": {"type": "boolean"},
        "device": {"type": ["string", "null"]}, "tag": {"type": "string"}, "id": {"type": "string"},
        "serverId": {"type": "string"}}}}}
#: Nova's states in which volumes may be attached and detached
ALLOWED = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED)


def volume_entries(row: Any) -> list[dict[str, Any]]:
    return [b for b in row.block_device_mapping or [] if b.get("destination_type") == "volume"]


def view(req: falcon.Request, server_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"volumeId": entry["volume_id"], "serverId": server_id, "device": entry["device_name"]}
    if not at_least(req, "2.89"):
        body["id"] = entry["volume_id"]
    if at_least(req, "2.70"):
        body["tag"] = entry.get("tag")
    if at_least(req, "2.79"):
        body["delete_on_termination"] = bool(entry.get("delete_on_termination"))
    if at_least(req, "2.89"):
        body["attachment_id"] = entry.get("attachment_id")
        body["bdm_uuid"] = entry.get("attachment_id")
    return body


def next_device(row: Any) -> str:
    """The first ``/dev/vdX`` the server does not use: its root disk is ``vda``, its local
    ephemeral and swap disks follow (as the driver names them), then its volumes."""
    from stratus.compute.instances import local_disks

    taken = {"vda", *(str(d.get("device_name") or "").rsplit("/", 1)[-1] for d in row.block_device_mapping or []
                      if d.get("destination_type") == "volume")}
    taken |= {f"vd{chr(ord('b') + i)}" for i in range(len(local_disks(row.flavor, row.block_device_mapping)))}
    for letter in string.ascii_lowercase[1:]:
        if f"vd{letter}" not in taken:
            return f"/dev/vd{letter}"
    raise Conflict(f"Instance {row.uuid} has no free device name left for another volume.")


class VolumeAttachments:
    def __init__(self, deps: Any, policy: Policy) -> None:
        self.compute, self.policy = deps.services["compute"], policy

    def _volumes(self) -> Any:
        if self.compute.volumes is None:
            raise Conflict("Block storage is not configured in this cloud: volumes cannot be attached.")
        return self.compute.volumes

    @schema("List (or show one of) a server's volume attachments",
            responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, volume_id: str | None = None) -> None:
        rule = "show" if volume_id else "index"
        with self.compute.db.reading() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, f"os_compute_api:os-volumes-attachments:{rule}", {"project_id": row.project_id})
            entries = volume_entries(row)
        if volume_id is None:
            resp.media = {"volumeAttachments": [view(req, server_id, e) for e in entries]}
            return
        found = [e for e in entries if e["volume_id"] == volume_id]
        if not found:
            raise NotFound(f"Volume {volume_id} is not attached to instance {server_id}.")
        resp.media = {"volumeAttachment": view(req, server_id, found[0])}

    @schema("Attach a volume (it must be available; the device name is chosen here, as with libvirt)",
            request=ATTACH, responses={200: {"type": "object", "required": ["volumeAttachment"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body, ctx = req.context.body["volumeAttachment"], context(req)
        unexpected_before(req, "2.49", body, "tag")
        unexpected_before(req, "2.79", body, "delete_on_termination")
        volumes = self._volumes()
        volume_id = body["volumeId"]
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-volumes-attachments:create", {"project_id": row.project_id})
            if row.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            check(row, "attach_volume", ALLOWED)
            require_capability(session, row, "attach_volume")
            if any(e["volume_id"] == volume_id for e in volume_entries(row)):
                raise Invalid(f"Invalid volume: volume {volume_id} is already attached to instance {server_id}.")
            device = next_device(row)
            history.record_action(session, server_id, ctx, "attach_volume")
            host = row.host
        if volumes.show(volume_id, ctx) is None:
            raise NotFound(f"Volume {volume_id} could not be found.")
        attachment_id = volumes.reserve(volume_id, server_id, ctx)
        try:
            made = self.compute.rpc(TOPIC).call(
                ctx, "attach_volume", server=host, instance_uuid=server_id, volume_id=volume_id,
                attachment_id=attachment_id, device=device, tag=body.get("tag"),
                delete_on_termination=bool(body.get("delete_on_termination", False)))
        except Exception:
            volumes.detach(attachment_id, ctx)  # the host gave it back unless it never got the call
            raise
        resp.media = {"volumeAttachment": view(req, server_id, made)}

    @schema("Change an attachment's delete_on_termination (2.85; same volumeId); swapping in another volume "
            "is refused (not provided)", request=UPDATE, responses={202: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, volume_id: str) -> None:
        ctx = context(req)
        body = req.context.body["volumeAttachment"]
        if not is_uuid(volume_id):
            raise NotFound(f"Volume {volume_id} could not be found.")
        new = body["volumeId"]
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            rule = "update" if new == volume_id else "swap"
            enforce(req, self.policy, f"os_compute_api:os-volumes-attachments:{rule}", {"project_id": row.project_id})
            entries = list(row.block_device_mapping or [])
            found = next((e for e in entries if e.get("destination_type") == "volume"
                          and e.get("volume_id") == volume_id), None)
            if found is None:
                raise NotFound(f"Volume {volume_id} is not attached to instance {server_id}.")
            if new == volume_id:
                if not at_least(req, "2.85"):
                    raise Invalid(f"Invalid input: the volumeId {new} is the attached one; changing an attachment "
                                  "needs microversion 2.85")
                if "delete_on_termination" in body:
                    found = {**found, "delete_on_termination": bool(body["delete_on_termination"])}
                    row.block_device_mapping = [found if e.get("volume_id") == volume_id and
                                                e.get("destination_type") == "volume" else e for e in entries]
                resp.status = 202
                return
        if self._volumes().show(new, ctx) is None:
            raise NotFound(f"Volume {new} could not be found.")
        raise Conflict(f"Swapping volume {volume_id} of instance {server_id} for {new} is not supported by this "
                       "cloud.")

    @schema("Detach a volume", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str, volume_id: str) -> None:
        ctx = context(req)
        if not is_uuid(volume_id):
            raise NotFound(f"Volume {volume_id} could not be found.")
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-volumes-attachments:delete", {"project_id": row.project_id})
            if row.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            if not any(e["volume_id"] == volume_id for e in volume_entries(row)):
                raise NotFound(f"Volume {volume_id} is not attached to instance {server_id}.")
            check(row, "detach_volume", ALLOWED)
            require_capability(session, row, "detach_volume")
            history.record_action(session, server_id, ctx, "detach_volume")
            host = row.host
        self.compute.rpc(TOPIC).cast(ctx, "detach_volume", server=host, instance_uuid=server_id, volume_id=volume_id)
        resp.status = 202
