"""Creating servers without HTTP: the compute service's own step of POST /servers."""

from __future__ import annotations

import pytest

from stratus.compute import models, states
from stratus.compute.creating import ServerRequest, create_servers
from stratus.compute.service import ComputeService
from stratus.context import RequestContext
from stratus.db import migration
from stratus.exceptions import Forbidden
from stratus.rpc import Transport

FLAVOR = {"id": "1", "name": "tiny", "vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0, "swap": 0}


@pytest.fixture
def compute(conf):
    migration.sync(conf, ["compute", "servicegroup"])
    conf.set_override("quota_instances", 2, group="compute")
    service = ComputeService(conf, transport=Transport("memory://"))
    yield service
    service.close()


def rows(compute):
    with compute.db.reading() as session:
        return {r.display_name: r for r in session.query(models.Instance)}


def test_as_many_as_the_quota_takes_between_min_and_max(compute):
    ctx = RequestContext(user_id="u", project_id="p", roles=["member"])
    made = create_servers(compute, ctx, ServerRequest(name="web", flavor=FLAVOR, image_ref="img", min_count=1,
                                                      max_count=3, metadata={"k": "v"}, tags=["a", "a"]))
    assert len(made.ids) == 2 and made.reservation_id.startswith("r-")
    found = rows(compute)
    assert sorted(found) == ["web-1", "web-2"]
    assert all((r.vm_state, r.task_state, r.project_id, r.hostname) == (states.BUILDING, states.SCHEDULING, "p",
                                                                         r.display_name) for r in found.values())
    with compute.db.reading() as session:
        assert {a.action for a in session.query(models.InstanceAction)} == {"create"}


def test_nothing_is_written_when_not_even_min_count_fits(compute):
    ctx = RequestContext(user_id="u", project_id="p", roles=["member"])
    with pytest.raises(Forbidden):
        create_servers(compute, ctx, ServerRequest(name="big", flavor=FLAVOR, image_ref="img", min_count=3,
                                                   max_count=3))
    assert rows(compute) == {}
