"""``os-instance_usage_audit_log`` (Nova v2.1, administrators): how the instance usage audit
of the last completed period went on each compute host (``/{before}``: of the period that
completed last before that moment)."""

from __future__ import annotations

import datetime
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import binaries, models
from stratus.compute.usage_audit import TASK, last_completed_period
from stratus.exceptions import Invalid


def report(compute: Any, before: datetime.datetime | None = None) -> dict[str, Any]:
    begin, end = last_completed_period(compute.conf.compute.instance_usage_audit_period, before)
    with compute.db.reading() as session:
        logs = list(session.scalars(sa.select(models.TaskLog).where(
            models.TaskLog.task_name == TASK, models.TaskLog.period_beginning == begin,
            models.TaskLog.period_ending == end)))
    hosts = {s.host for s in compute.registry.list(binary=binaries.COMPUTE)}
    done = {log.host for log in logs if log.state == "DONE"}
    running = {log.host for log in logs if log.state == "RUNNING"}
    errors = sum(log.errors for log in logs)
    missing = sorted(hosts - {log.host for log in logs})
    return {"period_beginning": str(begin), "period_ending": str(end), "num_hosts": len(hosts),
            "num_hosts_done": len(done), "num_hosts_running": len(running), "num_hosts_not_run": len(missing),
            "hosts_not_run": missing, "total_instances": sum(log.task_items for log in logs),
            "total_errors": errors,
            "overall_status": f"{'ALL' if len(done) == len(hosts) else f'{len(done)} of {len(hosts)}'} hosts "
                              f"done. {errors} errors.",
            "log": {log.host: {"state": log.state, "instances": log.task_items, "errors": log.errors,
                               "message": log.message} for log in logs}}


class AuditLogs:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("The last completed period's instance usage audit on every compute host",
            responses={200: {"type": "object", "required": ["instance_usage_audit_logs"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-instance-usage-audit-log:list")
        resp.media = {"instance_usage_audit_logs": report(self.compute)}


class AuditLog:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("The audit of the period completed last before a moment (YYYY-MM-DD HH:MM:SS[.ffffff])",
            responses={200: {"type": "object", "required": ["instance_usage_audit_log"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, before: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-instance-usage-audit-log:show")
        try:
            moment = datetime.datetime.strptime(before, "%Y-%m-%d %H:%M:%S.%f" if "." in before
                                                else "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise Invalid(f"Invalid timestamp for date {before}") from None
        resp.media = {"instance_usage_audit_log": report(self.compute, moment)}
