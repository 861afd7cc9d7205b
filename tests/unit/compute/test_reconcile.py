"""A compute host's power-state sync and its recovery of tasks a restart cut short."""

from __future__ import annotations

import datetime

import pytest

from stratus.compute import models, states
from stratus.compute.host_state import HostState
from stratus.compute.manager import ComputeManager
from stratus.db import migration
from stratus.db.engine import Database
from stratus.interfaces.hypervisor import InstanceSpec, PowerState
from stratus.rpc import RPCClient, Transport

NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@pytest.fixture
def manager(conf):
    migration.sync(conf, ["compute"])
    db = Database.for_service(conf, "compute")
    transport = Transport("memory://")
    made = ComputeManager(conf, "h1", HostState(conf, db), None, None, RPCClient(transport, "conductor"))
    made.db = db  # what the tests arrange and read (the manager itself reaches it only through its state)
    yield made
    db.dispose()


def server(manager, uuid, vm_state=states.ACTIVE, power=PowerState.RUNNING, task=None, guest=True):
    with manager.db.transaction() as session:
        session.add(models.Instance(uuid=uuid, project_id="p", user_id="u", display_name=uuid, hostname=uuid,
                                    flavor={"id": "1", "vcpus": 1, "ram": 64, "disk": 1}, vm_state=vm_state,
                                    task_state=task, power_state=power, host="h1", node="h1", reservation_id="r",
                                    tried_hosts=[], request_spec={}, requested_networks=[], security_groups=[],
                                    network_info=[], created_at=NOW, updated_at=NOW, deleted=False))
    if guest:
        manager.driver.spawn(InstanceSpec(uuid=uuid, name=uuid, vcpus=1, memory_mb=64, root_gb=1), [], [])


def row(manager, uuid):
    with manager.db.reading() as session:
        instance = session.get(models.Instance, uuid)
        return instance.vm_state, instance.task_state, instance.power_state, [f.message for f in instance.faults]


def test_the_database_follows_the_hypervisor(manager):
    server(manager, "selfstop")
    server(manager, "stopped-but-running", vm_state=states.STOPPED, power=PowerState.SHUTDOWN)
    server(manager, "lost", guest=False)
    server(manager, "busy", task="pausing", guest=False)  # an action under way is not judged
    server(manager, "fine")
    manager.driver.power_off("selfstop")
    changed = manager.sync_power_states()
    assert set(changed) == {"selfstop", "stopped-but-running", "lost"}
    assert row(manager, "selfstop")[:3] == (states.STOPPED, None, PowerState.SHUTDOWN)
    assert row(manager, "stopped-but-running")[:3] == (states.STOPPED, None, PowerState.SHUTDOWN)
    assert manager.driver.get_info("stopped-but-running").power_state is PowerState.SHUTDOWN
    vm_state, _, power, faults = row(manager, "lost")
    assert (vm_state, power) == (states.ERROR, PowerState.NOSTATE) and "no longer has its guest" in faults[0]
    assert row(manager, "busy")[:2] == (states.ACTIVE, "pausing")
    assert row(manager, "fine")[:3] == (states.ACTIVE, None, PowerState.RUNNING)
    assert manager.sync_power_states() == {}  # settled: a second pass changes nothing


def test_interrupted_actions_are_finished(manager):
    server(manager, "paused-already", task="pausing")
    manager.driver.pause("paused-already")
    server(manager, "to-stop", task=states.POWERING_OFF)
    server(manager, "to-reboot", task="rebooting_hard")
    server(manager, "rebuilt", task=states.REBUILD_SPAWNING)
    server(manager, "resizing", task=states.RESIZE_PREP)
    done = manager.init_instances()
    assert set(done) == {"paused-already", "to-stop", "to-reboot", "rebuilt", "resizing"}
    assert row(manager, "paused-already")[:3] == (states.PAUSED, None, PowerState.PAUSED)
    assert row(manager, "to-stop")[:3] == (states.STOPPED, None, PowerState.SHUTDOWN)
    assert row(manager, "to-reboot")[:3] == (states.ACTIVE, None, PowerState.RUNNING)
    assert "hard reboot" in manager.driver.get_console_output("to-reboot")
    vm_state, task, _, faults = row(manager, "rebuilt")
    assert (vm_state, task) == (states.ERROR, None) and "interrupted by a restart of compute host h1" in faults[0]
    assert row(manager, "resizing")[:2] == (states.ACTIVE, None)


def test_a_delete_during_a_failing_rebuild_wins(manager, monkeypatch):
    server(manager, "rebuilt", task=states.REBUILDING)

    def spawn_while_deleted(*args, **kwargs):
        with manager.db.transaction() as session:  # the API's delete comes while the guest is made
            session.get(models.Instance, "rebuilt").task_state = states.DELETING
        raise RuntimeError("disk full")

    monkeypatch.setattr(manager.driver, "spawn", spawn_while_deleted)
    with pytest.raises(RuntimeError):
        manager.rebuild_instance(None, "rebuilt")
    assert row(manager, "rebuilt") == (states.ACTIVE, states.DELETING, PowerState.RUNNING, [])


def test_an_action_the_driver_cannot_do_ends_its_task_with_a_fault(manager):
    from stratus.interfaces.hypervisor import HypervisorCapability

    server(manager, "unpausable", task="pausing")
    manager.driver.capabilities = manager.driver.capabilities & ~HypervisorCapability.PAUSE
    manager.pause_instance(None, "unpausable")  # a host older than the API's check, or a cast in flight
    vm_state, task, _, faults = row(manager, "unpausable")
    assert (vm_state, task) == (states.ACTIVE, None) and "Failed to pause" in faults[0] and "PAUSE" in faults[0]


def test_a_build_whose_last_write_fails_ends_in_error_not_building(manager, monkeypatch):
    server(manager, "late-failure", vm_state=states.BUILDING, task=states.SCHEDULING, power=PowerState.NOSTATE,
           guest=False)
    update = manager.state.update

    def failing(context, uuid, values, **kwargs):
        if values.get("vm_state") == states.ACTIVE:  # the step that ends the build: a bug in its bookkeeping
            raise RuntimeError("the build's last write failed")
        return update(context, uuid, values, **kwargs)

    monkeypatch.setattr(manager.state, "update", failing)
    with pytest.raises(RuntimeError):
        manager.build_and_run_instance(None, "late-failure")
    vm_state, task, _, faults = row(manager, "late-failure")
    assert (vm_state, task) == (states.ERROR, None)
    assert faults == ["Failed to build instance: the build's last write failed"]
    assert manager.driver.get_info("late-failure").power_state is PowerState.RUNNING  # its delete takes it
