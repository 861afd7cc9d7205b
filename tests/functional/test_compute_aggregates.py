"""Host aggregates and the availability zones they make, over HTTP with openstacksdk, the
CLI and raw requests: Nova's rules for zones, the aggregate filters, forced hosts."""

from __future__ import annotations

import json

import pytest

from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.servers import openstack
from tests.functional.test_compute_servers import CONFIG, boot, image, nova, wait_status

HOSTS = ["stratus-0001", "stratus-0002", "stratus-0003"]
FILTERS = ("ComputeFilter,AvailabilityZoneFilter,AggregateInstanceExtraSpecsFilter,AggregateMultiTenancyIsolation,"
           "RamFilter,CoreFilter,DiskFilter")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[DEFAULT]\nhost = stratus\n" + CONFIG + "simulated_hosts = 3\n"
                         f"[scheduler]\nenabled_filters = {FILTERS}\n", defaults=False)
    yield server
    server.stop()


@pytest.fixture
def fresh(conn):
    """Every aggregate a test makes is emptied and deleted after it, whatever happened."""
    yield
    for server in conn.compute.servers():
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=30)
    for aggregate in conn.compute.aggregates():
        for host in aggregate.hosts or []:
            conn.compute.remove_host_from_aggregate(aggregate, host)
        conn.compute.delete_aggregate(aggregate)


def cli(cloud, *args):
    return openstack(cloud.clouds_yaml, *args)


def test_cli_makes_a_zone_that_services_hypervisors_and_zones_show(conn, cloud, fresh):
    made = json.loads(cli(cloud, "aggregate", "create", "--zone", "az1", "fast", "-f", "json"))
    assert made["availability_zone"] == "az1" and made["name"] == "fast"
    cli(cloud, "aggregate", "add", "host", "fast", HOSTS[0])
    cli(cloud, "aggregate", "set", "--property", "ssd=true", "fast")
    shown = json.loads(cli(cloud, "aggregate", "show", "fast", "-f", "json"))
    assert shown["hosts"] == [HOSTS[0]] and shown["properties"] == {"ssd": "true"}
    assert {a["Name"] for a in json.loads(cli(cloud, "aggregate", "list", "-f", "json"))} == {"fast"}
    zones = {z["Zone Name"]: z["Zone Status"] for z in json.loads(cli(cloud, "availability", "zone", "list",
                                                                       "--compute", "-f", "json"))}
    # the conductor is in the internal zone; Nova shows it to administrators too
    assert zones == {"az1": "available", "nova": "available", "internal": "available"}
    hypervisor = json.loads(cli(cloud, "hypervisor", "show", HOSTS[0], "-f", "json"))
    assert hypervisor["aggregates"] == ["fast"]
    services = {s["Host"]: s["Zone"] for s in json.loads(cli(cloud, "compute", "service", "list", "-f", "json"))}
    assert services[HOSTS[0]] == "az1" and services[HOSTS[1]] == "nova"
    cli(cloud, "aggregate", "unset", "--property", "ssd", "fast")
    cli(cloud, "aggregate", "remove", "host", "fast", HOSTS[0])
    cli(cloud, "aggregate", "delete", "fast")
    assert json.loads(cli(cloud, "aggregate", "list", "-f", "json")) == []


def test_servers_go_to_the_zone_they_ask_and_show_the_zone_they_are_in(conn, cloud, fresh):
    zone = conn.compute.create_aggregate(name="zone-one", availability_zone="az1")
    conn.compute.add_host_to_aggregate(zone, HOSTS[1])
    for _ in range(2):
        server = boot(conn, "in-az1", flavor="m1.nano", availability_zone="az1")
        assert server.compute_host == HOSTS[1] and server.availability_zone == "az1"
    anywhere = boot(conn, "anywhere", flavor="m1.nano")
    assert anywhere.availability_zone == ("az1" if anywhere.compute_host == HOSTS[1] else "nova")
    unknown = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "nowhere", "imageRef": image(conn).id, "flavorRef": "42", "networks": [],
        "availability_zone": "az9"}})
    assert unknown.status_code == 400 and "availability zone is not available" in unknown.text
    # the zone of a host under servers does not change
    changed = nova(cloud, conn, "PUT", f"/os-aggregates/{zone.id}", json={"aggregate": {"availability_zone": "az2"}})
    assert changed.status_code == 400 and "contain instances" in changed.text
    removed = nova(cloud, conn, "POST", f"/os-aggregates/{zone.id}/action",
                   json={"remove_host": {"host": HOSTS[1]}})
    assert removed.status_code == 409 and "from 'az1' to 'nova'" in removed.text
    other = conn.compute.create_aggregate(name="zone-two", availability_zone="az2")
    twice = nova(cloud, conn, "POST", f"/os-aggregates/{other.id}/action", json={"add_host": {"host": HOSTS[1]}})
    assert twice.status_code == 409 and "already in availability zone(s) ['az1']" in twice.text
    assert conn.compute.get_aggregate(zone).hosts == [HOSTS[1]]


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("POST", "/os-aggregates", {"aggregate": {"name": " padded"}}, 400, "aggregate/name"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "z", "availability_zone": "a:b"}}, 400, "availability_zone"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "z", "extra": 1}}, 400, "extra"),
    ("GET", "/os-aggregates/abc", None, 400, "is not an integer"),
    ("GET", "/os-aggregates/9999", None, 404, "Aggregate 9999 could not be found"),
    ("PUT", "/os-aggregates/{id}", {"aggregate": {}}, 400, "aggregate"),
    ("POST", "/os-aggregates/{id}/action", {"add_host": {"host": "no-such-host"}}, 404, "no-such-host"),
    ("POST", "/os-aggregates/{id}/action", {"remove_host": {"host": HOSTS[2]}}, 404, "Cannot remove host"),
    ("POST", "/os-aggregates/{id}/action", {"set_metadata": {"metadata": {"bad/key": "x"}}}, 400, "bad/key"),
    ("POST", "/os-aggregates/{id}/action", {"set_metadata": {"metadata": {"availability_zone": ""}}}, 400,
     "empty named availability zone"),
    ("POST", "/os-aggregates/{id}/action", {"explode": {}}, 400, "add_host, remove_host or set_metadata"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "taken"}}, 409, "already exists"),
])
def test_bad_requests_change_nothing(conn, cloud, fresh, method, path, body, status, words):
    taken = conn.compute.create_aggregate(name="taken")
    answer = nova(cloud, conn, method, path.format(id=taken.id), **({"json": body} if body is not None else {}))
    assert answer.status_code == status and words in answer.text, answer.text
    assert [(a.name, a.hosts, a.metadata) for a in conn.compute.aggregates()] == [("taken", [], {})]


