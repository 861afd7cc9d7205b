"""Servers through the whole boot path (API -> conductor -> scheduler + claims -> compute
host -> fake hypervisor), over HTTP with openstacksdk and the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.fixtures.concurrency import run_together
from tests.functional.accounts import connect, member_of_new_project
from tests.functional.conftest import start_cloud

CONFIG = "[compute]\nresource_update_interval = 1\n"


def nova(cloud, conn, method, path, version=None, **kwargs):
    """A raw request to the compute API (at ``version``, else the default 2.1)."""
    headers = {"X-Auth-Token": conn.session.get_token()}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return requests.request(method, f"{cloud.base_url}/compute/v2.1{path}", timeout=30, headers=headers, **kwargs)


def image(conn, name="tiny-image"):
    found = conn.image.find_image(name)
    return found or conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                            data=b"\0" * 65536, visibility="public")


def network(conn, name, cidr):
    found = conn.network.find_network(name)
    if found:
        return found
    net = conn.network.create_network(name=name)
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=cidr)
    return net


def boot(conn, name, flavor="m1.tiny", networks=None, wait=True, **kwargs):
    server = conn.compute.create_server(name=name, image_id=image(conn).id,
                                        flavor_id=conn.compute.find_flavor(flavor).id,
                                        networks=networks if networks is not None else [], **kwargs)
    return conn.compute.wait_for_server(server, wait=60, interval=0.3) if wait else server


def node_usage(cloud):
    with sqlite3.connect(cloud.data_dir / "stratus.sqlite") as db:
        return db.execute("select host, vcpus_used, memory_mb_used, running_vms from compute_nodes").fetchall()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG + "[fake_hypervisor]\nmemory_mb = 32768\n")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def member(conn):
    image(conn)  # the public image members boot is the administrator's to make (policy refuses them)
    _, connection = member_of_new_project(conn, "server-member")
    yield connection
    connection.close()


def test_a_server_boots_with_a_port_and_goes_away_with_it(conn, cloud):
    net = network(conn, "servers-net", "10.80.0.0/24")
    server = boot(conn, "first", networks=[{"uuid": net.id}], metadata={"role": "web"})
    assert server.status == "ACTIVE" and server.power_state == 1 and server.vm_state == "active"
    assert server.task_state is None and server.launched_at and server.metadata == {"role": "web"}
    (address,) = server.addresses["servers-net"]
    port = next(conn.network.ports(device_id=server.id))
    assert (port.device_owner, port.binding_host_id, port.status) == ("compute:nova", server.compute_host, "ACTIVE")
    assert address["addr"] == port.fixed_ips[0]["ip_address"] and address["OS-EXT-IPS-MAC:mac_addr"] == port.mac_address
    assert server.host_id and server.hypervisor_hostname
    assert node_usage(cloud)[0][1:] == (1, 512, 1)
    listed = {s.name: s for s in conn.compute.servers(details=True)}
    assert listed["first"].status == "ACTIVE"
    assert [s.name for s in conn.compute.servers(name="^fir")] == ["first"]
    assert [s.name for s in conn.compute.servers(status="ERROR")] == []
    renamed = conn.compute.update_server(server, name="renamed")
    assert renamed.name == "renamed"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)
    assert list(conn.network.ports(device_id=server.id)) == []
    assert node_usage(cloud)[0][1:] == (0, 0, 0)
    deleted = [s for s in conn.compute.servers(changes_since="2000-01-01T00:00:00Z") if s.id == server.id]
    assert deleted and deleted[0].status == "DELETED"


def test_a_given_port_is_used_and_kept(conn):
    net = network(conn, "servers-net", "10.80.0.0/24")
    port = conn.network.create_port(network_id=net.id, name="mine")
    server = boot(conn, "on-port", networks=[{"port": port.id}])
    assert conn.network.get_port(port.id).device_id == server.id
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)
    kept = conn.network.get_port(port.id)
    assert kept.device_id == "" and kept.binding_host_id == ""
    conn.network.delete_port(port)


def test_no_valid_host_says_which_filter_removed_how_many(conn):
    flavor = conn.compute.create_flavor(name="enormous", ram=40000, vcpus=1, disk=1)  # within quota, not the host
    try:
        server = boot(conn, "too-big", flavor="enormous", wait=False)
        with pytest.raises(sdk_exceptions.ResourceFailure):
            conn.compute.wait_for_server(server, wait=60, interval=0.3)
        failed = conn.compute.get_server(server.id)
        assert failed.status == "ERROR" and failed.fault["code"] == 500
        assert failed.fault["message"] == "No valid host was found."  # Nova's, for everyone
        assert "RamFilter removed 1 of 1 hosts" in failed.fault["details"]  # why: administrators see it
        conn.compute.delete_server(failed)
        conn.compute.wait_for_delete(failed, wait=30, interval=0.3)
    finally:
        conn.compute.delete_flavor(flavor)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"flavorRef": "no-such-flavor"}, 400, "no-such-flavor"),
    ({"imageRef": "6f0e0a8c-0000-4000-8000-000000000000"}, 400, "could not be found"),
    ({"networks": [{"uuid": "6f0e0a8c-0000-4000-8000-000000000000"}]}, 400, "could not be found"),
    ({"networks": [{"uuid": "not-a-uuid"}]}, 400, "uuid"),
    ({"user_data": "not base64!"}, 400, "base 64"),
    ({"name": "   "}, 400, "name"),
    ({"name": ""}, 400, "name"),
    ({"key_name": "nobody-has-this-key"}, 400, "key_name"),
    ({"availability_zone": "mars"}, 400, "availability zone"),
    ({"metadata": {"k": "v" * 256}}, 400, "metadata"),
    ({"min_count": 3, "max_count": 2}, 400, "min_count"),
])
def test_bad_requests_are_refused_and_make_nothing(conn, cloud, body, status, words):
    base = {"name": "bad", "imageRef": image(conn).id, "flavorRef": "1", "networks": []}
    answer = nova(cloud, conn, "POST", "/servers", json={"server": {**base, **body}})
    assert answer.status_code == status and words in answer.text, answer.text
    assert "badRequest" in answer.json()
    assert [s for s in conn.compute.servers() if s.name == "bad"] == []


def test_networks_must_be_chosen_when_several_are_possible(conn, cloud):
    network(conn, "servers-net", "10.80.0.0/24")
    network(conn, "servers-net-2", "10.81.0.0/24")
    answer = nova(cloud, conn, "POST", "/servers", json={"server": {"name": "which", "imageRef": image(conn).id,
                                                                     "flavorRef": "1"}})
    assert answer.status_code == 409 and "Multiple possible networks" in answer.text


def test_tenants_see_only_their_servers_and_quotas_hold(conn, cloud, member):
    server = boot(conn, "admins-own")
    assert nova(cloud, member, "GET", f"/servers/{server.id}").status_code == 404
    assert nova(cloud, member, "DELETE", f"/servers/{server.id}").status_code == 404
    assert server.id not in [s.id for s in member.compute.servers()]
    assert server.id in [s.id for s in conn.compute.servers(all_projects=True)]
    assert nova(cloud, member, "GET", "/servers?all_tenants=1").status_code == 403
    over = nova(cloud, member, "POST", "/servers", json={"server": {
        "name": "greedy", "imageRef": image(conn).id, "flavorRef": "1", "networks": [], "min_count": 11}})
    assert over.status_code == 403 and "Quota exceeded for instances" in over.text
    assert list(member.compute.servers()) == []
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)


def test_multi_create_names_and_pages(conn, cloud):
    answer = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "many", "imageRef": image(conn).id, "flavorRef": "42", "networks": [], "min_count": 3,
        "return_reservation_id": True}})
    assert answer.status_code == 202 and answer.json()["reservation_id"].startswith("r-")
    servers = [s for s in conn.compute.servers() if s.name.startswith("many-")]
    assert sorted(s.name for s in servers) == ["many-1", "many-2", "many-3"]
    for s in servers:
        conn.compute.wait_for_server(s, wait=60, interval=0.3)
    page = nova(cloud, conn, "GET", "/servers?name=^many-&limit=2").json()
    assert len(page["servers"]) == 2 and "servers_links" in page
    rest = requests.get(page["servers_links"][0]["href"], timeout=30,
                        headers={"X-Auth-Token": conn.session.get_token()}).json()["servers"]
    assert len(rest) == 1 and rest[0]["id"] not in {s["id"] for s in page["servers"]}
    for s in servers:
        conn.compute.delete_server(s)
    for s in servers:
        conn.compute.wait_for_delete(s, wait=30, interval=0.3)


def test_openstack_cli_boots_a_server(cloud_env, conn):
    image(conn)
    network(conn, "servers-net", "10.80.0.0/24")

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    created = json.loads(cli("server", "create", "--image", "tiny-image", "--flavor", "m1.nano", "--network",
                             "servers-net", "--wait", "cli-server", "-f", "json"))
    assert created["status"] == "ACTIVE" and "servers-net" in json.dumps(created["addresses"])
    assert "cli-server" in cli("server", "list")
    cli("server", "delete", "--wait", "cli-server")


def test_concurrent_boots_never_overcommit_a_host(tmp_path_factory):
    small = start_cloud(tmp_path_factory, CONFIG + "cpu_allocation_ratio = 1.0\n[fake_hypervisor]\nvcpus = 4\n")
    try:
        conn = connect(small.clouds_yaml)
        image(conn)
        conn.compute.create_flavor(name="one-cpu", ram=64, vcpus=1, disk=1)

        def create(i):
            return boot(conn, f"race-{i}", flavor="one-cpu", wait=False).id

        ids = [r for r in run_together(create, 10) if isinstance(r, str)]
        assert len(ids) == 10
        final = {}
        for server_id in ids:
            try:
                final[server_id] = conn.compute.wait_for_server(conn.compute.get_server(server_id), wait=60,
                                                                interval=0.3).status
            except sdk_exceptions.ResourceFailure:
                final[server_id] = "ERROR"
        assert sorted(final.values()).count("ACTIVE") == 4 and list(final.values()).count("ERROR") == 6
        assert node_usage(small)[0][1] == 4
        conn.close()
    finally:
        small.stop()


def test_a_failed_build_is_rescheduled_then_fails_with_everything_released(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, "[DEFAULT]\nhost = stratus\n" + CONFIG + "simulated_hosts = 3\n"
                        "[fake_hypervisor]\nfail_spawn_hosts = stratus-0001\nfail_spawn_flavors = m1.cursed\n"
                        "fail_reboot_hosts = stratus-0002\n")
    try:
        conn = connect(cloud.clouds_yaml)
        net = network(conn, "resched-net", "10.90.0.0/24")
        conn.compute.create_flavor(name="m1.cursed", ram=64, vcpus=1, disk=1)
        # spread over three hosts: some first attempts land on the failing host and move on
        servers = [boot(conn, f"moved-{i}", flavor="m1.nano", networks=[{"uuid": net.id}]) for i in range(3)]
        assert all(s.status == "ACTIVE" and s.compute_host != "stratus-0001" for s in servers)
        doomed = boot(conn, "doomed", flavor="m1.cursed", networks=[{"uuid": net.id}], wait=False)
        with pytest.raises(sdk_exceptions.ResourceFailure):
            conn.compute.wait_for_server(doomed, wait=60, interval=0.3)
        failed = conn.compute.get_server(doomed.id)
        assert "Exceeded maximum number of retries" in failed.fault["message"]
        assert "injected failure" in failed.fault["details"]
        assert list(conn.network.ports(device_id=doomed.id)) == []
        assert sum(row[1] for row in node_usage(cloud)) == 3  # only the three ACTIVE servers hold vCPUs
        flaky = next(s for s in servers if s.compute_host == "stratus-0002")
        conn.compute.reboot_server(flaky, "HARD")
        broken = conn.compute.wait_for_server(conn.compute.get_server(flaky.id), status="ERROR", failures=[],
                                              wait=30, interval=0.3)
        assert broken.status == "ERROR" and "Failed to reboot" in broken.fault["message"]
        reboot = next(a for a in conn.compute.server_actions(flaky) if a.action == "reboot")
        events = conn.compute.get_server_action(reboot.request_id, flaky).events
        assert reboot.message == "Error" and [e["result"] for e in events] == ["Error"]
        assert events[0]["event"] == "compute_reboot_instance" and "injected failure" in events[0]["details"]
        conn.close()
    finally:
        cloud.stop()


def test_the_command_stratus_up_prints_boots_a_server(cloud, cloud_env):
    announced = next(line.strip() for line in cloud.text.splitlines() if "server create" in line)
    args = announced.split()[1:]  # drop "openstack"
    result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args, "-f", "json"], env=cloud_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["status"] == "ACTIVE" and "private" in json.dumps(created["addresses"])
    subprocess.run([sys.executable, "-m", "openstackclient.shell", "server", "delete", "--wait", "demo"],
                   env=cloud_env, check=True, timeout=120)


def wait_status(conn, server, status):
    return conn.compute.wait_for_server(conn.compute.get_server(server.id), status=status, wait=30, interval=0.2)


def test_actions_follow_novas_state_rules(conn, cloud):
    server = boot(conn, "acting")

    def act(body):
        return nova(cloud, conn, "POST", f"/servers/{server.id}/action", json=body)

    conn.compute.stop_server(server)
    stopped = wait_status(conn, server, "SHUTOFF")
    assert (stopped.power_state, stopped.vm_state) == (4, "stopped")
    again = act({"os-stop": None})
    assert again.status_code == 409 and "vm_state stopped" in again.text and "conflictingRequest" in again.json()
    assert act({"pause": None}).status_code == 409
    assert act({"reboot": {"type": "SOFT"}}).status_code == 409  # soft reboot needs a running server
    conn.compute.start_server(server)
    assert wait_status(conn, server, "ACTIVE").power_state == 1
    conn.compute.pause_server(server)
    assert wait_status(conn, server, "PAUSED").power_state == 3
    conn.compute.unpause_server(server)
    wait_status(conn, server, "ACTIVE")
    conn.compute.suspend_server(server)
    assert wait_status(conn, server, "SUSPENDED").power_state == 7
    conn.compute.resume_server(server)
    wait_status(conn, server, "ACTIVE")
    for kind in ("SOFT", "HARD"):
        conn.compute.reboot_server(server, kind)
        wait_status(conn, server, "ACTIVE")
    output = conn.compute.get_server_console_output(server)["output"]
    assert "login:" in output and "hard reboot" in output
    # tailed as Nova tails: the last pieces between newlines, the final newline one of them
    assert conn.compute.get_server_console_output(server, length=2)["output"] == "hard reboot\n"
    assert conn.compute.get_server_console_output(server, length=1)["output"] == ""
    assert act({"reboot": {"type": "sideways"}}).status_code == 400
    assert act({"explode": {}}).status_code == 400
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)


def test_locks(conn, cloud, member):
    net = network(conn, "servers-net", "10.80.0.0/24")
    conn.network.update_network(net, is_shared=True)
    server = boot(member, "member-owned", networks=[{"uuid": net.id}])
    conn.compute.lock_server(server)
    refused = nova(cloud, member, "POST", f"/servers/{server.id}/action", json={"os-stop": None})
    assert refused.status_code == 409 and "locked" in refused.text
    assert nova(cloud, member, "DELETE", f"/servers/{server.id}").status_code == 409
    assert nova(cloud, member, "POST", f"/servers/{server.id}/action", json={"unlock": None}).status_code == 409
    conn.compute.unlock_server(server)
    member.compute.lock_server(server)
    member.compute.unlock_server(server)
    member.compute.stop_server(server)
    wait_status(member, server, "SHUTOFF")
    member.compute.delete_server(server)
    member.compute.wait_for_delete(server, wait=30, interval=0.3)
    conn.network.update_network(net, is_shared=False)


def test_hypervisors_services_zones_limits_and_quota_sets(conn, cloud, cloud_env, member):
    (node,) = list(conn.compute.hypervisors(details=True))  # the sdk asks 2.88: usage figures are gone
    assert node.state == "up" and node.status == "enabled" and "load average" in node.uptime
    (figures,) = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.87").json()["hypervisors"]
    assert (figures["vcpus"], figures["memory_mb"]) == (32, 32768)
    assert conn.compute.get_hypervisor(node.id).name == node.name
    stats = nova(cloud, conn, "GET", "/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert stats["count"] == 1 and stats["vcpus"] == 32
    (service,) = [s for s in conn.compute.services() if s.binary == "nova-compute"]
    assert (service.state, service.status, service.availability_zone) == ("up", "enabled", "nova")
    assert nova(cloud, member, "GET", "/os-hypervisors").status_code == 403
    assert nova(cloud, member, "GET", "/os-services").status_code == 403
    zones = list(conn.compute.availability_zones())
    assert [z.name for z in zones] == ["nova"] and zones[0].state["available"] is True

    disabled = nova(cloud, conn, "PUT", "/os-services/disable-log-reason",
                    json={"host": service.host, "binary": "nova-compute", "disabled_reason": "maintenance"})
    assert disabled.status_code == 200 and disabled.json()["service"]["status"] == "disabled"
    try:
        server = boot(conn, "nowhere", wait=False)
        with pytest.raises(sdk_exceptions.ResourceFailure):
            conn.compute.wait_for_server(server, wait=30, interval=0.3)
        assert "ComputeFilter removed 1 of 1" in conn.compute.get_server(server.id).fault["details"]
        conn.compute.delete_server(server)
    finally:
        nova(cloud, conn, "PUT", "/os-services/enable", json={"host": service.host, "binary": "nova-compute"})

    project = member.current_project_id
    limits = member.compute.get_limits().absolute
    assert limits.instances == 10 and limits.total_cores_used == 0
    conn.compute.update_quota_set(project, instances=1, cores=4)
    quota = member.compute.get_quota_set(project)
    assert (quota.instances, quota.cores, quota.ram) == (1, 4, 51200)
    assert nova(cloud, member, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"instances": 50}}
                ).status_code == 403
    assert nova(cloud, member, "GET", f"/os-quota-sets/{conn.current_project_id}").status_code == 403
    unknown = nova(cloud, conn, "PUT", "/os-quota-sets/no-such-project", json={"quota_set": {"instances": 5}})
    assert unknown.status_code == 400 and "no-such-project is not a valid project" in unknown.text
    net = network(conn, "servers-net", "10.80.0.0/24")
    conn.network.update_network(net, is_shared=True)
    first = boot(member, "only-one", networks=[{"uuid": net.id}])
    over = nova(cloud, member, "POST", "/servers", json={"server": {
        "name": "second", "imageRef": image(conn).id, "flavorRef": "1", "networks": [{"uuid": net.id}]}})
    assert over.status_code == 403 and "instances" in over.text
    detail = nova(cloud, member, "GET", f"/os-quota-sets/{project}/detail").json()["quota_set"]
    assert detail["instances"] == {"limit": 1, "in_use": 1, "reserved": 0}
    assert member.compute.get_limits().absolute.total_instances_used == 1
    member.compute.delete_server(first)
    member.compute.wait_for_delete(first, wait=30, interval=0.3)
    assert nova(cloud, conn, "DELETE", f"/os-quota-sets/{project}").status_code == 202
    assert member.compute.get_quota_set(project).instances == 10
    conn.network.update_network(net, is_shared=False)


def test_server_metadata_and_ips(conn, cloud):
    net = network(conn, "servers-net", "10.80.0.0/24")
    server = boot(conn, "meta", networks=[{"uuid": net.id}], metadata={"a": "1"})
    conn.compute.set_server_metadata(server, b="2")
    assert conn.compute.get_server_metadata(server).metadata == {"a": "1", "b": "2"}
    replaced = nova(cloud, conn, "PUT", f"/servers/{server.id}/metadata", json={"metadata": {"c": "3"}})
    assert replaced.json() == {"metadata": {"c": "3"}}
    assert nova(cloud, conn, "PUT", f"/servers/{server.id}/metadata/c", json={"meta": {"d": "4"}}
                ).status_code == 400
    conn.compute.delete_server_metadata(conn.compute.get_server(server.id), ["c"])
    assert conn.compute.get_server_metadata(server).metadata == {}
    assert nova(cloud, conn, "GET", f"/servers/{server.id}/metadata/c").status_code == 404
    too_many = nova(cloud, conn, "POST", f"/servers/{server.id}/metadata",
                    json={"metadata": {f"k{i}": "v" for i in range(129)}})
    assert too_many.status_code == 403 and "metadata_items" in too_many.text
    ips = nova(cloud, conn, "GET", f"/servers/{server.id}/ips").json()["addresses"]
    assert list(ips) == ["servers-net"] and ips["servers-net"][0]["addr"].startswith("10.80.0.")
    assert nova(cloud, conn, "GET", f"/servers/{server.id}/ips/servers-net").json()["servers-net"] == ips[
        "servers-net"]
    assert nova(cloud, conn, "GET", f"/servers/{server.id}/ips/elsewhere").status_code == 404
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)


def test_server_groups_place_members_by_policy(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, CONFIG + "simulated_hosts = 3\n")
    try:
        conn = connect(cloud.clouds_yaml)
        apart = conn.compute.create_server_group(name="apart", policies=["anti-affinity"])
        image(conn)  # made once, before the racing boots look it up

        def member(i):
            return boot(conn, f"apart-{i}", flavor="m1.nano", wait=False, scheduler_hints={"group": apart.id}).id

        ids = run_together(member, 3)  # racing placements: the late check keeps them apart
        hosts = [conn.compute.wait_for_server(conn.compute.get_server(i), wait=60, interval=0.3).compute_host
                 for i in ids]
        assert len(set(hosts)) == 3
        assert sorted(conn.compute.get_server_group(apart.id).member_ids) == sorted(ids)
        fourth = boot(conn, "apart-4", flavor="m1.nano", wait=False, scheduler_hints={"group": apart.id})
        with pytest.raises(sdk_exceptions.ResourceFailure):
            conn.compute.wait_for_server(fourth, wait=30, interval=0.3)
        assert "ServerGroupAntiAffinityFilter removed 3 of 3" in conn.compute.get_server(fourth.id).fault["details"]
        together = conn.compute.create_server_group(name="together", policies=["affinity"])
        pair = [boot(conn, f"pair-{i}", flavor="m1.nano", scheduler_hints={"group": together.id}) for i in range(2)]
        assert pair[0].compute_host == pair[1].compute_host
        conn.compute.delete_server(pair[0])
        conn.compute.wait_for_delete(pair[0], wait=30, interval=0.3)
        assert conn.compute.get_server_group(together.id).member_ids == [pair[1].id]
        bad = nova(cloud, conn, "POST", "/os-server-groups", json={"server_group": {"name": "x",
                                                                                 "policies": ["nearby"]}})
        assert bad.status_code == 400
        unknown = nova(cloud, conn, "POST", "/servers", json={
            "server": {"name": "lost", "imageRef": image(conn).id, "flavorRef": "42", "networks": []},
            "os:scheduler_hints": {"group": "6f0e0a8c-0000-4000-8000-000000000000"}})
        assert unknown.status_code == 400
        conn.compute.delete_server_group(apart)
        assert apart.id not in [g.id for g in conn.compute.server_groups()]
        conn.close()
    finally:
        cloud.stop()


def test_instance_actions_record_requests_and_their_events(conn, cloud, member):
    server = boot(conn, "recorded")
    stop = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"os-stop": None})
    wait_status(conn, server, "SHUTOFF")
    actions = list(conn.compute.server_actions(server))
    assert [a.action for a in actions] == ["stop", "create"]
    assert actions[0].request_id == stop.headers["x-openstack-request-id"]
    detail = nova(cloud, conn, "GET", f"/servers/{server.id}/os-instance-actions/{actions[1].request_id}").json()
    (build,) = detail["instanceAction"]["events"]
    assert build["event"] == "compute_build_and_run_instance" and build["result"] == "Success"
    assert build["finish_time"] >= build["start_time"]  # ended with the build's last write
    stopped = conn.compute.get_server_action(actions[0].request_id, server)
    assert [(e["event"], e["result"]) for e in stopped.events] == [("compute_stop_instance", "Success")]
    assert nova(cloud, member, "GET", f"/servers/{server.id}/os-instance-actions").status_code == 404
    assert nova(cloud, conn, "GET", f"/servers/{server.id}/os-instance-actions/req-nope").status_code == 404
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)
    deleted = nova(cloud, conn, "GET", f"/servers/{server.id}/os-instance-actions", "2.21").json()["instanceActions"]
    assert deleted[0]["action"] == "delete"
    (terminate,) = nova(cloud, conn, "GET", f"/servers/{server.id}/os-instance-actions/{deleted[0]['request_id']}",
                        "2.21").json()["instanceAction"]["events"]
    assert (terminate["event"], terminate["result"]) == ("compute_terminate_instance", "Success")
    assert terminate["finish_time"] is not None


def test_external_events_reach_the_servers_host(conn, cloud, member):
    server = boot(conn, "evented")
    answer = nova(cloud, conn, "POST", "/os-server-external-events", json={"events": [
        {"name": "network-vif-plugged", "server_uuid": server.id, "tag": "port-1"},
        {"name": "network-changed", "server_uuid": "6f0e0a8c-0000-4000-8000-000000000000"}]})
    assert answer.status_code == 207
    assert [e["code"] for e in answer.json()["events"]] == [200, 404]
    assert answer.json()["events"][0]["status"] == "completed"
    assert nova(cloud, conn, "POST", "/os-server-external-events", json={"events": [
        {"name": "network-changed", "server_uuid": "6f0e0a8c-0000-4000-8000-000000000000"}]}).status_code == 404
    assert nova(cloud, conn, "POST", "/os-server-external-events", json={"events": [
        {"name": "nonsense", "server_uuid": server.id}]}).status_code == 400
    assert nova(cloud, member, "POST", "/os-server-external-events", json={"events": [
        {"name": "network-changed", "server_uuid": server.id}]}).status_code == 403
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.3)
