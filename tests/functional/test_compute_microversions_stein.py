"""Per-microversion behaviour of the compute API from 2.61 to 2.75, each boundary checked
on both sides over raw HTTP, and through openstacksdk and the CLI where they use it."""

from __future__ import annotations

import json

import pytest

from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.servers import openstack
from tests.functional.test_compute_servers import CONFIG, boot, image, network, nova, wait_status

HOSTS = ["stratus-0001", "stratus-0002"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[DEFAULT]\nhost = stratus\n" + CONFIG + "simulated_hosts = 2\n",
                         defaults=False)
    yield server
    server.stop()


def server_body(conn, **extra):
    return {"server": {"name": "versioned", "imageRef": image(conn).id, "flavorRef": "42", "networks": "none",
                       **extra}}


def made(cloud, conn, version, **extra):
    answer = nova(cloud, conn, "POST", "/servers", version, json=server_body(conn, **extra))
    assert answer.status_code == 202, answer.text
    return wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")


def show(cloud, conn, server, version):
    return nova(cloud, conn, "GET", f"/servers/{server.id}", version).json()["server"]


def test_flavor_extra_specs_in_flavors_from_2_61_for_those_who_may_read_them(conn, cloud):
    flavor = conn.compute.create_flavor(name="specced", ram=64, vcpus=1, disk=1)
    try:
        conn.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "shared"})
        assert "extra_specs" not in nova(cloud, conn, "GET", f"/flavors/{flavor.id}", "2.60").json()["flavor"]
        assert nova(cloud, conn, "GET", f"/flavors/{flavor.id}", "2.61").json()["flavor"]["extra_specs"] == {
            "hw:cpu_policy": "shared"}
        detail = nova(cloud, conn, "GET", "/flavors/detail", "2.61").json()["flavors"]
        assert next(f for f in detail if f["id"] == flavor.id)["extra_specs"] == {"hw:cpu_policy": "shared"}
        assert "extra_specs" not in nova(cloud, conn, "GET", "/flavors", "2.61").json()["flavors"][0]
    finally:
        conn.compute.delete_flavor(flavor)


def test_trusted_certificates_from_2_63_are_refused_without_signature_verification(conn, cloud):
    early = nova(cloud, conn, "POST", "/servers", "2.62", json=server_body(conn, trusted_image_certificates=["a"]))
    assert early.status_code == 400 and "'trusted_image_certificates' was unexpected" in early.text
    refused = nova(cloud, conn, "POST", "/servers", "2.63", json=server_body(conn, trusted_image_certificates=["a"]))
    assert refused.status_code == 400 and "Image certificate validation is not enabled" in refused.text
    server = made(cloud, conn, "2.63", trusted_image_certificates=None)
    assert show(cloud, conn, server, "2.63")["trusted_image_certificates"] is None
    assert "trusted_image_certificates" not in show(cloud, conn, server, "2.62")
    conn.compute.delete_server(server)


def test_server_groups_shown_from_2_71_and_lock_reasons_from_2_73(conn, cloud):
    group = nova(cloud, conn, "POST", "/os-server-groups", "2.64",
                 json={"server_group": {"name": "spread", "policy": "anti-affinity"}}).json()["server_group"]
    answer = nova(cloud, conn, "POST", "/servers", "2.71", json={**server_body(conn),
                                                                  "os:scheduler_hints": {"group": group["id"]}})
    server = wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")
    assert show(cloud, conn, server, "2.71")["server_groups"] == [group["id"]]
    assert "server_groups" not in show(cloud, conn, server, "2.70")
    renamed = nova(cloud, conn, "PUT", f"/servers/{server.id}", "2.71", json={"server": {"name": "renamed"}})
    assert renamed.json()["server"]["server_groups"] == [group["id"]]
    action = f"/servers/{server.id}/action"
    early = nova(cloud, conn, "POST", action, "2.72", json={"lock": {"locked_reason": "maintenance"}})
    assert early.status_code == 400 and "locked_reason" in early.text
    assert nova(cloud, conn, "POST", action, "2.73", json={"lock": {"locked_reason": "maintenance"}}).status_code == 202
    shown = show(cloud, conn, server, "2.73")
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance"
    assert "locked_reason" not in show(cloud, conn, server, "2.72")
    other = made(cloud, conn, "2.73")
    locked = nova(cloud, conn, "GET", "/servers?locked=true", "2.73").json()["servers"]
    assert [s["id"] for s in locked] == [server.id]
    unlocked = nova(cloud, conn, "GET", "/servers/detail?locked=false&sort_key=locked", "2.73").json()["servers"]
    assert other.id in [s["id"] for s in unlocked] and server.id not in [s["id"] for s in unlocked]
    assert nova(cloud, conn, "GET", "/servers?sort_key=locked", "2.72").status_code == 400
    assert nova(cloud, conn, "POST", action, "2.73", json={"unlock": None}).status_code == 202
    assert show(cloud, conn, server, "2.73")["locked_reason"] is None
    for gone in (server, other):
        conn.compute.delete_server(gone)


