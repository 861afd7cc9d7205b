"""Per-microversion behaviour of the compute API from 2.76 to 2.100, each boundary checked
on both sides over raw HTTP, and through openstacksdk and the CLI where they use it."""

from __future__ import annotations

import json

import pytest

from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.servers import openstack
from tests.functional.test_compute_servers import CONFIG, image, nova, wait_status

ACTIVE_WAIT = 60


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[DEFAULT]\nhost = stratus\n" + CONFIG, defaults=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def member(conn):
    _, connection = member_of_new_project(conn, "later-member")
    yield connection
    connection.close()


def create(cloud, conn, version, **extra):
    answer = nova(cloud, conn, "POST", "/servers", version, json={"server": {
        "name": extra.pop("name", "later"), "imageRef": image(conn).id, "flavorRef": extra.pop("flavorRef", "42"),
        "networks": "none", **extra}})
    assert answer.status_code == 202, answer.text
    return wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")


def show(cloud, conn, server, version):
    return nova(cloud, conn, "GET", f"/servers/{server.id}", version).json()["server"]


def test_power_update_events_from_2_76(conn, cloud):
    server = create(cloud, conn, "2.76")
    event = {"events": [{"name": "power-update", "server_uuid": server.id, "tag": "POWER_OFF"}]}
    early = nova(cloud, conn, "POST", "/os-server-external-events", "2.75", json=event)
    assert early.status_code == 400 and "2.76" in early.text
    untagged = nova(cloud, conn, "POST", "/os-server-external-events", "2.76",
                    json={"events": [{"name": "power-update", "server_uuid": server.id}]})
    assert untagged.status_code == 207 and untagged.json()["events"][0]["code"] == 400
    sent = nova(cloud, conn, "POST", "/os-server-external-events", "2.76", json=event)
    assert sent.status_code == 200, sent.text
    stopped = wait_status(conn, server, "SHUTOFF")
    assert stopped.power_state == 4
    assert "stop" in [a["action"] for a in nova(cloud, conn, "GET", f"/servers/{server.id}/os-instance-actions",
                                                 "2.76").json()["instanceActions"]]
    conn.compute.delete_server(server)


def test_topology_from_2_78(conn, cloud, member):
    flavor = conn.compute.create_flavor(name="numa", ram=128, vcpus=2, disk=1, is_public=True)
    try:
        conn.compute.create_flavor_extra_specs(flavor, {"hw:numa_nodes": "2"})
        plain = create(cloud, member, "2.78")
        assert nova(cloud, member, "GET", f"/servers/{plain.id}/topology", "2.77").status_code == 404
        assert nova(cloud, member, "GET", f"/servers/{plain.id}/topology", "2.78").json() == {
            "nodes": [], "pagesize_kb": None}
        numa = create(cloud, member, "2.78", flavorRef=flavor.id)
        mine = nova(cloud, member, "GET", f"/servers/{numa.id}/topology", "2.78").json()
        assert mine["nodes"] == [{"vcpu_set": [0], "siblings": [], "memory_mb": 64},
                                 {"vcpu_set": [1], "siblings": [], "memory_mb": 64}]
        admin = nova(cloud, conn, "GET", f"/servers/{numa.id}/topology", "2.78").json()
        assert [(n["host_node"], n["cpu_pinning"]) for n in admin["nodes"]] == [(0, {}), (1, {})]
        for server in (plain, numa):
            member.compute.delete_server(server)
            member.compute.wait_for_delete(server, wait=30)
    finally:
        conn.compute.delete_flavor(flavor)


def test_more_filters_for_everyone_from_2_83(conn, cloud, member):
    image(conn)  # the public image is the administrator's to make (alone, this test would ask the member)
    server = create(cloud, member, "2.83")
    elsewhere = "/servers?availability_zone=^nowhere$"
    assert [s["id"] for s in nova(cloud, member, "GET", elsewhere, "2.82").json()["servers"]] == [server.id]
    assert nova(cloud, member, "GET", elsewhere, "2.83").json()["servers"] == []
    assert [s["id"] for s in nova(cloud, member, "GET", "/servers?vm_state=active", "2.83").json()["servers"]] == [
        server.id]
    member.compute.delete_server(server)
    member.compute.wait_for_delete(server, wait=30)


