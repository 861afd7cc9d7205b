"""Networking quotas over HTTP: administrators set them, projects read theirs, creates stop at them."""

from __future__ import annotations

import concurrent.futures

import pytest
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import member_of_new_project, neutron


def test_quotas_are_set_read_enforced_and_reset(conn, cloud):
    project, tenant = member_of_new_project(conn, "quota-tenant")
    conn.network.update_quota(project.id, networks=1, security_group_rules=7)
    quota = tenant.network.get_quota(project.id)
    assert quota.networks == 1 and quota.security_group_rules == 7 and quota.ports == 500
    first = tenant.network.create_network(name="q1")
    over = neutron(cloud, tenant, "POST", "/networks", json={"network": {"name": "q2"}})
    assert over.status_code == 409 and over.json()["NeutronError"]["type"] == "OverQuota"
    assert "network" in over.json()["NeutronError"]["message"]
    details = neutron(cloud, tenant, "GET", f"/quotas/{project.id}/details").json()["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    denied = neutron(cloud, tenant, "PUT", f"/quotas/{project.id}", json={"quota": {"network": 50}})
    assert denied.status_code == 403
    assert neutron(cloud, tenant, "GET", "/quotas/someone-else").status_code == 403
    bad = neutron(cloud, conn, "PUT", f"/quotas/{project.id}", json={"quota": {"widgets": 5}})
    assert bad.status_code == 400 and "widgets" in bad.text
    assert project.id in [q["project_id"] for q in neutron(cloud, conn, "GET", "/quotas").json()["quotas"]]
    conn.network.delete_quota(project.id)
    assert tenant.network.get_quota(project.id).networks == 100
    tenant.network.delete_network(first)
    tenant.close()


def test_parallel_creates_stop_exactly_at_the_quota(conn):
    project, tenant = member_of_new_project(conn, "quota-race")
    conn.network.update_quota(project.id, networks=3)

    def create(i):
        try:
            return tenant.network.create_network(name=f"race-{i}").id
        except sdk_exceptions.ConflictException:
            return None

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        created = [made for made in pool.map(create, range(8)) if made]
    assert len(created) == 3
    assert len([n for n in tenant.network.networks() if n.project_id == project.id]) == 3
    for network in created:
        tenant.network.delete_network(network)
    tenant.close()


@pytest.mark.parametrize("resource", ["subnet", "port", "router", "floatingip", "security_group"])
def test_every_resource_has_a_default_quota(conn, cloud, resource):
    assert neutron(cloud, conn, "GET", "/quotas/any-project/default").json()["quota"][resource] >= 10
