"""Builds on a host that stopped heartbeating do not stay in BUILD."""

from __future__ import annotations

import datetime

import pytest

from stratus.compute import claims, models, states
from stratus.compute.conductor import Conductor
from stratus.db import migration
from stratus.db.engine import Database
from stratus.rpc import Transport
from stratus.scheduler.service import SchedulerService
from stratus.servicegroup.models import ServiceRecord

NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
FLAVOR = {"id": "1", "vcpus": 1, "ram": 64, "disk": 1}


@pytest.fixture
def conductor(conf, tmp_path):
    conf.set_override("connection", f"sqlite:///{tmp_path}/reaper.sqlite", group="database")
    migration.sync(conf, ["compute", "servicegroup"])
    db = Database.for_service(conf, "compute")
    transport = Transport("memory://")
    scheduler = SchedulerService(conf, db, transport, "test")
    scheduler.start()
    made = Conductor(conf, db, transport, "test")
    yield made
    made.stop()
    scheduler.stop()
    db.dispose()


def _setup(conductor, tried):
    with conductor.services_db.transaction() as session:
        session.add(ServiceRecord(uuid="s", host="dead", binary="nova-compute", topic="compute", report_count=1,
                                  disabled=False, forced_down=False, created_at=NOW,
                                  last_seen_up=NOW - datetime.timedelta(hours=1)))
    with conductor.db.transaction() as session:
        node = models.ComputeNode(uuid="n", host="dead", nodename="dead", hypervisor_type="fake",
                                  hypervisor_version=1, vcpus=4, memory_mb=1024, local_gb=10, vcpus_used=0,
                                  memory_mb_used=0, local_gb_used=0, running_vms=0, cpu_allocation_ratio=1.0,
                                  ram_allocation_ratio=1.0, disk_allocation_ratio=1.0, cpu_info={}, created_at=NOW,
                                  updated_at=NOW)
        session.add(node)
        session.add(models.Instance(uuid="i", project_id="p", user_id="u", display_name="i", hostname="i",
                                    flavor=FLAVOR, vm_state=states.BUILDING, task_state=states.SPAWNING,
                                    host="dead", node="dead", reservation_id="r", tried_hosts=tried,
                                    request_spec={}, requested_networks=[], security_groups=[], network_info=[],
                                    created_at=NOW, updated_at=NOW, deleted=False))
        session.flush()
        assert claims.claim(session, node.id, "i", FLAVOR)


def _state(conductor):
    with conductor.db.transaction() as session:
        instance = session.get(models.Instance, "i")
        import sqlalchemy as sa

        node = session.scalars(sa.select(models.ComputeNode)).first()
        return instance.vm_state, instance.host, [f"{f.message} {f.details}" for f in instance.faults], \
            node.vcpus_used


def test_a_build_on_a_dead_host_is_rescheduled_and_fails_when_nothing_else_is_up(conductor):
    _setup(conductor, ["dead"])
    assert conductor.reap_builds() == ["i"]
    vm_state, host, faults, used = _state(conductor)
    assert (vm_state, host, used) == (states.ERROR, None, 0)
    assert "every known host was tried already (dead)" in faults[-1]  # rescheduling found nothing else


def test_a_build_that_tried_every_attempt_ends_in_error(conductor, conf):
    conf.set_override("max_attempts", 1, group="scheduler")
    _setup(conductor, ["dead"])
    conductor.reap_builds()
    vm_state, host, faults, used = _state(conductor)
    assert (vm_state, host, used) == (states.ERROR, None, 0)
    assert "went down while building" in faults[-1]
    assert conductor.reap_builds() == []  # nothing left to reap


def test_a_build_no_conductor_placed_is_placed_once(conductor, conf):
    import sqlalchemy as sa

    conf.set_override("rpc_response_timeout", 1, group="messaging")
    _setup(conductor, [])
    with conductor.services_db.transaction() as session:  # the host is up again
        session.execute(sa.update(ServiceRecord).values(last_seen_up=datetime.datetime.now(datetime.UTC)
                                                        .replace(tzinfo=None)))
    with conductor.db.transaction() as session:  # waiting for a host since before a restart
        instance = session.get(models.Instance, "i")
        claims.release(session, "i")
        instance.host = instance.node = None
        instance.task_state, instance.updated_at = states.SCHEDULING, NOW - datetime.timedelta(minutes=5)
    assert conductor.reap_builds() == ["i"]
    assert conductor.reap_builds() == []  # taken: not placed again while it is being placed
    vm_state, host, faults, used = _state(conductor)
    assert (vm_state, host, faults, used) == (states.BUILDING, "dead", [], 1)  # placed, claimed once
    conductor.build_instances(None, ["i"])  # a second cast of the same build claims nothing more
    assert _state(conductor)[3] == 1
