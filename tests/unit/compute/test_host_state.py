"""Compute hosts read and write compute's state only through a conductor: the same
operations answer the same in-process and over RPC, and nothing else is dispatched."""

from __future__ import annotations

import datetime

import pytest

from stratus.compute import models, states
from stratus.compute.conductor import Conductor
from stratus.compute.host_state import OPERATIONS, HostState, RemoteHostState
from stratus.compute.topics import HOST_STATE_TOPIC
from stratus.db import migration
from stratus.db.engine import Database
from stratus.exceptions import Invalid
from stratus.rpc import RPCClient, Transport

NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@pytest.fixture
def shapes(conf, tmp_path):
    conf.set_override("connection", f"sqlite:///{tmp_path}/state.sqlite", group="database")
    migration.sync(conf, ["compute", "servicegroup"])
    db = Database.for_service(conf, "compute")
    transport = Transport("memory://")
    conductor = Conductor(conf, db, transport, "c1")
    conductor.start()
    client = RPCClient(transport, HOST_STATE_TOPIC)
    yield db, HostState(conf, db, conductor.registry), RemoteHostState(client)
    client.close()
    conductor.stop()
    db.dispose()


def add(db, uuid, **values):
    row = dict(uuid=uuid, project_id="p", user_id="u", display_name=uuid, hostname=uuid,
               flavor={"id": "1", "vcpus": 1, "ram": 64, "disk": 1}, vm_state=states.ACTIVE, task_state=None,
               power_state=1, host="h1", node="h1", reservation_id="r", tried_hosts=[], request_spec={},
               requested_networks=[], security_groups=[], network_info=[], created_at=NOW, updated_at=NOW,
               deleted=False)
    with db.transaction() as session:
        session.add(models.Instance(**{**row, **values}))


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "through-the-conductor"])
def test_the_operations_answer_the_same_in_both_shapes(shapes, remote):
    db, local, far = shapes
    state = far if remote else local
    add(db, "a", task_state="pausing", metadata_items=[models.InstanceMetadata(key="k", value="v")])
    found = state.instance(None, uuid="a", with_metadata=True)
    assert found["uuid"] == "a" and found["metadata"] == {"k": "v"} and isinstance(found["created_at"], str)
    # a step's begin reads the row its own way: the same columns and values
    assert state.begin(None, uuid="a", event="compute_x", host="h1") == \
        {"instance": {k: v for k, v in found.items() if k != "metadata"}, "event": None}
    assert state.busy(None, host="h1") == [["a", states.ACTIVE, "pausing"]]
    # compare-and-set: a task that moved on is not overwritten
    assert not state.update(None, uuid="a", values={"task_state": None}, where={"task_state": "unpausing"})
    assert state.update(None, uuid="a", values={"task_state": None, "vm_state": states.PAUSED},
                        where={"task_state": "pausing"}, stamp=["launched_at"])
    assert state.instance(None, uuid="a")["launched_at"] is not None
    assert state.settled(None, host="h1", vm_states=[states.PAUSED]) == [["a", states.PAUSED, 1]]
    assert state.fault(None, uuid="a", values={"vm_state": states.ERROR}, message="Failed to x instance: y",
                       details="E: y", host="h1", tasks=[None])
    with db.reading() as session:
        assert [f.message for f in session.get(models.Instance, "a").faults] == ["Failed to x instance: y"]
    assert state.finish_delete(None, uuid="a") and state.instance(None, uuid="a") is None
    assert not state.update(None, uuid="a", values={"task_state": "x"})  # a deleted server stays deleted


def test_the_conductor_runs_nothing_but_the_operations(shapes):
    _, _, far = shapes
    with pytest.raises(Invalid, match="no host state operation"):
        far.conductor.call(None, "host_state", operation="__init__", args={})
    with pytest.raises(AttributeError):
        far.not_an_operation  # noqa: B018
    assert "instance" in OPERATIONS and "update" in OPERATIONS


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "through-the-conductor"])
def test_a_build_starts_only_on_its_host_and_a_delete_asked_meanwhile_ends_it(shapes, remote):
    db, local, far = shapes
    state = far if remote else local
    add(db, "b", vm_state=states.BUILDING, task_state=states.SCHEDULING,
        metadata_items=[models.InstanceMetadata(key="k", value="v")])
    assert state.start_build(None, uuid="b", host="h2") is None  # placed elsewhere
    started = state.start_build(None, uuid="b", host="h1")
    shown = state.instance(None, uuid="b", with_metadata=True)
    assert started == {**shown, "event": None} and started["task_state"] == states.NETWORKING
    assert started["metadata"] == {"k": "v"} and started["updated_at"] > NOW.isoformat()
    add(db, "c", vm_state=states.BUILDING, task_state=states.DELETING)
    assert state.start_build(None, uuid="c", host="h1") is None
    with db.reading() as session:
        gone = session.get(models.Instance, "c")
        assert gone.deleted and gone.vm_state == states.DELETED
