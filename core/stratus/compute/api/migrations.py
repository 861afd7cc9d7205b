"""``/os-migrations`` (administrators): the resizes servers went through, newest first."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.common import changes, int_param, page_links
from stratus.compute.api.microversions import at_least
from stratus.exceptions import Invalid

Migration = models.Migration
FILTERS = {"host": None, "status": Migration.status, "instance_uuid": Migration.instance_uuid,
           "migration_type": Migration.migration_type, "source_compute": Migration.source_compute}


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def view(req: falcon.Request, conf: Any, row: Migration,
         flavor_ids: dict[str, int] | None = None) -> dict[str, Any]:
    """``flavor_ids``: each flavor's database id by its flavor id (Nova shows the former as the
    old and new instance type ids; a flavor deleted since shows None)."""
    ids = flavor_ids or {}
    body = {"id": row.id, "source_node": row.source_node, "dest_node": row.dest_node,
            "source_compute": row.source_compute, "dest_compute": row.dest_compute, "dest_host": row.dest_compute,
            "status": row.status, "instance_uuid": row.instance_uuid,
            "old_instance_type_id": ids.get(row.old_flavor.get("id")),
            "new_instance_type_id": ids.get(row.new_flavor.get("id")),
            "created_at": _time(row.created_at), "updated_at": _time(row.updated_at)}
    if at_least(req, "2.23"):
        body["migration_type"] = row.migration_type
    if at_least(req, "2.59"):
        body["uuid"] = row.uuid
    if at_least(req, "2.80"):
        body.update(user_id=row.user_id, project_id=row.project_id)
    return body


class Migrations:
    def __init__(self, compute: Any, policy: Policy, conf: Any) -> None:
        self.compute, self.policy, self.conf = compute, policy, conf

    @schema("List migrations, newest first (host, status, instance_uuid, migration_type, source_compute; from "
            "2.59 limit, marker (a migration uuid), changes-since; 2.66 changes-before; 2.80 user_id, project_id)",
            responses={200: {"type": "object", "required": ["migrations"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-migrations:index")
        filters = dict(FILTERS)
        if at_least(req, "2.80"):
            filters.update(user_id=Migration.user_id, project_id=Migration.project_id)
        known = {*filters, "hidden", "cell_name"}
        if at_least(req, "2.59"):
            known |= {"limit", "marker", "changes-since"} | ({"changes-before"} if at_least(req, "2.66") else set())
            unknown = sorted(set(req.params) - known)
            if unknown:
                raise Invalid(f"Invalid input for query parameters {unknown[0]}. Additional properties are not "
                              f"allowed ('{unknown[0]}' was unexpected)")
        query = sa.select(Migration)
        for name, column in filters.items():
            value = req.get_param(name)
            if value is None:
                continue
            if column is None:
                query = query.where(sa.or_(Migration.source_compute == value, Migration.dest_compute == value))
            else:
                query = query.where(column == value)
        limit = None
        with self.compute.db.reading() as session:
            if at_least(req, "2.59"):
                query = query.where(*changes(req, Migration.updated_at))
                marker = req.get_param("marker")
                if marker is not None:
                    row = session.scalar(sa.select(Migration).where(Migration.uuid == marker))
                    if row is None:
                        raise Invalid(f"Marker {marker} could not be found.")
                    query = query.where(sa.or_(Migration.created_at < row.created_at, sa.and_(
                        Migration.created_at == row.created_at, Migration.id < row.id)))
                if req.get_param("limit") is not None:
                    limit = int_param(req, "limit", 0)
                    query = query.limit(limit)
            rows = list(session.scalars(query.order_by(Migration.created_at.desc(), Migration.id.desc())))
            flavor_ids = dict(session.execute(sa.select(models.Flavor.flavorid, models.Flavor.id)).all())
            resp.media = {"migrations": [view(req, self.conf, row, flavor_ids) for row in rows]}
        if limit and len(rows) == limit:
            resp.media["migrations_links"] = page_links(req, rows[-1].uuid)
