"""``/os-migrations`` (administrators): the resizes servers went through, newest first."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.microversions import Version

Migration = models.Migration
FILTERS = {"host": None, "status": Migration.status, "instance_uuid": Migration.instance_uuid,
           "migration_type": Migration.migration_type, "source_compute": Migration.source_compute}


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def view(req: falcon.Request, conf: Any, row: Migration) -> dict[str, Any]:
    body = {"id": row.id, "source_node": row.source_node, "dest_node": row.dest_node,
            "source_compute": row.source_compute, "dest_compute": row.dest_compute, "dest_host": row.dest_compute,
            "status": row.status, "instance_uuid": row.instance_uuid,
            "old_instance_type_id": row.old_flavor.get("id"), "new_instance_type_id": row.new_flavor.get("id"),
            "created_at": _time(row.created_at), "updated_at": _time(row.updated_at)}
    if req.context.microversion >= Version("2.23"):
        body["migration_type"] = row.migration_type
    if req.context.microversion >= Version("2.59"):
        body["uuid"] = row.uuid
    if req.context.microversion >= Version("2.80"):
        body.update(user_id=row.user_id, project_id=row.project_id)
    return body


class Migrations:
    def __init__(self, compute: Any, policy: Policy, conf: Any) -> None:
        self.compute, self.policy, self.conf = compute, policy, conf

    @schema("List migrations (host, status, instance_uuid, migration_type, source_compute)",
            responses={200: {"type": "object", "required": ["migrations"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-migrations:index")
        query = sa.select(Migration).order_by(Migration.created_at.desc(), Migration.id.desc())
        for name, column in FILTERS.items():
            value = req.get_param(name)
            if value is None:
                continue
            if column is None:
                query = query.where(sa.or_(Migration.source_compute == value, Migration.dest_compute == value))
            else:
                query = query.where(column == value)
        with self.compute.db.transaction() as session:
            resp.media = {"migrations": [view(req, self.conf, row) for row in session.scalars(query)]}



