"""The instance usage audit (Nova's ``instance_usage_audit``): once per period each compute
host tells the notification sinks (``stratus_notify``, ``compute.instance.exists``) about
every server that ran on it during the last completed period, and logs its run in
``task_log`` — what ``os-instance_usage_audit_log`` reports.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.db.engine import insert_unless_taken

LOG = logging.getLogger(__name__)
TASK = "instance_usage_audit"


def last_completed_period(unit: str, before: datetime.datetime | None = None
                          ) -> tuple[datetime.datetime, datetime.datetime]:
    """The last whole ``unit`` (hour, day, month, year) that ended at or before ``before`` (now)."""
    moment = before or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    if unit == "hour":
        end = moment.replace(minute=0, second=0, microsecond=0)
        return end - datetime.timedelta(hours=1), end
    if unit == "day":
        end = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return end - datetime.timedelta(days=1), end
    if unit == "year":
        end = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return end.replace(year=end.year - 1), end
    end = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    begin = end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1)
    return begin, end


def ran_during(begin: datetime.datetime, end: datetime.datetime) -> Any:
    """Servers that were running at some point of [begin, end): launched before its end, not
    terminated before its beginning (deleted ones included)."""
    Instance = models.Instance
    return sa.and_(Instance.launched_at < end,
                   sa.or_(Instance.terminated_at.is_(None), Instance.terminated_at > begin))


def audit(db: Any, plugins: Any, hosts: list[str], unit: str) -> dict[str, int]:
    """Audit the last completed period on each of ``hosts`` not audited for it yet; how many
    servers each host reported."""
    from stratus.hooks.manager import call_safely

    begin, end = last_completed_period(unit)
    reported = {}
    for host in hosts:
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        with db.transaction() as session:
            claimed = insert_unless_taken(session, models.TaskLog(
                task_name=TASK, state="RUNNING", host=host, period_beginning=begin, period_ending=end,
                message="", task_items=0, errors=0, created_at=now, updated_at=now))
        if not claimed:
            continue  # this period is done (or under way) for this host
        started = time.monotonic()
        with db.reading() as session:
            servers = list(session.scalars(sa.select(models.Instance).where(
                models.Instance.host == host, ran_during(begin, end))))
            payloads = [{"instance_id": s.uuid, "tenant_id": s.project_id, "user_id": s.user_id,
                         "display_name": s.display_name, "instance_type": s.flavor.get("original_name"),
                         "memory_mb": s.flavor["ram"], "vcpus": s.flavor["vcpus"], "root_gb": s.flavor["disk"],
                         "state": s.vm_state, "host": host,
                         "launched_at": s.launched_at.isoformat() if s.launched_at else None,
                         "terminated_at": s.terminated_at.isoformat() if s.terminated_at else None,
                         "audit_period_beginning": begin.isoformat(), "audit_period_ending": end.isoformat()}
                        for s in servers]
        for payload in payloads:
            call_safely(plugins, "stratus_notify", event_type="compute.instance.exists", payload=payload,
                        context=None)
        with db.transaction() as session:
            session.execute(sa.update(models.TaskLog).where(
                models.TaskLog.task_name == TASK, models.TaskLog.host == host,
                models.TaskLog.period_beginning == begin, models.TaskLog.period_ending == end).values(
                state="DONE", task_items=len(payloads), updated_at=datetime.datetime.now(datetime.UTC)
                .replace(tzinfo=None),
                message=f"Instance usage audit ran for host {host}, {len(payloads)} instances in "
                        f"{time.monotonic() - started:.3f} seconds."))
        LOG.info("instance usage audit of %s for %s - %s: %d servers", host, begin, end, len(payloads))
        reported[host] = len(payloads)
    return reported
