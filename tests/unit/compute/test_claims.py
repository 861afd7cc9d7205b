"""Claims under real concurrency: threads claiming on one node, each in its own transaction,
on SQLite, PostgreSQL and MariaDB. Never more than fits; releases give it back."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from stratus.compute import claims, models
from tests.fixtures.concurrency import run_together

NOW = datetime.datetime(2026, 1, 1)
FLAVOR = {"vcpus": 1, "ram": 512, "disk": 1}


def node(db, vcpus=4, ratio=1.0):
    with db.transaction() as session:
        row = models.ComputeNode(uuid="n", host="h", nodename="h", hypervisor_type="fake", hypervisor_version=1,
                                 vcpus=vcpus, memory_mb=65536, local_gb=1000, vcpus_used=0, memory_mb_used=0,
                                 local_gb_used=0, running_vms=0, cpu_allocation_ratio=ratio, ram_allocation_ratio=1.0,
                                 disk_allocation_ratio=1.0, cpu_info={}, created_at=NOW, updated_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def test_parallel_claims_never_overcommit(compute_db):
    node_id = node(compute_db, vcpus=4, ratio=1.5)  # room for 6

    def one(i):
        with compute_db.transaction() as session:
            return claims.claim(session, node_id, f"server-{i}", FLAVOR)

    results = run_together(one, 12)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert results.count(True) == 6 and results.count(False) == 6
    with compute_db.transaction() as session:
        used = session.get(models.ComputeNode, node_id)
        assert (used.vcpus_used, used.memory_mb_used, used.running_vms) == (6, 3072, 6)
        assert session.scalar(sa.select(sa.func.count()).select_from(models.Allocation)) == 6


def test_releases_give_back_exactly_once(compute_db):
    node_id = node(compute_db, vcpus=2)
    with compute_db.transaction() as session:
        assert claims.claim(session, node_id, "a", FLAVOR) and claims.claim(session, node_id, "b", FLAVOR)
        assert not claims.claim(session, node_id, "c", FLAVOR)

    def release(i):
        with compute_db.transaction() as session:
            claims.release(session, "a")

    run_together(release, 4)
    with compute_db.transaction() as session:
        assert session.get(models.ComputeNode, node_id).vcpus_used == 1
        assert claims.claim(session, node_id, "c", FLAVOR)
