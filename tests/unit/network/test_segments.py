"""Tenant segment allocation under real concurrency, and its exhaustion, on every database."""

from __future__ import annotations

from stratus.network import errors, models, segments
from tests.fixtures.concurrency import run_together
from tests.unit.network.conftest import NOW


def test_parallel_tenant_networks_get_distinct_ids_until_the_range_runs_out(conf, network_db):
    conf.set_override("vni_ranges", ["10:12"], group="network")

    def create(i):
        with network_db.transaction() as session:
            session.add(models.Network(id=f"n{i}", project_id="p", created_at=NOW, updated_at=NOW))
            session.flush()
            return segments.allocate(session, conf, f"n{i}")["segmentation_id"]

    results = run_together(create, 5)
    assert sorted(r for r in results if isinstance(r, int)) == [10, 11, 12]
    assert [type(r) for r in results].count(errors.NoNetworkAvailable) == 2
