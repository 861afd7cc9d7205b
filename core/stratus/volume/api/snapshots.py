"""``/v3/{project_id}/snapshots``: a volume's point-in-time copies."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.db import paging
from stratus.exceptions import Invalid, NotFound
from stratus.volume import models, states
from stratus.volume.api.common import (
    boolean,
    context,
    int_param,
    isotime,
    metadata_schema,
    next_link,
    sorting,
)
from stratus.volume.api.volumes import dict_filter
from stratus.volume.models import utcnow
from stratus.volume.service import VolumeService

Snapshot = models.Snapshot
_NAME = {"type": ["string", "null"], "maxLength": 255}
CREATE = {"type": "object", "required": ["snapshot"], "properties": {"snapshot": {
    "type": "object", "required": ["volume_id"], "properties": {
        "volume_id": {"type": ["string", "null"]}, "force": {"type": ["boolean", "string"]},
        "name": _NAME, "display_name": _NAME, "description": _NAME, "display_description": _NAME,
        "metadata": {**metadata_schema(), "type": ["object", "null"]}}}}}
UPDATE = {"type": "object", "required": ["snapshot"], "properties": {"snapshot": {
    "type": "object", "minProperties": 1, "properties": {
        "name": _NAME, "display_name": _NAME, "description": _NAME, "display_description": _NAME},
    "additionalProperties": False}}}
_RESPONSE = {"type": "object", "required": ["snapshot"]}
SORTABLE = {"created_at": (Snapshot.created_at, False), "updated_at": (Snapshot.updated_at, True),
            "name": (Snapshot.name, True), "size": (Snapshot.size, False), "status": (Snapshot.status, False),
            "id": (Snapshot.id, False), "volume_id": (Snapshot.volume_id, False)}


def snapshot_view(req: falcon.Request, snapshot: models.Snapshot, created: bool = False) -> dict[str, Any]:
    """As Cinder shows a snapshot; a create's or update's answer lacks the extended attributes."""
    view: dict[str, Any] = {
        "id": snapshot.id, "name": snapshot.name, "description": snapshot.description,
        "volume_id": snapshot.volume_id, "status": snapshot.status, "size": snapshot.size,
        "created_at": isotime(snapshot.created_at), "updated_at": isotime(snapshot.updated_at),
        "metadata": {m.key: m.value for m in snapshot.metadata_items},
    }
    if not created:
        view["os-extended-snapshot-attributes:progress"] = snapshot.progress
        view["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
    if at_least(req, "3.14"):
        view["group_snapshot_id"] = None
    if at_least(req, "3.41"):
        view["user_id"] = snapshot.user_id
    if at_least(req, "3.65"):
        view["consumes_quota"] = True
    return view


class Snapshots:
    def __init__(self, service: VolumeService, policy: Policy, detail: bool) -> None:
        self.service, self.policy, self.detail = service, policy, detail

    @schema("List snapshots (filters name, status, volume_id; limit, marker)",
            responses={200: {"type": "object", "required": ["snapshots"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume:get_all_snapshots", {"project_id": ctx.project_id})
        query = sa.select(Snapshot)
        if not (ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0")):
            query = query.where(Snapshot.project_id == ctx.project_id)
        for name, column in (("name", Snapshot.name), ("status", Snapshot.status),
                             ("volume_id", Snapshot.volume_id)):
            if req.get_param(name):
                query = query.where(column == req.get_param(name))
        if at_least(req, "3.34") and req.get_param("name~"):
            query = query.where(Snapshot.name.contains(req.get_param("name~"), autoescape=True))
        if at_least(req, "3.22"):
            for key, value in dict_filter("metadata", req.get_param("metadata")).items():
                query = query.where(Snapshot.metadata_items.any(sa.and_(
                    models.SnapshotMetadata.key == key, models.SnapshotMetadata.value == value)))
        # the old spelling display_name always sorts by name; name itself from 3.30
        sortable = {**SORTABLE, "display_name": SORTABLE["name"]}
        if not at_least(req, "3.30"):
            del sortable["name"]
        keys = paging.sort_keys([(k, sortable[k][0], asc, sortable[k][1]) for k, asc in sorting(req, sortable)],
                                ("id", Snapshot.id))
        limit = int_param(req, "limit", 0)
        cap = self.service.conf.volume.osapi_max_limit
        limit = cap if limit is None else min(limit, cap)
        with self.service.db.reading() as session:
            marker_id = req.get_param("marker")
            if marker_id:
                marker = session.get(Snapshot, marker_id)
                if marker is None or (marker.project_id != ctx.project_id and not ctx.is_admin):
                    raise NotFound(f"Marker {marker_id} could not be found.")
                query = query.where(paging.after(keys, marker))
            query = query.order_by(*paging.order_by(keys)).limit(limit)
            offset = int_param(req, "offset", 0)
            rows = list(session.scalars(query.offset(offset) if offset else query))
            items = [snapshot_view(req, s, created=not self.detail) for s in rows]
        resp.media = {"snapshots": items}
        if rows and len(rows) == limit and req.get_param("limit") is not None:
            resp.media["snapshots_links"] = next_link(req, self.service.conf, "snapshots", rows[-1].id)

    @schema("Snapshot a volume (force=true: even in use)", request=CREATE, responses={202: _RESPONSE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        body = req.context.body["snapshot"]
        enforce(req, self.policy, "volume:create_snapshot", {"project_id": ctx.project_id})
        if not body["volume_id"]:
            raise NotFound(f"Volume {body['volume_id']} could not be found.")
        snapshot_id = self.service.create_snapshot(
            ctx, body["volume_id"], body.get("name", body.get("display_name")),
            body.get("description", body.get("display_description")), body.get("metadata") or {},
            force=boolean("force", body.get("force", False)))
        with self.service.db.reading() as session:
            resp.media = {"snapshot": snapshot_view(req, session.get(Snapshot, snapshot_id), created=True)}
        resp.status = 202


class SnapshotItem:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a snapshot", responses={200: _RESPONSE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, snapshot_id: str) -> None:
        with self.service.db.reading() as session:
            snapshot = self.service.snapshot(session, context(req), snapshot_id)
            enforce(req, self.policy, "volume:get_snapshot", {"project_id": snapshot.project_id})
            resp.media = {"snapshot": snapshot_view(req, snapshot)}

    @schema("Rename or describe a snapshot", request=UPDATE, responses={200: _RESPONSE})
    def on_put(self, req: falcon.Request, resp: falcon.Response, snapshot_id: str) -> None:
        body = req.context.body["snapshot"]
        with self.service.db.transaction() as session:
            snapshot = self.service.snapshot(session, context(req), snapshot_id)
            enforce(req, self.policy, "volume:update_snapshot", {"project_id": snapshot.project_id})
            for field, legacy in (("name", "display_name"), ("description", "display_description")):
                if field in body or legacy in body:
                    setattr(snapshot, field, body.get(field, body.get(legacy)))
            snapshot.updated_at = utcnow()
            session.flush()
            resp.media = {"snapshot": snapshot_view(req, snapshot, created=True)}

    @schema("Delete a snapshot", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, snapshot_id: str) -> None:
        with self.service.db.reading() as session:
            snapshot = self.service.snapshot(session, context(req), snapshot_id)
            enforce(req, self.policy, "volume:delete_snapshot", {"project_id": snapshot.project_id})
        self.service.delete_snapshot(context(req), snapshot_id)
        resp.status = 202


class SnapshotAction:
    """``os-reset_status`` and ``os-force_delete`` (administrators)."""

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Reset a snapshot's status or force its deletion", request={"type": "object", "minProperties": 1,
                                                                          "maxProperties": 1},
            responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, snapshot_id: str) -> None:
        (name, args), = req.context.body.items()
        with self.service.db.reading() as session:
            project = self.service.snapshot(session, context(req), snapshot_id).project_id
        if name == "os-update_snapshot_status":
            # what a hypervisor doing the snapshot itself (Nova's assisted snapshots) reports
            enforce(req, self.policy, "snapshot_extension:snapshot_actions:update_snapshot_status",
                    {"project_id": project})
            status = (args or {}).get("status") if isinstance(args, dict) else None
            with self.service.db.transaction() as session:
                snapshot = session.get(Snapshot, snapshot_id)
                allowed = {states.SNAPSHOT_CREATING: {states.SNAPSHOT_CREATING, states.SNAPSHOT_AVAILABLE,
                                                      states.SNAPSHOT_ERROR},
                           states.SNAPSHOT_DELETING: {states.SNAPSHOT_DELETING, states.SNAPSHOT_ERROR_DELETING}}
                if status not in allowed.get(snapshot.status, set()):
                    raise Invalid(f"Invalid input received: Snapshot status {snapshot.status} not allowed to change "
                                  f"to {status!r}.")
                snapshot.status = status
                if isinstance(args.get("progress"), str):
                    snapshot.progress = args["progress"][:8]
                snapshot.updated_at = utcnow()
        elif name == "os-reset_status":
            enforce(req, self.policy, "volume_extension:snapshot_admin_actions:reset_status", {"project_id": project})
            status = (args or {}).get("status") if isinstance(args, dict) else None
            if status not in states.SNAPSHOT_STATUSES:
                raise Invalid(f"Invalid input received: Invalid status {status!r}")
            with self.service.db.transaction() as session:
                session.execute(sa.update(Snapshot).where(Snapshot.id == snapshot_id).values(
                    status=status, updated_at=utcnow()))
        elif name == "os-force_delete":
            enforce(req, self.policy, "volume_extension:snapshot_admin_actions:force_delete", {"project_id": project})
            self.service.delete_snapshot(context(req), snapshot_id, force=True)
        else:
            raise Invalid(f"Invalid input received: There is no such action: {name}")
        resp.status = 202