def test_a_requested_host_from_2_74_still_passes_the_filters(conn, cloud):
    early = nova(cloud, conn, "POST", "/servers", "2.73", json=server_body(conn, host=HOSTS[1]))
    assert early.status_code == 400 and "'host' was unexpected" in early.text
    for _ in range(2):
        assert made(cloud, conn, "2.74", host=HOSTS[1]).compute_host == HOSTS[1]
    assert made(cloud, conn, "2.74", hypervisor_hostname=HOSTS[0]).compute_host == HOSTS[0]
    unknown = nova(cloud, conn, "POST", "/servers", "2.74", json=server_body(conn, host="nowhere"))
    assert unknown.status_code == 400 and "Compute host nowhere could not be found" in unknown.text
    service = next(s for s in conn.compute.services() if s.host == HOSTS[1])
    conn.compute.disable_service(service)
    try:
        refused = nova(cloud, conn, "POST", "/servers", "2.74", json=server_body(conn, host=HOSTS[1]))
        failed = wait_status(conn, conn.compute.get_server(refused.json()["server"]["id"]), "ERROR")
        assert "ComputeFilter removed 1 of 1" in failed.fault["details"]
    finally:
        conn.compute.enable_service(service)
    _, member = member_of_new_project(conn, "host-chooser")
    try:
        forbidden = nova(cloud, member, "POST", "/servers", "2.74", json=server_body(conn, host=HOSTS[1]))
        assert forbidden.status_code == 403
    finally:
        member.close()
    for server in conn.compute.servers():
        conn.compute.delete_server(server)


def test_2_75_refuses_unknown_list_parameters_and_keeps_views_whole(conn, cloud):
    assert nova(cloud, conn, "GET", "/servers?frobnicate=1", "2.74").status_code == 200
    unknown = nova(cloud, conn, "GET", "/servers?frobnicate=1", "2.75")
    assert unknown.status_code == 400 and "frobnicate" in unknown.text
    flavor = conn.compute.create_flavor(name="no-swap", ram=64, vcpus=1, disk=1)
    try:
        assert nova(cloud, conn, "GET", f"/flavors/{flavor.id}", "2.74").json()["flavor"]["swap"] == ""
        assert nova(cloud, conn, "GET", f"/flavors/{flavor.id}", "2.75").json()["flavor"]["swap"] == 0
    finally:
        conn.compute.delete_flavor(flavor)
    empty = [h for h in nova(cloud, conn, "GET", "/os-hypervisors?with_servers=true", "2.75").json()["hypervisors"]
             if h["state"] == "up"]
    assert all(h["servers"] == [] for h in empty)
    assert all("servers" not in h for h in nova(cloud, conn, "GET", "/os-hypervisors?with_servers=true",
                                                  "2.74").json()["hypervisors"])
    server = made(cloud, conn, "2.75")
    renamed = nova(cloud, conn, "PUT", f"/servers/{server.id}", "2.75", json={"server": {"name": "whole"}})
    shown = show(cloud, conn, server, "2.75")
    assert set(renamed.json()["server"]) == set(shown)
    rebuilt = nova(cloud, conn, "POST", f"/servers/{server.id}/action", "2.75",
                   json={"rebuild": {"imageRef": image(conn).id}}).json()["server"]
    # the whole view, but never the user data of the extended attributes (Nova's rebuild answer)
    assert set(rebuilt) - {"adminPass", "user_data"} == set(shown) - {"OS-EXT-SRV-ATTR:user_data"}
    conn.compute.delete_server(server)


def test_filters_everyone_may_use_and_those_only_administrators_may(conn, cloud):
    image(conn)  # the administrator makes the public image the member boots: a member may not
    _, member = member_of_new_project(conn, "filterer")
    try:
        server = boot(member, "mine", flavor="m1.nano")
        # host is an administrator's filter: a member's is dropped, as Nova does
        mine = nova(cloud, member, "GET", "/servers?host=no-such-host", "2.75").json()["servers"]
        assert [s["id"] for s in mine] == [server.id]
        assert nova(cloud, conn, "GET", "/servers?all_tenants=1&host=no-such-host", "2.75").json()["servers"] == []
        shown = nova(cloud, conn, "GET", f"/servers?all_tenants=1&uuid={server.id}", "2.75").json()["servers"]
        assert [s["id"] for s in shown] == [server.id]
        by_zone = nova(cloud, conn, "GET", "/servers?all_tenants=1&availability_zone=^nova$", "2.75").json()
        assert server.id in [s["id"] for s in by_zone["servers"]]
        assert nova(cloud, conn, "GET", "/servers?all_tenants=1&availability_zone=^elsewhere$",
                    "2.75").json()["servers"] == []
        assert server.id not in [s["id"] for s in nova(cloud, conn, "GET", "/servers?all_tenants=1&vm_state=stopped",
                                                       "2.75").json()["servers"]]
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=30)
    finally:
        member.close()


def test_the_cli_locks_with_a_reason_at_the_new_maximum(conn, cloud):
    net = network(conn, "cli-net-275", "10.91.0.0/24")
    shown = json.loads(openstack(cloud.clouds_yaml, "server", "create", "--image", image(conn).name, "--flavor",
                                 "m1.nano", "--network", net.id, "--wait", "cli-lock", "-f", "json"))
    openstack(cloud.clouds_yaml, "server", "lock", "--reason", "hands off", "cli-lock")
    after = json.loads(openstack(cloud.clouds_yaml, "server", "show", "cli-lock", "-f", "json"))
    assert after["locked_reason"] == "hands off" and after["id"] == shown["id"]
    assert json.loads(openstack(cloud.clouds_yaml, "server", "list", "--locked", "-f", "json"))[0]["ID"] == shown["id"]
    openstack(cloud.clouds_yaml, "server", "unlock", "cli-lock")
    openstack(cloud.clouds_yaml, "server", "delete", "--wait", "cli-lock")