def test_extra_specs_are_validated_from_2_86(conn, cloud):
    flavor = conn.compute.create_flavor(name="validated", ram=64, vcpus=1, disk=1)
    path = f"/flavors/{flavor.id}/os-extra_specs"
    try:
        assert nova(cloud, conn, "POST", path, "2.85", json={"extra_specs": {"hw:cpu_policy": "fast"}}).ok
        for bad, words in (({"hw:cpu_policy": "fast"}, "is not one of: dedicated, shared, mixed"),
                           ({"hw:invented": "1"}, "does not appear to be a valid extra spec"),
                           ({"hw:numa_nodes": "zero"}, "not a valid integer"),
                           ({"trait:HW_CPU_X86_AVX2": "maybe"}, "required, forbidden")):
            refused = nova(cloud, conn, "POST", path, "2.86", json={"extra_specs": bad})
            assert refused.status_code == 400 and words in refused.text, refused.text
        fine = {"hw:cpu_policy": "dedicated", "company:rack": "r12", "aggregate_instance_extra_specs:ssd": "true",
                "resources:VCPU": "2", "hide_hypervisor_id": "true"}
        assert nova(cloud, conn, "POST", path, "2.86", json={"extra_specs": fine}).ok
        assert nova(cloud, conn, "PUT", f"{path}/hw:numa_nodes", "2.86", json={"hw:numa_nodes": "0"}).status_code \
            == 400
    finally:
        conn.compute.delete_flavor(flavor)


def test_hypervisors_lose_usage_and_gain_uptime_at_2_88(conn, cloud):
    (before,) = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.87").json()["hypervisors"]
    (after,) = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.88").json()["hypervisors"]
    assert "vcpus" in before and "uptime" not in before
    assert not {"vcpus", "memory_mb", "local_gb", "cpu_info", "running_vms", "free_ram_mb"} & set(after)
    assert " up " in after["uptime"] and "load average" in after["uptime"]
    assert nova(cloud, conn, "GET", "/os-hypervisors/statistics", "2.87").ok
    assert nova(cloud, conn, "GET", "/os-hypervisors/statistics", "2.88").status_code == 404
    assert nova(cloud, conn, "GET", f"/os-hypervisors/{after['id']}/uptime", "2.88").status_code == 404
    shown = nova(cloud, conn, "GET", f"/os-hypervisors/{after['id']}", "2.88").json()["hypervisor"]
    assert "load average" in shown["uptime"]
    cli = json.loads(openstack(cloud.clouds_yaml, "hypervisor", "show", after["hypervisor_hostname"], "-f", "json"))
    assert cli["hypervisor_hostname"] == after["hypervisor_hostname"] and cli["load_average"]


def test_hostnames_from_2_90_and_fqdns_from_2_94(conn, cloud, member):
    early = nova(cloud, member, "POST", "/servers", "2.89", json={"server": {
        "name": "x", "imageRef": image(conn).id, "flavorRef": "42", "networks": "none", "hostname": "box"}})
    assert early.status_code == 400 and "'hostname' was unexpected" in early.text
    server = create(cloud, member, "2.90", name="Web Server", hostname="web-01")
    assert show(cloud, member, server, "2.90")["OS-EXT-SRV-ATTR:hostname"] == "web-01"
    assert "OS-EXT-SRV-ATTR:hostname" not in show(cloud, member, server, "2.89")  # administrators' until 2.90
    renamed = nova(cloud, member, "PUT", f"/servers/{server.id}", "2.90", json={"server": {"name": "Renamed"}})
    assert renamed.json()["server"]["OS-EXT-SRV-ATTR:hostname"] == "web-01"
    changed = nova(cloud, member, "PUT", f"/servers/{server.id}", "2.90", json={"server": {"hostname": "web-02"}})
    assert changed.json()["server"]["OS-EXT-SRV-ATTR:hostname"] == "web-02"
    for version, name in (("2.90", "web.example.com"), ("2.90", "x"), ("2.94", "bad name")):
        refused = nova(cloud, member, "PUT", f"/servers/{server.id}", version, json={"server": {"hostname": name}})
        assert refused.status_code == 400 and "hostname" in refused.text
    fqdn = nova(cloud, member, "PUT", f"/servers/{server.id}", "2.94",
                json={"server": {"hostname": "web.example.com"}})
    assert fqdn.json()["server"]["OS-EXT-SRV-ATTR:hostname"] == "web.example.com"
    several = nova(cloud, member, "POST", "/servers", "2.90", json={"server": {
        "name": "many", "imageRef": image(conn).id, "flavorRef": "42", "networks": "none", "hostname": "same",
        "min_count": 2}})
    assert several.status_code == 400 and "single hostname to multiple instances" in several.text
    member.compute.delete_server(server)
    member.compute.wait_for_delete(server, wait=30)


