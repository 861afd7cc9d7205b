"""Quotas under real concurrency on SQLite, PostgreSQL and MariaDB: creates of one project
take turns, so parallel requests never exceed its quota together."""

from __future__ import annotations

import datetime
import threading

import pytest

from stratus.db import migration
from stratus.db.engine import Database
from stratus.network import errors, models, quotas

NOW = datetime.datetime(2026, 1, 1)


@pytest.fixture
def network_db(conf, db_url):
    conf.set_override("connection", db_url, group="database")
    conf.set_override("quota_router", 4, group="network")
    migration.sync(conf, ["network"])
    db = Database.for_service(conf, "network")
    yield conf, db
    db.dispose()


def test_parallel_creates_never_exceed_the_quota(network_db):
    conf, db = network_db
    made, refused, barrier = [], [], threading.Barrier(10)

    def create(i):
        barrier.wait()
        try:
            with db.transaction() as session:
                quotas.check(db, session, conf, "p", "router")
                session.add(models.Router(id=f"r{i}", project_id="p", created_at=NOW, updated_at=NOW))
            made.append(i)
        except errors.OverQuota:
            refused.append(i)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4 and len(refused) == 6
    with db.transaction() as session:
        assert quotas.used(session, "router", "p") == 4
