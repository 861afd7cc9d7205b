"""The scheduler's claim of a chosen node for a server, on SQLite, PostgreSQL and MariaDB:
placed once, lost when the node is full, and a server deleted while it was scheduled ends
deleted, holding nothing."""

from __future__ import annotations

import datetime
import types

import pytest
import sqlalchemy as sa

from stratus.compute import models, states
from stratus.db import migration
from stratus.rpc import Transport
from stratus.scheduler.service import SchedulerService

NOW = datetime.datetime(2026, 1, 1)
FLAVOR = {"id": "1", "name": "tiny", "vcpus": 2, "ram": 512, "disk": 1}
CHOICE = types.SimpleNamespace(host="h1", nodename="h1", availability_zone="zone-a")


@pytest.fixture
def scheduler(conf, compute_db):
    migration.sync(conf, ["servicegroup"])
    service = SchedulerService(conf, compute_db, Transport("memory://"), "scheduler-1")
    with compute_db.transaction() as session:
        session.add(models.ComputeNode(
            uuid="n1", host="h1", nodename="h1", hypervisor_type="fake", hypervisor_version=1, vcpus=3,
            memory_mb=4096, local_gb=100, vcpus_used=0, memory_mb_used=0, local_gb_used=0, running_vms=0,
            cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0, disk_allocation_ratio=1.0, cpu_info={},
            created_at=NOW, updated_at=NOW))
    yield service
    service.stop()


def server(db, uuid, task_state=states.SCHEDULING):
    with db.transaction() as session:
        session.add(models.Instance(
            uuid=uuid, project_id="p", user_id="u", display_name=uuid, hostname=uuid, flavor=FLAVOR,
            vm_state=states.BUILDING, task_state=task_state, reservation_id="r-1", tried_hosts=["h0"],
            created_at=NOW, updated_at=NOW))


def placed(db, uuid):
    with db.reading() as session:
        row = session.get(models.Instance, uuid)
        return row.host, row.node, row.availability_zone, row.tried_hosts, row.deleted


def allocations(db):
    with db.reading() as session:
        return sorted(session.scalars(sa.select(models.Allocation.instance_uuid)))


def test_a_claim_places_the_server_once(scheduler, compute_db):
    server(compute_db, "a")
    assert scheduler._claim("a", CHOICE) == "claimed"
    assert placed(compute_db, "a") == ("h1", "h1", "zone-a", ["h0", "h1"], False)
    assert scheduler._claim("a", CHOICE) == "gone"  # a build cast twice claims once
    assert placed(compute_db, "a")[3] == ["h0", "h1"] and allocations(compute_db) == ["a"]


def test_a_full_node_is_lost_and_changes_nothing(scheduler, compute_db):
    server(compute_db, "a")
    server(compute_db, "b")
    assert scheduler._claim("a", CHOICE) == "claimed"
    assert scheduler._claim("b", CHOICE) == "lost"  # 2 of 3 vCPUs are taken
    assert placed(compute_db, "b") == (None, None, None, ["h0"], False) and allocations(compute_db) == ["a"]


def test_a_server_deleted_while_scheduled_ends_deleted(scheduler, compute_db):
    server(compute_db, "a", task_state=states.DELETING)
    assert scheduler._claim("a", CHOICE) == "gone"
    assert placed(compute_db, "a")[4] is True and allocations(compute_db) == []
