"""Compute quota usage and checks on SQLite, PostgreSQL and MariaDB: what a project's servers
hold, summed by the database, and racing creates that stop exactly at the limit."""

from __future__ import annotations

import datetime
import uuid

from stratus.compute import models, quotas, states
from stratus.exceptions import QuotaExceeded
from tests.fixtures.concurrency import run_together

NOW = datetime.datetime(2026, 1, 1)
SMALL = {"id": "1", "name": "small", "vcpus": 1, "ram": 512, "disk": 1}
LARGE = {"id": "2", "name": "large", "vcpus": 4, "ram": 8192, "disk": 40, "extra_specs": {"hw:cpu_policy": "shared"}}


def server(session, project_id, flavor, **fields):
    session.add(models.Instance(**{
        "uuid": str(uuid.uuid4()), "project_id": project_id, "user_id": "u", "display_name": "s", "hostname": "s",
        "flavor": flavor, "vm_state": states.ACTIVE, "reservation_id": "r-1", "created_at": NOW,
        "updated_at": NOW, **fields}))


def test_usage_counts_the_live_servers_of_the_project(compute_db):
    with compute_db.transaction() as session:
        assert quotas.usage(session, "p") == {"instances": 0, "cores": 0, "ram": 0}
        server(session, "p", SMALL)
        server(session, "p", LARGE)
        server(session, "p", LARGE, vm_state=states.ERROR)  # an ERROR server still holds its flavor
        server(session, "p", LARGE, vm_state=states.SOFT_DELETED)
        server(session, "p", LARGE, deleted=True)
        server(session, "other", LARGE)
    with compute_db.transaction() as session:
        assert quotas.usage(session, "p") == {"instances": 3, "cores": 9, "ram": 16896}
        assert quotas.usage(session, "other") == {"instances": 1, "cores": 4, "ram": 8192}


def test_racing_creates_stop_exactly_at_the_limit(conf, compute_db):
    conf.set_override("quota_instances", 3, group="compute")

    def create(i):
        with compute_db.transaction() as session:
            # the limits are read before the project's lock, as a boot reads them: on MariaDB
            # that read opens the snapshot the count must look past
            quotas.check(compute_db, session, conf, "p", 1, SMALL)
            server(session, "p", SMALL)

    results = run_together(create, 8)
    assert [r for r in results if r is not None and not isinstance(r, QuotaExceeded)] == []
    assert results.count(None) == 3
    with compute_db.transaction() as session:
        assert quotas.usage(session, "p") == {"instances": 3, "cores": 3, "ram": 1536}
