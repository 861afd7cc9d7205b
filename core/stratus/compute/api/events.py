"""What happened to a server: ``os-instance-actions`` (what was asked, and each step's
outcome) and ``os-server-external-events`` (what other services report)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.common import changes, context, int_param, page_links
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import find, host_id
from stratus.exceptions import Invalid, NotFound


def _action(req: falcon.Request, row: models.InstanceAction) -> dict[str, Any]:
    body: dict[str, Any] = {"action": row.action, "instance_uuid": row.instance_uuid, "request_id": row.request_id,
                            "user_id": row.user_id, "project_id": row.project_id,
                            "start_time": row.start_time.isoformat(), "message": row.message}
    if at_least(req, "2.58"):
        body["updated_at"] = (row.updated_at or row.start_time).isoformat()
    return body


def _event(req: falcon.Request, row: models.InstanceActionEvent, project_id: str, admin: bool,
           details: bool) -> dict[str, Any]:
    """An event as the version shows it; ``admin``: the caller may see tracebacks and host
    names, ``details``: the error's message (2.84)."""
    body: dict[str, Any] = {"event": row.event, "start_time": row.start_time.isoformat(),
                            "finish_time": row.finish_time.isoformat() if row.finish_time else None,
                            "result": row.result}
    if admin:
        body["traceback"] = row.traceback
        if at_least(req, "2.62"):
            body["host"] = row.host or ""
    if at_least(req, "2.62"):
        body["hostId"] = host_id(project_id, row.host)
    if details:
        body["details"] = row.details
    return body


class InstanceActions:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("What was done to a server, newest first (from 2.58: limit, marker, changes-since; 2.66: "
            "changes-before); with a request id: that action and its events",
            responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str, request_id: str | None = None
               ) -> None:
        ctx = context(req)
        with self.compute.db.reading() as session:
            instance = session.get(models.Instance, server_id) if at_least(req, "2.21") else None
            if instance is None or not (ctx.is_admin or instance.project_id == ctx.project_id):
                instance = find(session, req, server_id)  # deleted servers' actions only from 2.21
            target = {"project_id": instance.project_id}
            enforce(req, self.policy, "os_compute_api:os-instance-actions:list", target)
            query = sa.select(models.InstanceAction).where(models.InstanceAction.instance_uuid == server_id)
            if request_id is None:
                resp.media = self._list(req, session, query)
                return
            row = session.scalars(query.where(models.InstanceAction.request_id == request_id)).first()
            if row is None:
                raise NotFound(f"Action {request_id} not found")
            body = _action(req, row)
            admin = self.policy.allows(ctx, "os_compute_api:os-instance-actions:events", target)
            if admin or at_least(req, "2.51"):
                details = at_least(req, "2.84") and self.policy.allows(
                    ctx, "os_compute_api:os-instance-actions:events:details", target)
                body["events"] = [_event(req, e, row.project_id or instance.project_id, admin, details)
                                  for e in row.events]
            resp.media = {"instanceAction": body}

    def _list(self, req: falcon.Request, session: Any, query: Any) -> dict[str, Any]:
        Action = models.InstanceAction
        order = (Action.start_time.desc(), Action.id.desc())
        limit = None
        if at_least(req, "2.58"):
            query = query.where(*changes(req, sa.func.coalesce(Action.updated_at, Action.start_time)))
            marker = req.get_param("marker")
            if marker is not None:
                row = session.scalars(query.where(Action.request_id == marker)).first()
                if row is None:
                    raise Invalid(f"Marker {marker} could not be found.")
                query = query.where(sa.or_(Action.start_time < row.start_time,
                                           sa.and_(Action.start_time == row.start_time, Action.id < row.id)))
            if req.get_param("limit") is not None:
                limit = int_param(req, "limit", 0)
                query = query.limit(limit)
        rows = list(session.scalars(query.order_by(*order)))
        body: dict[str, Any] = {"instanceActions": [_action(req, r) for r in rows]}
        if limit and len(rows) == limit:
            body["links"] = page_links(req, rows[-1].request_id)
        return body


EVENT_NAMES = ("network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted",
               "volume-extended", "power-update", "accelerator-request-bound", "volume-reimaged")
#: events newer than 2.1, with the microversion that added them
EVENT_SINCE = {"volume-extended": "2.51", "power-update": "2.76", "accelerator-request-bound": "2.82",
               "volume-reimaged": "2.93"}
#: events that mean nothing without their tag (the volume, the power state, the request)
TAG_REQUIRED = ("volume-extended", "power-update", "accelerator-request-bound")
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
        from stratus.compute.topics import TOPIC

        enforce(req, self.policy, "os_compute_api:os-server-external-events:create")
        results, deliveries = [], []
        with self.compute.db.transaction() as session:
            for event in req.context.body["events"]:
                result = {**event, "status": event.get("status", "completed")}
                since = EVENT_SINCE.get(event["name"])
                if since and not at_least(req, since):
                    raise Invalid(f"Invalid input for field/attribute name: event {event['name']!r} needs "
                                  f"microversion {since} or later")
                instance = session.get(models.Instance, event["server_uuid"])
                if instance is None or instance.deleted:
                    result["code"] = 404
                elif event["name"] in TAG_REQUIRED and not event.get("tag"):
                    result["code"] = 400
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
        for result in results:
            if result["code"] != 200:
                result["status"] = "failed"
        resp.status = 207 if any(r["code"] != 200 for r in results) else 200
        resp.media = {"events": results}
