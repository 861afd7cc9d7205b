"""Quotas under real concurrency on SQLite, PostgreSQL and MariaDB: creates of one project
take turns, so parallel requests never exceed its quota together."""

from __future__ import annotations

from stratus.network import errors, models, quotas
from tests.fixtures.concurrency import run_together
from tests.unit.network.conftest import NOW


def test_parallel_creates_never_exceed_the_quota(conf, network_db):
    conf.set_override("quota_router", 4, group="network")

    def create(i):
        with network_db.transaction() as session:
            quotas.check(network_db, session, conf, "p", "router")
            session.add(models.Router(id=f"r{i}", project_id="p", created_at=NOW, updated_at=NOW))
        return i

    results = run_together(create, 10)
    assert len([r for r in results if isinstance(r, int)]) == 4
    assert [type(r) for r in results].count(errors.OverQuota) == 6
    with network_db.transaction() as session:
        assert quotas.used(session, "router", "p") == 4