def test_key_pairs_are_imported_only_from_2_92(conn, cloud, member):
    generated = nova(cloud, member, "POST", "/os-keypairs", "2.91", json={"keypair": {"name": "made"}})
    assert generated.status_code == 201 and "private_key" in generated.json()["keypair"]
    refused = nova(cloud, member, "POST", "/os-keypairs", "2.92", json={"keypair": {"name": "made-too"}})
    assert refused.status_code == 400 and "public_key" in refused.text
    public = generated.json()["keypair"]["public_key"]
    assert nova(cloud, member, "POST", "/os-keypairs", "2.91",
                json={"keypair": {"name": "me@host.example", "public_key": public}}).status_code == 400
    imported = nova(cloud, member, "POST", "/os-keypairs", "2.92",
                    json={"keypair": {"name": "me@host.example", "public_key": public}})
    assert imported.status_code == 201, imported.text
    for name in ("made", "me@host.example"):
        member.compute.delete_keypair(name)


def test_pinned_zone_image_properties_and_hints_from_2_96_to_2_100(conn, cloud):
    props = conn.image.create_image(name="with-props", disk_format="raw", container_format="bare",
                                    data=b"\0" * 4096, os_distro="debian", visibility="public")
    answer = nova(cloud, conn, "POST", "/servers", "2.100", json={
        "server": {"name": "pinned", "imageRef": props.id, "flavorRef": "42", "networks": "none",
                   "availability_zone": "nova"},
        "os:scheduler_hints": {"different_host": []}})
    pinned = wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")
    free = create(cloud, conn, "2.96")
    assert show(cloud, conn, pinned, "2.96")["pinned_availability_zone"] == "nova"
    assert show(cloud, conn, free, "2.96")["pinned_availability_zone"] is None
    assert "pinned_availability_zone" not in show(cloud, conn, pinned, "2.95")
    assert show(cloud, conn, pinned, "2.98")["image"]["properties"]["os_distro"] == "debian"
    assert "properties" not in show(cloud, conn, pinned, "2.97")["image"]
    assert show(cloud, conn, pinned, "2.100")["scheduler_hints"] == {"different_host": []}
    assert show(cloud, conn, free, "2.100")["scheduler_hints"] == {}
    assert "scheduler_hints" not in show(cloud, conn, pinned, "2.99")
    sdk = conn.compute.get_server(pinned.id)  # openstacksdk negotiates 2.100 and reads it
    assert sdk.pinned_availability_zone == "nova"
    for server in (pinned, free):
        conn.compute.delete_server(server)


def test_the_cli_sets_a_hostname_at_the_new_maximum(conn, cloud):
    made = json.loads(openstack(cloud.clouds_yaml, "server", "create", "--image", image(conn).name, "--flavor",
                                "m1.nano", "--no-network", "--hostname", "cli-host", "--wait", "cli-named", "-f",
                                "json"))
    shown = json.loads(openstack(cloud.clouds_yaml, "server", "show", made["id"], "-f", "json"))
    assert shown["OS-EXT-SRV-ATTR:hostname"] == "cli-host" and shown["status"] == "ACTIVE"
    openstack(cloud.clouds_yaml, "server", "delete", "--wait", made["id"])
