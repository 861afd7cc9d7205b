"""``os-simple-tenant-usage`` (Nova v2.1): what projects' servers used over a period — hours
run, and vCPU-, RAM- and disk-hours — for dashboards and billing. Deleted servers count for
the time they ran; a period ending in the future ends now. Pages (2.40) follow servers.
"""

from __future__ import annotations

import datetime
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.common import int_param, page_links
from stratus.compute.api.microversions import at_least
from stratus.exceptions import Invalid

Instance = models.Instance
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _moment(req: falcon.Request, name: str) -> datetime.datetime:
    text = req.params.get(name)
    if not text:
        return _now()
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise Invalid(f"Invalid {name} time {text!r}: Datetime is in invalid format (use 2026-12-04T10:00:00).")


def _period(req: falcon.Request) -> tuple[datetime.datetime, datetime.datetime]:
    start, stop = _moment(req, "start"), _moment(req, "end")
    if not start < stop:
        raise Invalid("Invalid start time. The start time cannot occur after the end time.")
    return start, min(stop, _now())


def _hours(instance: Instance, start: datetime.datetime, stop: datetime.datetime) -> float:
    launched, ended = instance.launched_at, instance.terminated_at
    if launched is None or (ended is not None and ended < start) or launched > stop:
        return 0.0
    return ((min(stop, ended) if ended else stop) - max(launched, start)).total_seconds() / 3600.0


def usages(session: Any, start: datetime.datetime, stop: datetime.datetime, project_id: str | None,
           detailed: bool, limit: int | None = None,
           marker: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each project's summary (with its servers' usages if ``detailed``) and every server usage."""
    where = [sa.or_(Instance.terminated_at.is_(None), Instance.terminated_at > start), Instance.launched_at < stop]
    if project_id is not None:
        where.append(Instance.project_id == project_id)
    query = sa.select(Instance).where(*where).order_by(Instance.created_at, Instance.uuid)
    if marker is not None:
        after = session.scalars(sa.select(Instance).where(Instance.uuid == marker, *where)).first()
        if after is None:
            raise Invalid(f"Marker {marker} could not be found.")
        query = query.where(sa.or_(Instance.created_at > after.created_at,
                                   sa.and_(Instance.created_at == after.created_at, Instance.uuid > after.uuid)))
    summaries: dict[str, dict[str, Any]] = {}
    servers = []
    now = _now()
    for instance in session.scalars(query.limit(limit)):
        flavor = instance.flavor
        ended = instance.terminated_at
        info = {"instance_id": instance.uuid, "name": instance.display_name, "tenant_id": instance.project_id,
                "hours": _hours(instance, start, stop), "flavor": flavor.get("original_name", ""),
                "memory_mb": flavor["ram"], "local_gb": flavor["disk"] + flavor.get("ephemeral", 0),
                "vcpus": flavor["vcpus"], "started_at": instance.launched_at.isoformat(),
                "ended_at": ended.isoformat() if ended else None,
                "state": "terminated" if ended else instance.vm_state,
                "uptime": int(((ended or now) - instance.launched_at).total_seconds())}
        summary = summaries.get(instance.project_id)
        if summary is None:
            summary = summaries[instance.project_id] = {
                "tenant_id": instance.project_id, "total_local_gb_usage": 0, "total_vcpus_usage": 0,
                "total_memory_mb_usage": 0, "total_hours": 0, "start": start.isoformat(), "stop": stop.isoformat(),
                **({"server_usages": []} if detailed else {})}
        summary["total_local_gb_usage"] += info["local_gb"] * info["hours"]
        summary["total_vcpus_usage"] += info["vcpus"] * info["hours"]
        summary["total_memory_mb_usage"] += info["memory_mb"] * info["hours"]
        summary["total_hours"] += info["hours"]
        if detailed:
            summary["server_usages"].append(info)
        servers.append(info)
    return list(summaries.values()), servers


class TenantUsages:
    """``GET /os-simple-tenant-usage``: every project's usage (administrators)."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Every project's usage over a period (start, end, detailed; 2.40: limit, marker)",
            responses={200: {"type": "object", "required": ["tenant_usages"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-simple-tenant-usage:list")
        start, stop = _period(req)
        limit, marker = self.compute.conf.compute.max_limit, None
        if at_least(req, "2.40"):
            limit = min(int_param(req, "limit", 0), limit) if "limit" in req.params else limit
            marker = req.params.get("marker")
        with self.compute.db.reading() as session:
            summaries, servers = usages(session, start, stop, None, req.params.get("detailed") == "1", limit, marker)
        body: dict[str, Any] = {"tenant_usages": summaries}
        if at_least(req, "2.40") and servers and len(servers) == limit:
            body["tenant_usages_links"] = page_links(req, servers[-1]["instance_id"])
        resp.media = body


class TenantUsage:
    """``GET /os-simple-tenant-usage/{project}``: one project's usage with its servers'."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A project's usage over a period (start, end; 2.40: limit, marker)",
            responses={200: {"type": "object", "required": ["tenant_usage"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id})
        start, stop = _period(req)
        limit, marker = self.compute.conf.compute.max_limit, None
        if at_least(req, "2.40"):
            limit = min(int_param(req, "limit", 0), limit) if "limit" in req.params else limit
            marker = req.params.get("marker")
        with self.compute.db.reading() as session:
            summaries, servers = usages(session, start, stop, project_id, True, limit, marker)
        body: dict[str, Any] = {"tenant_usage": summaries[0] if summaries else {}}
        if at_least(req, "2.40") and servers and len(servers) == limit:
            body["tenant_usage_links"] = page_links(req, servers[-1]["instance_id"])
        resp.media = body