def test_a_non_empty_aggregate_stays_and_members_may_not_look(conn, cloud, fresh):
    grouped = conn.compute.create_aggregate(name="grouped")
    conn.compute.add_host_to_aggregate(grouped, HOSTS[2])
    again = nova(cloud, conn, "POST", f"/os-aggregates/{grouped.id}/action", json={"add_host": {"host": HOSTS[2]}})
    assert again.status_code == 409 and "already has host" in again.text
    refused = nova(cloud, conn, "DELETE", f"/os-aggregates/{grouped.id}")
    assert refused.status_code == 400 and "not empty" in refused.text
    _, member = member_of_new_project(conn, "aggregate-member")
    try:
        assert nova(cloud, member, "GET", "/os-aggregates").status_code == 403
        assert nova(cloud, member, "POST", "/os-aggregates", json={"aggregate": {"name": "mine"}}).status_code == 403
    finally:
        member.close()
    assert nova(cloud, conn, "GET", f"/os-aggregates/{grouped.id}", version="2.41").json()["aggregate"]["uuid"]
    assert "uuid" not in nova(cloud, conn, "GET", f"/os-aggregates/{grouped.id}").json()["aggregate"]


def test_flavor_extra_specs_pick_the_aggregate_and_projects_are_isolated(conn, cloud, fresh):
    fast = conn.compute.create_aggregate(name="fast")
    conn.compute.add_host_to_aggregate(fast, HOSTS[0])
    conn.compute.set_aggregate_metadata(fast, {"ssd": "true"})
    flavor = conn.compute.create_flavor(name="ssd-nano", ram=64, vcpus=1, disk=1)
    try:
        conn.compute.create_flavor_extra_specs(flavor, {"aggregate_instance_extra_specs:ssd": "true"})
        for _ in range(2):
            assert boot(conn, "wants-ssd", flavor="ssd-nano").compute_host == HOSTS[0]
        conn.compute.set_aggregate_metadata(fast, {"ssd": None})
        nowhere = boot(conn, "no-ssd-left", flavor="ssd-nano", wait=False)
        failed = wait_status(conn, nowhere, "ERROR")
        assert "AggregateInstanceExtraSpecsFilter removed 3 of 3 hosts" in failed.fault["details"]
    finally:
        conn.compute.delete_flavor(flavor)
    private = conn.compute.create_aggregate(name="private")
    for host in HOSTS[1:]:
        conn.compute.add_host_to_aggregate(private, host)
    conn.compute.set_aggregate_metadata(private, {"filter_tenant_id": "some-other-project"})
    placed = {boot(conn, f"isolated-{i}", flavor="m1.nano").compute_host for i in range(3)}
    assert placed == {HOSTS[0]}


def test_an_administrator_forces_a_host_past_the_filters(conn, cloud, fresh):
    service = next(s for s in conn.compute.services() if s.host == HOSTS[2])
    conn.compute.disable_service(service)
    try:
        server = boot(conn, "forced", flavor="m1.nano", availability_zone=f"nova:{HOSTS[2]}")
        assert server.compute_host == HOSTS[2]
        unknown = nova(cloud, conn, "POST", "/servers", json={"server": {
            "name": "lost", "imageRef": image(conn).id, "flavorRef": "42", "networks": [],
            "availability_zone": "nova:no-such-host"}})
        assert unknown.status_code == 400 and "Compute host no-such-host could not be found" in unknown.text
        _, member = member_of_new_project(conn, "forcing-member")
        try:
            refused = nova(cloud, member, "POST", "/servers", json={"server": {
                "name": "pushy", "imageRef": image(conn).id, "flavorRef": "42", "networks": [],
                "availability_zone": f"nova:{HOSTS[2]}"}})
            assert refused.status_code == 403
        finally:
            member.close()
    finally:
        conn.compute.enable_service(service)


def test_disabling_hosts_applies_to_the_next_boot(conn, cloud, fresh):
    boot(conn, "warm-the-view", flavor="m1.nano")  # the conductor has read the hosts
    services = [s for s in conn.compute.services() if s.host in HOSTS[:2]]
    for service in services:
        conn.compute.disable_service(service)
    try:
        assert {boot(conn, f"only-third-{i}", flavor="m1.nano").compute_host for i in range(2)} == {HOSTS[2]}
    finally:
        for service in services:
            conn.compute.enable_service(service)
