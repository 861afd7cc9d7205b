"""``/v3/{project_id}/backups``: volume backups on the backup target (see
:mod:`stratus.volume.backups`): create (full or incremental), list, show, update (3.9),
restore, delete, reset their status (administrators); metadata from 3.43."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least, unexpected_before
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.db import paging
from stratus.exceptions import Invalid, NotFound
from stratus.volume import models
from stratus.volume.api.common import boolean, context, int_param, isotime, links, metadata_schema, sorting
from stratus.volume.models import utcnow
from stratus.volume.service import VolumeService

Backup = models.Backup
_NAME = {"type": ["string", "null"], "maxLength": 255}
CREATE = {"type": "object", "required": ["backup"], "properties": {"backup": {
    "type": "object", "required": ["volume_id"], "properties": {
        "volume_id": {"type": "string", "minLength": 1, "maxLength": 36}, "name": _NAME, "description": _NAME,
        "container": {"type": ["string", "null"], "maxLength": 255},
        "incremental": {"type": ["boolean", "string"]}, "force": {"type": ["boolean", "string"]},
        "snapshot_id": {"type": ["string", "null"]}, "metadata": {**metadata_schema(), "type": ["object", "null"]},
        "availability_zone": {"type": ["string", "null"]}}, "additionalProperties": False}}}
UPDATE = {"type": "object", "required": ["backup"], "properties": {"backup": {
    "type": "object", "minProperties": 1, "properties": {
        "name": _NAME, "description": _NAME, "metadata": {**metadata_schema(), "type": ["object", "null"]}},
    "additionalProperties": False}}}
RESTORE = {"type": "object", "required": ["restore"], "properties": {"restore": {
    "type": ["object", "null"], "properties": {"volume_id": {"type": ["string", "null"]}, "name": _NAME},
    "additionalProperties": False}}}
SORTABLE = {"created_at": (Backup.created_at, False), "updated_at": (Backup.updated_at, True),
            "size": (Backup.size, False), "status": (Backup.status, False), "id": (Backup.id, False),
            "display_name": (Backup.name, True)}


def view(req: falcon.Request, conf: Any, backup: models.Backup, dependents: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": backup.id, "name": backup.name, "description": backup.description, "status": backup.status,
        "size": backup.size, "object_count": backup.object_count, "availability_zone": backup.availability_zone,
        "container": backup.container, "created_at": isotime(backup.created_at),
        "updated_at": isotime(backup.updated_at), "fail_reason": backup.fail_reason, "volume_id": backup.volume_id,
        "links": links(req, conf, "backups", backup.id), "is_incremental": backup.is_incremental,
        "has_dependent_backups": dependents, "snapshot_id": backup.snapshot_id,
        "data_timestamp": isotime(backup.data_timestamp or backup.created_at)}
    if at_least(req, "3.18") and context(req).is_admin:
        body["os-backup-project-attr:project_id"] = backup.project_id
    if at_least(req, "3.43"):
        body["metadata"] = dict(backup.backup_metadata or {})
    return body


def _dependents(session: Any, ids: list[str]) -> set[str]:
    return set(session.scalars(sa.select(Backup.parent_id).where(Backup.parent_id.in_(ids)))) if ids else set()


class Backups:
    def __init__(self, service: VolumeService, policy: Policy, detail: bool) -> None:
        self.service, self.policy, self.detail = service, policy, detail

    @schema("List backups (filters name, status, volume_id; sort, limit, offset, marker)",
            responses={200: {"type": "object", "required": ["backups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "backup:get_all", {"project_id": ctx.project_id})
        query = sa.select(Backup)
        if not (ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0")):
            query = query.where(Backup.project_id == ctx.project_id)
        for name, column in (("name", Backup.name), ("status", Backup.status), ("volume_id", Backup.volume_id)):
            if req.get_param(name):
                query = query.where(column == req.get_param(name))
        sortable = {**SORTABLE, **({"name": SORTABLE["display_name"]} if at_least(req, "3.37") else {})}
        keys = paging.sort_keys([(k, sortable[k][0], asc, sortable[k][1]) for k, asc in sorting(req, sortable)],
                                ("id", Backup.id))
        limit, offset = int_param(req, "limit", 0), int_param(req, "offset", 0)
        with self.service.db.reading() as session:
            if req.get_param("marker"):
                marker = session.get(Backup, req.get_param("marker"))
                if marker is None or (marker.project_id != ctx.project_id and not ctx.is_admin):
                    raise NotFound(f"Marker {req.get_param('marker')} could not be found.")
                query = query.where(paging.after(keys, marker))
            query = query.order_by(*paging.order_by(keys))
            if limit is not None:
                query = query.limit(limit)
            if offset:
                query = query.offset(offset)
            rows = list(session.scalars(query))
            dependents = _dependents(session, [r.id for r in rows])
            conf = self.service.conf
            resp.media = {"backups": [view(req, conf, b, b.id in dependents) if self.detail else
                                      {"id": b.id, "name": b.name, "links": links(req, conf, "backups", b.id)}
                                      for b in rows]}

    @schema("Back a volume up (incremental: only what changed since its last backup)", request=CREATE,
            responses={202: {"type": "object", "required": ["backup"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        body = req.context.body["backup"]
        unexpected_before(req, "3.43", body, "metadata")
        if body.get("snapshot_id"):
            raise Invalid("Invalid input received: backups of snapshots are not supported by this cloud yet")
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, body["volume_id"])
            enforce(req, self.policy, "backup:create", {"project_id": volume.project_id})
        backup_id = self.service.create_backup(
            ctx, body["volume_id"], body.get("name"), body.get("description"),
            incremental=boolean("incremental", body.get("incremental", False)),
            force=boolean("force", body.get("force", False)), metadata=body.get("metadata"))
        resp.media = {"backup": {"id": backup_id, "name": body.get("name"),
                                 "links": links(req, self.service.conf, "backups", backup_id)}}
        resp.status = 202


class BackupItem:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a backup (object_count: the chunks written so far)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, backup_id: str) -> None:
        with self.service.db.reading() as session:
            backup = self.service.backup(session, context(req), backup_id)
            enforce(req, self.policy, "backup:get", {"project_id": backup.project_id})
            resp.media = {"backup": view(req, self.service.conf, backup,
                                         backup.id in _dependents(session, [backup.id]))}

    @schema("Rename or describe a backup (3.9; metadata from 3.43)", request=UPDATE,
            responses={200: {"type": "object", "required": ["backup"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, backup_id: str) -> None:
        if not at_least(req, "3.9"):
            raise falcon.HTTPMethodNotAllowed(["GET", "DELETE"])
        body = req.context.body["backup"]
        unexpected_before(req, "3.43", body, "metadata")
        with self.service.db.transaction() as session:
            backup = self.service.backup(session, context(req), backup_id)
            enforce(req, self.policy, "backup:update", {"project_id": backup.project_id})
            for field in ("name", "description"):
                if field in body:
                    setattr(backup, field, body[field])
            if body.get("metadata") is not None:
                backup.backup_metadata = dict(body["metadata"])
            backup.updated_at = utcnow()
            session.flush()
            resp.media = {"backup": {"id": backup.id, "name": backup.name,
                                     "links": links(req, self.service.conf, "backups", backup.id)}}

    @schema("Delete a backup (not one incremental backups build on)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, backup_id: str) -> None:
        with self.service.db.reading() as session:
            backup = self.service.backup(session, context(req), backup_id)
            enforce(req, self.policy, "backup:delete", {"project_id": backup.project_id})
        self.service.delete_backup(context(req), backup_id)
        resp.status = 202


class BackupRestore:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Restore a backup into a volume (a new one when volume_id is not given)", request=RESTORE,
            responses={202: {"type": "object", "required": ["restore"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, backup_id: str) -> None:
        ctx = context(req)
        body = req.context.body["restore"] or {}
        with self.service.db.reading() as session:
            backup = self.service.backup(session, ctx, backup_id)
            enforce(req, self.policy, "backup:restore", {"project_id": backup.project_id})
        volume_id = self.service.restore_backup(ctx, backup_id, body.get("volume_id"), body.get("name"))
        with self.service.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            resp.media = {"restore": {"backup_id": backup_id, "volume_id": volume_id,
                                      "volume_name": volume.name if volume is not None else None}}
        resp.status = 202


class BackupAction:
    @schema("os-reset_status or os-force_delete of a backup (administrators)", request={
        "type": "object", "minProperties": 1, "maxProperties": 1}, responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, backup_id: str) -> None:
        ((name, args),) = req.context.body.items()
        with self.service.db.reading() as session:
            project = self.service.backup(session, context(req), backup_id).project_id
        if name == "os-reset_status":
            enforce(req, self.policy, "volume_extension:backup_admin_actions:reset_status", {"project_id": project})
            status = (args or {}).get("status") if isinstance(args, dict) else None
            if status not in ("available", "error"):
                raise Invalid(f"Invalid input received: backup status must be available or error, not {status!r}")
            with self.service.db.transaction() as session:
                session.execute(sa.update(Backup).where(Backup.id == backup_id)
                                .values(status=status, updated_at=utcnow()))
        elif name == "os-force_delete":
            enforce(req, self.policy, "volume_extension:backup_admin_actions:force_delete", {"project_id": project})
            self.service.delete_backup(context(req), backup_id, force=True)
        else:
            raise Invalid(f"Invalid input received: There is no such action: {name}")
        resp.status = 202

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy
