"""A scheduler's cached view of the nodes: read at most every host_state_max_age, charged
with its own claims, re-read when a claim is refused or an operator changes hosts."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from stratus.compute import models
from stratus.db import migration
from stratus.db.engine import Database
from stratus.rpc import Transport
from stratus.scheduler.service import SchedulerService
from stratus.servicegroup.models import ServiceRecord

NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@pytest.fixture
def scheduler(conf, tmp_path):
    conf.set_override("connection", f"sqlite:///{tmp_path}/view.sqlite", group="database")
    conf.set_override("host_state_max_age", 3600, group="scheduler")
    migration.sync(conf, ["compute", "servicegroup"])
    db = Database.for_service(conf, "compute")
    made = SchedulerService(conf, db, Transport("memory://"), "test")
    with made.services_db.transaction() as session:
        for host in ("a", "b"):
            session.add(ServiceRecord(uuid=f"s-{host}", host=host, binary="nova-compute", topic="compute",
                                      report_count=1, disabled=False, forced_down=False, created_at=NOW,
                                      last_seen_up=NOW))
    with db.transaction() as session:
        for host in ("a", "b"):
            session.add(models.ComputeNode(
                uuid=f"n-{host}", host=host, nodename=host, hypervisor_type="fake", hypervisor_version=1, vcpus=2,
                memory_mb=1024, local_gb=10, vcpus_used=0, memory_mb_used=0, local_gb_used=0, running_vms=0,
                cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0, disk_allocation_ratio=1.0, cpu_info={},
                created_at=NOW, updated_at=NOW))
    yield made
    made.stop()
    db.dispose()


def used(scheduler):
    return {h.host: (h.vcpus_used, h.num_instances) for h in scheduler.view.get()}


def spec():
    from stratus.interfaces.scheduler import FlavorSpec, RequestSpec

    return RequestSpec(project_id="p", flavor=FlavorSpec(vcpus=1, memory_mb=64, root_gb=1))


def test_the_view_is_charged_with_this_schedulers_claims_and_reread_when_dropped(scheduler):
    assert used(scheduler) == {"a": (0, 0), "b": (0, 0)}
    scheduler.view.charge("a", "a", spec(), "server-1")
    assert used(scheduler) == {"a": (1, 1), "b": (0, 0)}
    with scheduler.db.transaction() as session:  # another scheduler's claim
        session.execute(sa.update(models.ComputeNode).where(models.ComputeNode.host == "b")
                        .values(vcpus_used=2, running_vms=2))
    assert used(scheduler)["b"] == (0, 0)  # not read again yet
    scheduler.view.drop()
    assert used(scheduler) == {"a": (0, 0), "b": (2, 2)}


def test_a_disabled_service_applies_at_once_through_the_fanout(scheduler):
    assert {h.host for h in scheduler.view.get() if not h.service_disabled} == {"a", "b"}
    with scheduler.services_db.transaction() as session:
        session.execute(sa.update(ServiceRecord).where(ServiceRecord.host == "a").values(disabled=True))
    scheduler.host_states_changed(None)  # what the API fans out after the change
    assert {h.host for h in scheduler.view.get() if not h.service_disabled} == {"b"}


def test_age_zero_reads_every_time(scheduler):
    scheduler.conf.set_override("host_state_max_age", 0, group="scheduler")
    scheduler.view.charge("a", "a", spec(), "server-1")  # would show, were the view kept
    assert used(scheduler)["a"] == (0, 0)
