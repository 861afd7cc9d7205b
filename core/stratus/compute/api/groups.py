"""``/os-server-groups`` (Nova v2.1: ``policies`` is a one-item list), and the
per-server ``metadata`` and ``ips`` resources."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas
from stratus.compute.api.common import bool_param, context
from stratus.compute.api.servers import _addresses, find
from stratus.compute.manager import utcnow
from stratus.exceptions import Conflict, Invalid, NotFound, QuotaExceeded

Group = models.InstanceGroup
POLICIES = ("affinity", "anti-affinity")
CREATE = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policies"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s*$).+"},
        "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"enum": list(POLICIES)}}}}}}


def group_view(row: Group) -> dict[str, Any]:
    return {"id": row.uuid, "name": row.name, "policies": [row.policy],
            "members": [m.instance_uuid for m in row.members], "metadata": {}}


def find_group(session: Any, ctx: Any, group_id: str) -> Group:
    row = session.get(Group, group_id)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return row


class ServerGroups:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List server groups (all_projects for administrators)",
            responses={200: {"type": "object", "required": ["server_groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-server-groups:index", {"project_id": ctx.project_id})
        everyone = ctx.is_admin and bool_param("all_projects", req.params.get("all_projects", "false"))
        with self.compute.db.transaction() as session:
            query = sa.select(Group).order_by(Group.created_at)
            if not everyone:
                query = query.where(Group.project_id == ctx.project_id)
            resp.media = {"server_groups": [group_view(g) for g in session.scalars(query)]}

    @schema("Create a server group", request=CREATE, responses={200: {"type": "object", "required": ["server_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-server-groups:create", {"project_id": ctx.project_id})
        body = req.context.body["server_group"]
        with self.compute.db.transaction() as session:
            limit = quotas.limits(session, self.compute.conf, ctx.project_id)["server_groups"]
            quotas.lock(self.compute.db, session, ctx.project_id)
            count = session.scalar(sa.select(sa.func.count()).select_from(Group)
                                   .where(Group.project_id == ctx.project_id))
            if 0 <= limit <= count:
                raise QuotaExceeded("Quota exceeded, too many server groups.")
            row = Group(uuid=str(uuidlib.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id,
                        name=body["name"], policy=body["policies"][0], created_at=utcnow(), members=[])
            session.add(row)
            session.flush()
            resp.media = {"server_group": group_view(row)}


class ServerGroupItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a server group", responses={200: {"type": "object", "required": ["server_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        ctx = context(req)
        with self.compute.db.transaction() as session:
            row = find_group(session, ctx, group_id)
            enforce(req, self.policy, "os_compute_api:os-server-groups:show", {"project_id": row.project_id})
            resp.media = {"server_group": group_view(row)}

    @schema("Delete a server group (its servers stay)", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        ctx = context(req)
        with self.compute.db.transaction() as session:
            row = find_group(session, ctx, group_id)
            enforce(req, self.policy, "os_compute_api:os-server-groups:delete", {"project_id": row.project_id})
            session.delete(row)
        resp.status = 204


_META_VALUE = {"type": "string", "maxLength": 255}
_META = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
         "additionalProperties": _META_VALUE}
METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False,
            "properties": {"metadata": _META}}
META = {"type": "object", "required": ["meta"], "additionalProperties": False,
        "properties": {"meta": {**_META, "minProperties": 1, "maxProperties": 1}}}


def _set_metadata(session: Any, conf: Any, instance: models.Instance, items: dict[str, str], replace: bool) -> None:
    current = {} if replace else {m.key: m.value for m in instance.metadata_items}
    current.update(items)
    limit = quotas.limits(session, conf, instance.project_id)["metadata_items"]
    if 0 <= limit < len(current):
        raise QuotaExceeded(f"Quota exceeded for metadata_items: at most {limit} metadata items.")
    instance.metadata_items = [models.InstanceMetadata(key=k, value=v) for k, v in sorted(current.items())]
    instance.updated_at = utcnow()


class _MetadataBase:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    def _instance(self, session: Any, req: falcon.Request, server_id: str, action: str) -> models.Instance:
        instance = find(session, req, server_id)
        enforce(req, self.policy, f"os_compute_api:server-metadata:{action}", {"project_id": instance.project_id})
        if action != "index" and action != "show" and instance.locked and not context(req).is_admin:
            raise Conflict(f"Instance {server_id} is locked")
        return instance


class ServerMetadata(_MetadataBase):
    @schema("A server's metadata", responses={200: {"type": "object", "required": ["metadata"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "index")
            resp.media = {"metadata": {m.key: m.value for m in instance.metadata_items}}

    @schema("Add or update metadata items", request=METADATA, responses={200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        self._write(req, resp, server_id, replace=False)

    @schema("Replace all metadata", request=METADATA, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        self._write(req, resp, server_id, replace=True)

    def _write(self, req: falcon.Request, resp: falcon.Response, server_id: str, replace: bool) -> None:
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "update_all" if replace else "create")
            _set_metadata(session, self.compute.conf, instance, req.context.body["metadata"], replace)
            resp.media = {"metadata": {m.key: m.value for m in instance.metadata_items}}


class ServerMetadataItem(_MetadataBase):
    @schema("One metadata item", responses={200: {"type": "object", "required": ["meta"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        with self.compute.db.transaction() as session:
            items = {m.key: m.value for m in self._instance(session, req, server_id, "show").metadata_items}
        if key not in items:
            raise NotFound("Metadata item was not found")
        resp.media = {"meta": {key: items[key]}}

    @schema("Set one metadata item", request=META, responses={200: {"type": "object", "required": ["meta"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        item = req.context.body["meta"]
        if key not in item:
            raise Invalid("Request body and URI mismatch")
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "update")
            _set_metadata(session, self.compute.conf, instance, item, replace=False)
        resp.media = {"meta": item}

    @schema("Delete one metadata item", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str, key: str) -> None:
        with self.compute.db.transaction() as session:
            instance = self._instance(session, req, server_id, "delete")
            item = next((m for m in instance.metadata_items if m.key == key), None)
            if item is None:
                raise NotFound("Metadata item was not found")
            instance.metadata_items.remove(item)
            instance.updated_at = utcnow()
        resp.status = 204


class ServerIps:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A server's addresses by network (or one network's)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, label: str | None = None) -> None:
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:ips:index", {"project_id": instance.project_id})
            addresses = _addresses(instance)
        if label is None:
            resp.media = {"addresses": addresses}
        elif label in addresses:
            resp.media = {label: addresses[label]}
        else:
            raise NotFound("Instance is not a member of specified network")


def _action(row: models.InstanceAction, with_events: bool, admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"action": row.action, "instance_uuid": row.instance_uuid, "request_id": row.request_id,
                            "user_id": row.user_id, "project_id": row.project_id,
                            "start_time": row.start_time.isoformat(), "message": row.message}
    if with_events and admin:
        body["events"] = [{"event": e.event, "start_time": e.start_time.isoformat(),
                           "finish_time": e.finish_time.isoformat() if e.finish_time else None,
                           "result": e.result, "traceback": e.traceback} for e in row.events]
    return body


class InstanceActions:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("What was done to a server, newest first (with a request id: that action and its events)",
            responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, request_id: str | None = None
               ) -> None:
        ctx = context(req)
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-instance-actions:list", {"project_id": instance.project_id})
            query = sa.select(models.InstanceAction).where(models.InstanceAction.instance_uuid == server_id)
            if request_id is None:
                rows = session.scalars(query.order_by(models.InstanceAction.start_time.desc(),
                                                      models.InstanceAction.id.desc()))
                resp.media = {"instanceActions": [_action(r, False, ctx.is_admin) for r in rows]}
                return
            row = session.scalars(query.where(models.InstanceAction.request_id == request_id)).first()
            if row is None:
                raise NotFound(f"Action for request_id {request_id} on instance {server_id} not found")
            resp.media = {"instanceAction": _action(row, True, ctx.is_admin)}


EVENT_NAMES = ("network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted",
               "volume-extended", "power-update", "accelerator-request-bound", "volume-reimaged")
EVENTS = {"type": "object", "required": ["events"], "additionalProperties": False, "properties": {"events": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["name", "server_uuid"], "additionalProperties": False, "properties": {
            "name": {"enum": list(EVENT_NAMES)}, "server_uuid": {"type": "string"},
            "status": {"enum": ["failed", "completed", "in-progress"]}, "tag": {"type": "string",
                                                                             "maxLength": 255}}}}}}


class ExternalEvents:
    """``POST /os-server-external-events``: other services (networking, block storage) tell
    compute what happened to a server; each event goes to the server's host."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Deliver events to servers' hosts (administrators and services)", request=EVENTS,
            responses={200: {"type": "object", "required": ["events"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        from stratus.compute.manager import TOPIC

        enforce(req, self.policy, "os_compute_api:os-server-external-events:create")
        results, deliveries = [], []
        with self.compute.db.transaction() as session:
            for event in req.context.body["events"]:
                result = {**event, "status": event.get("status", "completed")}
                instance = session.get(models.Instance, event["server_uuid"])
                if instance is None or instance.deleted:
                    result["code"] = 404
                elif not instance.host:
                    result["code"] = 422
                else:
                    result["code"] = 200
                    deliveries.append((instance.host, result))
                results.append(result)
        if all(r["code"] == 404 for r in results):
            raise NotFound("No instances found for any event")
        for host, event in deliveries:
            self.compute.rpc(TOPIC).cast(context(req), "external_instance_event", server=host,
                                         instance_uuid=event["server_uuid"], name=event["name"],
                                         status=event["status"], tag=event.get("tag"))
        resp.status = 207 if any(r["code"] != 200 for r in results) else 200
        resp.media = {"events": results}
