"""The instance usage audit: which servers a host reports for a period, once per period."""

from __future__ import annotations

import datetime

import pytest

from stratus.compute import models, states, usage_audit
from stratus.db import migration
from stratus.db.engine import Database
from stratus.hooks import hookimpl


@pytest.mark.parametrize(("unit", "begin", "end"), [
    ("hour", "2026-03-01 09:00:00", "2026-03-01 10:00:00"),
    ("day", "2026-02-28 00:00:00", "2026-03-01 00:00:00"),
    ("month", "2026-02-01 00:00:00", "2026-03-01 00:00:00"),
    ("year", "2025-01-01 00:00:00", "2026-01-01 00:00:00"),
])
def test_last_completed_period(unit, begin, end):
    got = usage_audit.last_completed_period(unit, datetime.datetime(2026, 3, 1, 10, 30))
    assert (str(got[0]), str(got[1])) == (begin, end)


def test_january_reports_december():
    begin, end = usage_audit.last_completed_period("month", datetime.datetime(2026, 1, 15))
    assert (begin, end) == (datetime.datetime(2025, 12, 1), datetime.datetime(2026, 1, 1))


class Sink:
    def __init__(self):
        self.seen = []

    @hookimpl
    def stratus_notify(self, event_type, payload, context):
        self.seen.append((event_type, payload["instance_id"]))


def _server(session, uuid, host, launched, terminated=None):
    now = datetime.datetime(2026, 3, 1)
    session.add(models.Instance(
        uuid=uuid, project_id="p", user_id="u", display_name=uuid, hostname=uuid, reservation_id="r",
        flavor={"id": "1", "original_name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}, vm_state=states.ACTIVE,
        host=host, launched_at=launched, terminated_at=terminated, deleted=terminated is not None, created_at=now,
        updated_at=now, tried_hosts=[], network_info=[], requested_networks=[], security_groups=[],
        request_spec={}))


def test_a_host_reports_the_servers_that_ran_in_the_period_once(conf):
    from stratus.hooks.manager import create_plugin_manager

    migration.sync(conf, ["compute"])
    db = Database.for_service(conf, "compute")
    begin, end = usage_audit.last_completed_period("month")
    inside = begin + datetime.timedelta(days=2)
    with db.transaction() as session:
        _server(session, "ran-all-period", "h1", begin - datetime.timedelta(days=40))
        _server(session, "deleted-during", "h1", begin - datetime.timedelta(days=1), inside)
        _server(session, "deleted-before", "h1", begin - datetime.timedelta(days=9), begin - datetime.timedelta(days=1))
        _server(session, "launched-after", "h1", end + datetime.timedelta(minutes=1))
        _server(session, "other-host", "h2", inside)
    sink = Sink()
    plugins = create_plugin_manager(conf, {"sink": sink})
    try:
        assert usage_audit.audit(db, plugins, ["h1", "h2"], "month") == {"h1": 2, "h2": 1}
        assert sorted(i for _, i in sink.seen) == ["deleted-during", "other-host", "ran-all-period"]
        assert {e for e, _ in sink.seen} == {"compute.instance.exists"}
        assert usage_audit.audit(db, plugins, ["h1", "h2"], "month") == {}  # done for this period
        with db.reading() as session:
            logs = list(session.query(models.TaskLog))
        assert sorted((log.host, log.state, log.task_items) for log in logs) == [("h1", "DONE", 2), ("h2", "DONE", 1)]
    finally:
        db.dispose()
