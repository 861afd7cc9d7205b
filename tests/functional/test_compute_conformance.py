"""Compute behaviour real clients trip on (the conformance issue), driven as a user would:
openstacksdk's auto_ip, the openstack CLI's quota and limits, deferred deletes, backups,
the proxy APIs before 2.36, the legacy v2 root."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.servers import openstack
from tests.functional.test_compute_servers import boot, nova

# deleted servers are kept (SOFT_DELETED) for 3 s before their host reclaims them
CONFIG = "[compute]\nresource_update_interval = 1\nreclaim_instance_interval = 3\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG)
    yield server
    server.stop()


def status_of(cloud, conn, server_id, version=None):
    answer = nova(cloud, conn, "GET", f"/servers/{server_id}", version)
    return answer.json()["server"]["status"] if answer.status_code == 200 else answer.status_code


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def external_network(conn):
    found = conn.network.find_network("public")
    if found:
        return found
    net = conn.network.create_network(name="public", is_router_external=True)
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="172.24.4.0/24", enable_dhcp=False)
    return net


def test_openstacksdk_auto_ip_finds_the_floating_ip_in_the_servers_addresses(conn):
    public = external_network(conn)
    private = conn.network.find_network("private", ignore_missing=False)
    router = conn.network.create_router(name="auto-ip-router", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet=private.subnet_ids[0])
    server = conn.create_server("auto-ip", image="tiny", flavor="m1.tiny", network="private", auto_ip=True,
                                wait=True, timeout=60)
    try:
        floating = [a for addresses in server.addresses.values() for a in addresses
                    if a.get("OS-EXT-IPS:type") == "floating"]
        assert len(floating) == 1 and conn.get_server(server.id).public_v4 == floating[0]["addr"]
        fip = conn.network.find_ip(floating[0]["addr"])
        assert fip.port_details["device_id"] == server.id  # fip-port-details
        conn.network.update_ip(fip, port_id=None)  # disassociated: it leaves the server's addresses
        wait_for(lambda: all(a.get("OS-EXT-IPS:type") != "floating" for addresses in
                             conn.compute.get_server(server.id).addresses.values() for a in addresses))
    finally:
        conn.delete_server(server.id, wait=True, delete_ips=True)
        conn.network.remove_interface_from_router(router, subnet=private.subnet_ids[0])
        conn.network.delete_router(router)


def test_openstack_cli_quota_and_limits_show(cloud, conn):
    quotas = json.loads(openstack(cloud.clouds_yaml, "quota", "show", "-f", "json"))
    rows = {row["Resource"]: row["Limit"] for row in quotas} if isinstance(quotas, list) else quotas
    assert rows["instances"] == 10 and rows["ports"] == 500
    limits = json.loads(openstack(cloud.clouds_yaml, "limits", "show", "--absolute", "-f", "json"))
    names = {row["Name"] for row in limits}
    assert {"max_total_instances", "total_cores_used", "max_total_floating_ips", "max_security_groups"} <= names


def test_quota_sets_keep_novas_network_fields_before_2_36(cloud, conn):
    project = conn.current_project_id
    old = nova(cloud, conn, "GET", f"/os-quota-sets/{project}", "2.35").json()["quota_set"]
    assert {"floating_ips", "fixed_ips", "security_groups", "security_group_rules"} <= set(old)
    new = nova(cloud, conn, "GET", f"/os-quota-sets/{project}", "2.36").json()["quota_set"]
    assert not {"floating_ips", "fixed_ips", "security_groups", "security_group_rules"} & set(new)
    refused = nova(cloud, conn, "PUT", f"/os-quota-sets/{project}", "2.36", json={"quota_set": {"floating_ips": 5}})
    assert refused.status_code == 400 and "floating_ips" in refused.text
    assert nova(cloud, conn, "PUT", f"/os-quota-sets/{project}", "2.35",
                json={"quota_set": {"floating_ips": 5}}).json()["quota_set"]["floating_ips"] == 5
    limits = nova(cloud, conn, "GET", "/limits", "2.35").json()["limits"]["absolute"]
    assert limits["maxTotalFloatingIps"] == 5


def test_deleted_servers_are_kept_restorable_then_reclaimed(cloud, conn):
    server = boot(conn, "deferred", networks="none")
    used = lambda: nova(cloud, conn, "GET", "/limits").json()["limits"]["absolute"]["totalInstancesUsed"]  # noqa: E731
    before = used()
    assert nova(cloud, conn, "DELETE", f"/servers/{server.id}").status_code == 204
    wait_for(lambda: status_of(cloud, conn, server.id) == "SOFT_DELETED")
    assert server.id not in [s["id"] for s in nova(cloud, conn, "GET", "/servers").json()["servers"]]
    assert used() == before - 1  # a soft-deleted server holds no quota (Nova)
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"restore": {}}).status_code == 202
    wait_for(lambda: status_of(cloud, conn, server.id) == "ACTIVE")
    again = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"restore": None})
    assert again.status_code == 409  # only a soft-deleted server can be restored
    # forceDelete deletes at once, soft-deleted or not
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"forceDelete": {}}).status_code == 202
    wait_for(lambda: status_of(cloud, conn, server.id) == 404)
    # left soft-deleted, its host reclaims it after [compute] reclaim_instance_interval
    second = boot(conn, "reclaimed", networks="none")
    nova(cloud, conn, "DELETE", f"/servers/{second.id}")
    wait_for(lambda: status_of(cloud, conn, second.id) == "SOFT_DELETED")
    wait_for(lambda: status_of(cloud, conn, second.id) == 404, timeout=30)


def test_reset_state_and_inject_network_info_are_for_administrators(cloud, conn):
    server = boot(conn, "resettable", networks="none")
    _, member = member_of_new_project(conn, "resetter")
    try:
        refused = nova(cloud, member, "POST", f"/servers/{server.id}/action",
                       json={"os-resetState": {"state": "error"}})
        assert refused.status_code == 404  # not even visible to another project
        assert nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                    json={"os-resetState": {"state": "error"}}).status_code == 202
        assert status_of(cloud, conn, server.id) == "ERROR"
        bad = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"os-resetState": {"state": "gone"}})
        assert bad.status_code == 400
        nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"os-resetState": {"state": "active"}})
        assert status_of(cloud, conn, server.id) == "ACTIVE"
        assert nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                    json={"injectNetworkInfo": {}}).status_code == 202
    finally:
        member.close()
        conn.compute.delete_server(server, force=True)


def test_create_backup_keeps_the_newest_rotation_backups(cloud, conn):
    server = boot(conn, "backed-up", networks="none")
    made = []
    for number in range(3):
        answer = nova(cloud, conn, "POST", f"/servers/{server.id}/action", "2.45",
                      json={"createBackup": {"name": f"daily-{number}", "backup_type": "daily", "rotation": 2}})
        assert answer.status_code == 202, answer.text
        made.append(answer.json()["image_id"])
        wait_for(lambda: status_of(cloud, conn, server.id) == "ACTIVE" and
                 nova(cloud, conn, "GET", f"/servers/{server.id}").json()["server"]["OS-EXT-STS:task_state"] is None)
    wait_for(lambda: conn.image.find_image(made[0]) is None)
    kept = [conn.image.get_image(i) for i in made[1:]]
    assert [(i.properties["image_type"], i.properties["backup_type"]) for i in kept] == [("backup", "daily")] * 2
    old = nova(cloud, conn, "POST", f"/servers/{server.id}/action",
               json={"createBackup": {"name": "weekly", "backup_type": "weekly", "rotation": 1}})
    assert old.status_code == 202 and "/images/" in old.headers["Location"]  # before 2.45: where it will be
    bad = nova(cloud, conn, "POST", f"/servers/{server.id}/action",
               json={"createBackup": {"name": "x", "backup_type": "daily", "rotation": -1}})
    assert bad.status_code == 400
    wait_for(lambda: nova(cloud, conn, "GET", f"/servers/{server.id}").json()["server"]["OS-EXT-STS:task_state"]
             is None)
    conn.compute.delete_server(server, force=True)


def test_proxy_apis_answer_until_2_35_and_404_from_2_36(cloud, conn):
    groups = nova(cloud, conn, "GET", "/os-security-groups", "2.35")
    assert groups.status_code == 200 and "default" in [g["name"] for g in groups.json()["security_groups"]]
    for path in ("/os-security-groups", "/os-floating-ips", "/os-floating-ip-pools", "/os-networks",
                 "/os-tenant-networks", "/images"):
        assert nova(cloud, conn, "GET", path, "2.35").status_code == 200, path
        assert nova(cloud, conn, "GET", path, "2.36").status_code == 404, path
    made = nova(cloud, conn, "POST", "/os-security-groups",
                json={"security_group": {"name": "web", "description": "http"}}).json()["security_group"]
    rule = nova(cloud, conn, "POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
        "cidr": "10.2.3.124/24"}})
    assert rule.status_code == 200 and rule.json()["security_group_rule"]["ip_range"] == {"cidr": "10.2.3.124/24"}
    duplicate = nova(cloud, conn, "POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
        "cidr": "10.2.3.124/24"}})
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    # the same network written otherwise passes Nova's check and meets the network service's (403, as Nova)
    same = nova(cloud, conn, "POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "10.2.3.0/24"}})
    assert same.status_code == 403
    bad = nova(cloud, conn, "POST", "/os-security-group-rules", json={"security_group_rule": {
        "parent_group_id": made["id"], "ip_protocol": "tcp", "from_port": 90, "to_port": 80}})
    assert bad.status_code == 400 and "Invalid port range" in bad.text
    server = boot(conn, "grouped", networks=[{"uuid": conn.network.find_network("private").id}])
    try:
        assert nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                    json={"addSecurityGroup": {"name": "web"}}).status_code == 202
        shown = nova(cloud, conn, "GET", f"/servers/{server.id}").json()["server"]["security_groups"]
        assert sorted(g["name"] for g in shown) == ["default", "web"]
        ports = list(conn.network.ports(device_id=server.id))
        assert made["id"] in ports[0].security_group_ids
        listed = nova(cloud, conn, "GET", f"/servers/{server.id}/os-security-groups").json()["security_groups"]
        assert sorted(g["name"] for g in listed) == ["default", "web"]
        for name in ("web", "default"):
            assert nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                        json={"removeSecurityGroup": {"name": name}}).status_code == 202
        assert "security_groups" not in nova(cloud, conn, "GET", f"/servers/{server.id}").json()["server"]
        missing = nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                       json={"removeSecurityGroup": {"name": "web"}})
        assert missing.status_code == 404
    finally:
        conn.compute.delete_server(server, force=True)


def test_compute_versions_list_v2_0_and_serve_the_legacy_root(cloud, conn):
    versions = requests.get(f"{cloud.base_url}/compute/", timeout=10).json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0", "v2.1"]
    legacy = requests.get(versions[0]["links"][0]["href"], timeout=10).json()["version"]
    assert legacy["id"] == "v2.0" and legacy["version"] == ""
    flavors = requests.get(f"{cloud.base_url}/compute/v2/flavors", timeout=10,
                           headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.60"})
    assert flavors.status_code == 200 and "OpenStack-API-Version" not in flavors.headers
    assert "m1.tiny" in [f["name"] for f in flavors.json()["flavors"]]
    services = nova(cloud, conn, "GET", "/os-services?binary=nova-compute").json()["services"]
    assert services and {s["binary"] for s in services} == {"nova-compute"}


def test_novas_removed_consoles_api_is_gone_and_listed_as_nova_lists_it(cloud, conn):
    listed = nova(cloud, conn, "GET", "/extensions/os-consoles")
    assert listed.status_code == 200 and listed.json()["extension"]["name"] == "Consoles"
    assert nova(cloud, conn, "GET", "/extensions/os-shelve").status_code == 404  # not served: not listed
    server = boot(conn, "console-less")
    gone = nova(cloud, conn, "POST", f"/servers/{server.id}/consoles", json={})
    assert gone.status_code == 410 and "os-consoles" in gone.json()["computeFault"]["message"]
    conn.compute.delete_server(server)
