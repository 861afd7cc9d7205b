"""Per-microversion behaviour of the compute API from 2.39 to 2.60 (Nova's Queens
maximum), each boundary checked on both sides over raw HTTP, and the same through
openstacksdk and the CLI where they use it."""

from __future__ import annotations

import base64
import datetime
import subprocess
import sys
import uuid

import pytest

from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import CONFIG, boot, image, network, nova

BINARY = "nova-compute"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[DEFAULT]\nhost = stratus\n" + CONFIG + "simulated_hosts = 2\n",
                         defaults=False)
    yield server
    server.stop()


def compute_services(cloud, conn, version):
    answer = nova(cloud, conn, "GET", f"/os-services?binary={BINARY}", version)
    assert answer.status_code == 200, answer.text
    return answer.json()["services"]


def test_services_are_named_and_changed_by_uuid_from_2_53(conn, cloud):
    old, new = compute_services(cloud, conn, "2.52")[0], compute_services(cloud, conn, "2.53")[0]
    assert isinstance(old["id"], int) and uuid.UUID(new["id"]) and old["host"] == new["host"]
    path = f"/os-services/{new['id']}"
    changed = nova(cloud, conn, "PUT", path, "2.53", json={"status": "disabled", "disabled_reason": "maintenance"})
    assert changed.status_code == 200, changed.text
    service = changed.json()["service"]
    assert (service["id"], service["status"], service["disabled_reason"], service["forced_down"]) == (
        new["id"], "disabled", "maintenance", False)
    for body, words in (({"status": "enabled", "disabled_reason": "x"}, "with status 'enabled'"),
                        ({}, "No updates were requested"), ({"status": "paused"}, "status"),
                        ({"forced_down": "maybe"}, "forced_down")):
        refused = nova(cloud, conn, "PUT", path, "2.53", json=body)
        assert refused.status_code == 400 and words in refused.text, refused.text
    assert nova(cloud, conn, "PUT", "/os-services/not-a-uuid", "2.53", json={"status": "enabled"}).status_code == 400
    assert nova(cloud, conn, "PUT", f"/os-services/{uuid.uuid4()}", "2.53",
                json={"status": "enabled"}).status_code == 404
    # the 2.1 forms are gone at 2.53 (the action is no uuid) and still work before it
    assert nova(cloud, conn, "PUT", "/os-services/enable", "2.53",
                json={"host": new["host"], "binary": BINARY}).status_code == 400
    enabled = nova(cloud, conn, "PUT", "/os-services/enable", "2.52", json={"host": new["host"], "binary": BINARY})
    assert enabled.status_code == 200 and enabled.json()["service"]["status"] == "enabled"
    assert nova(cloud, conn, "PUT", "/os-services/bogus", "2.52",
                json={"host": new["host"], "binary": BINARY}).status_code == 404
    others = [s for s in nova(cloud, conn, "GET", "/os-services", "2.53").json()["services"] if s["binary"] != BINARY]
    for other in others:  # only compute services can be changed
        refused = nova(cloud, conn, "PUT", f"/os-services/{other['id']}", "2.53", json={"status": "disabled"})
        assert refused.status_code == 400 and "Only nova-compute" in refused.text


def test_hypervisors_by_uuid_pattern_and_servers_from_2_53(conn, cloud):
    server = boot(conn, "hosted", flavor="m1.nano")
    old = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.52").json()["hypervisors"]
    new = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.53").json()["hypervisors"]
    assert len(new) == 2 and all(isinstance(h["id"], int) for h in old)
    assert all(uuid.UUID(h["id"]) and uuid.UUID(h["service"]["id"]) for h in new)
    (mine,) = [h for h in new if h["service"]["host"] == server.compute_host]
    found = nova(cloud, conn, "GET", f"/os-hypervisors?hypervisor_hostname_pattern={mine['hypervisor_hostname']}"
                 "&with_servers=true", "2.53").json()["hypervisors"]
    assert [h["id"] for h in found] == [mine["id"]]
    assert {"name": "hosted", "uuid": server.id} in found[0]["servers"]
    assert nova(cloud, conn, "GET", "/os-hypervisors?hypervisor_hostname_pattern=x&limit=1", "2.53").status_code == 400
    missing = nova(cloud, conn, "GET", "/os-hypervisors?hypervisor_hostname_pattern=no-such-node", "2.53")
    assert missing.status_code == 404 and "No hypervisor matching" in missing.text
    shown = nova(cloud, conn, "GET", f"/os-hypervisors/{mine['id']}?with_servers=1", "2.53").json()["hypervisor"]
    assert shown["servers"] == [{"name": "hosted", "uuid": server.id}] and shown["vcpus_used"] == 1
    old_mine = next(h for h in old if h["service"]["host"] == server.compute_host)
    assert nova(cloud, conn, "GET", f"/os-hypervisors/{old_mine['id']}", "2.53").status_code == 400
    assert nova(cloud, conn, "GET", f"/os-hypervisors/{old_mine['id']}", "2.52").status_code == 200
    assert nova(cloud, conn, "GET", f"/os-hypervisors/{mine['id']}", "2.52").status_code == 404
    searched = nova(cloud, conn, "GET", f"/os-hypervisors/{mine['hypervisor_hostname']}/servers", "2.52")
    assert searched.status_code == 200 and searched.json()["hypervisors"][0]["servers"][0]["uuid"] == server.id
    assert nova(cloud, conn, "GET", f"/os-hypervisors/{mine['hypervisor_hostname']}/search", "2.53").status_code == 404
    first = nova(cloud, conn, "GET", "/os-hypervisors?limit=1", "2.53").json()
    rest = nova(cloud, conn, "GET", f"/os-hypervisors?marker={first['hypervisors'][0]['id']}", "2.53").json()
    assert [h["id"] for h in first["hypervisors"] + rest["hypervisors"]] == [h["id"] for h in new]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_a_service_is_deleted_with_its_node_unless_it_hosts_servers(conn, cloud):
    server = boot(conn, "anchor", flavor="m1.nano")
    services = compute_services(cloud, conn, "2.53")
    (busy,) = [s for s in services if s["host"] == server.compute_host]
    (idle,) = [s for s in services if s["host"] != server.compute_host]
    refused = nova(cloud, conn, "DELETE", f"/os-services/{busy['id']}", "2.53")
    assert refused.status_code == 409 and "hosting instances" in refused.text
    assert nova(cloud, conn, "DELETE", "/os-services/1x", "2.52").status_code == 400
    assert nova(cloud, conn, "DELETE", f"/os-services/{uuid.uuid4()}", "2.53").status_code == 404
    assert nova(cloud, conn, "DELETE", f"/os-services/{idle['id']}", "2.53").status_code == 204
    assert idle["id"] not in [s["id"] for s in compute_services(cloud, conn, "2.53")]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_flavor_description_from_2_55(conn, cloud):
    body = {"flavor": {"name": "described", "ram": 64, "vcpus": 1, "disk": 1, "description": "for tests"}}
    assert nova(cloud, conn, "POST", "/flavors", "2.54", json=body).status_code == 400
    made = nova(cloud, conn, "POST", "/flavors", "2.55", json=body)
    assert made.status_code == 200 and made.json()["flavor"]["description"] == "for tests"
    flavor_id = made.json()["flavor"]["id"]
    assert "description" not in nova(cloud, conn, "GET", f"/flavors/{flavor_id}", "2.54").json()["flavor"]
    listed = nova(cloud, conn, "GET", "/flavors", "2.55").json()["flavors"]
    assert next(f for f in listed if f["id"] == flavor_id)["description"] == "for tests"
    change = {"flavor": {"description": "changed"}}
    assert nova(cloud, conn, "PUT", f"/flavors/{flavor_id}", "2.54", json=change).status_code == 404
    changed = nova(cloud, conn, "PUT", f"/flavors/{flavor_id}", "2.55", json=change)
    assert changed.status_code == 200 and changed.json()["flavor"]["description"] == "changed"
    assert nova(cloud, conn, "PUT", f"/flavors/{flavor_id}", "2.55",
                json={"flavor": {"name": "renamed"}}).status_code == 400
    assert nova(cloud, conn, "PUT", f"/flavors/{flavor_id}", "2.55",
                json={"flavor": {"description": "x" * 65536}}).status_code == 400
    assert conn.compute.get_flavor(flavor_id).description == "changed"  # openstacksdk reads it
    _, member = member_of_new_project(conn, "flavor-describer")
    try:
        assert nova(cloud, member, "PUT", f"/flavors/{flavor_id}", "2.55", json=change).status_code == 403
    finally:
        member.close()
    conn.compute.delete_flavor(flavor_id)


def test_server_tags_at_create_and_personality_until_2_57(conn, cloud):
    base = {"name": "tagged", "imageRef": image(conn).id, "flavorRef": conn.compute.find_flavor("m1.nano").id,
            "networks": "none", "tags": ["blue", "green"]}
    assert nova(cloud, conn, "POST", "/servers", "2.51", json={"server": base}).status_code == 400
    assert nova(cloud, conn, "POST", "/servers", "2.52",
                json={"server": {**base, "tags": ["bad/tag"]}}).status_code == 400
    made = nova(cloud, conn, "POST", "/servers", "2.52", json={"server": base})
    assert made.status_code == 202, made.text
    server = conn.compute.wait_for_server(conn.compute.get_server(made.json()["server"]["id"]), wait=60,
                                          interval=0.3)
    assert sorted(server.tags) == ["blue", "green"]
    files = [{"path": f"/etc/f{i}", "contents": base64.b64encode(b"x").decode()} for i in range(6)]
    untagged = {k: v for k, v in base.items() if k != "tags"}
    over = nova(cloud, conn, "POST", "/servers", "2.56", json={"server": {**untagged, "personality": files}})
    assert over.status_code == 403 and "Personality file limit exceeded" in over.text
    assert nova(cloud, conn, "POST", "/servers", "2.57",
                json={"server": {**untagged, "personality": files[:1]}}).status_code == 400
    limits = nova(cloud, conn, "GET", "/limits", "2.57").json()["limits"]["absolute"]
    assert "maxPersonality" not in limits and "maxPersonality" in nova(cloud, conn, "GET", "/limits", "2.56").json()[
        "limits"]["absolute"]
    project = conn.current_project_id
    assert "injected_files" not in nova(cloud, conn, "GET", f"/os-quota-sets/{project}", "2.57").json()["quota_set"]
    assert nova(cloud, conn, "GET", f"/os-quota-sets/{project}", "2.56").json()["quota_set"]["injected_files"] == 5
    assert nova(cloud, conn, "PUT", f"/os-quota-sets/{project}", "2.57",
                json={"quota_set": {"injected_files": 3}}).status_code == 400
    # rebuild: key_name from 2.54, user_data from 2.57
    conn.compute.create_keypair(name="rebuild-key")
    rebuild = {"rebuild": {"imageRef": image(conn).id, "key_name": "rebuild-key"}}
    path = f"/servers/{server.id}/action"
    assert nova(cloud, conn, "POST", path, "2.53", json=rebuild).status_code == 400
    done = nova(cloud, conn, "POST", path, "2.54", json=rebuild)
    assert done.status_code == 202 and done.json()["server"]["key_name"] == "rebuild-key"
    conn.compute.wait_for_server(server, wait=60, interval=0.3)
    data = {"rebuild": {"imageRef": image(conn).id, "user_data": base64.b64encode(b"#!/bin/sh").decode()}}
    assert nova(cloud, conn, "POST", path, "2.56", json=data).status_code == 400
    assert nova(cloud, conn, "POST", path, "2.57", json=data).status_code == 202
    conn.compute.wait_for_server(server, wait=60, interval=0.3)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_instance_actions_page_and_show_events_by_version(conn, cloud):
    image(conn)  # the administrator makes the public image the member boots: a member may not
    project, member = member_of_new_project(conn, "action-watcher")
    try:
        server = boot(member, "watched", flavor="m1.nano")
        for action in ("os-stop", "os-start", "os-stop"):
            assert nova(cloud, member, "POST", f"/servers/{server.id}/action", json={action: None}).status_code == 202
            member.compute.wait_for_server(member.compute.get_server(server.id),
                                           status="SHUTOFF" if action == "os-stop" else "ACTIVE", wait=30, interval=0.3)
        path = f"/servers/{server.id}/os-instance-actions"
        every = nova(cloud, member, "GET", path, "2.58").json()["instanceActions"]
        assert [a["action"] for a in every] == ["stop", "start", "stop", "create"]
        assert all(a["updated_at"] for a in every) and "updated_at" not in nova(
            cloud, member, "GET", path, "2.57").json()["instanceActions"][0]
        page = nova(cloud, member, "GET", f"{path}?limit=2", "2.58").json()
        assert [a["request_id"] for a in page["instanceActions"]] == [a["request_id"] for a in every[:2]]
        after = nova(cloud, member, "GET", f"{path}?marker={every[1]['request_id']}", "2.58").json()
        assert [a["request_id"] for a in after["instanceActions"]] == [a["request_id"] for a in every[2:]]
        assert "marker" in page["links"][0]["href"]
        assert nova(cloud, member, "GET", f"{path}?marker=req-nope", "2.58").status_code == 400
        future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()
        assert nova(cloud, member, "GET", path, "2.58", params={"changes-since": future}).json()[
            "instanceActions"] == []
        assert nova(cloud, member, "GET", path, "2.58", params={"changes-since": "yesterday"}).status_code == 400
        shown = f"{path}/{every[0]['request_id']}"
        assert "events" not in nova(cloud, member, "GET", shown, "2.50").json()["instanceAction"]
        events = nova(cloud, member, "GET", shown, "2.51").json()["instanceAction"]["events"]
        assert events and events[0]["result"] == "Success" and "traceback" not in events[0]
        admin_view = nova(cloud, conn, "GET", shown, "2.51").json()["instanceAction"]["events"][0]
        assert "traceback" in admin_view
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=30)
    finally:
        member.close()
        conn.identity.delete_project(project)


def test_interface_tags_from_2_49(conn, cloud):
    net = network(conn, "tagged-iface", "10.87.0.0/24")
    server = boot(conn, "tag-iface", flavor="m1.nano")
    path = f"/servers/{server.id}/os-interface"
    body = {"interfaceAttachment": {"net_id": net.id, "tag": "data"}}
    assert nova(cloud, conn, "POST", path, "2.48", json=body).status_code == 400
    made = nova(cloud, conn, "POST", path, "2.49", json=body)
    assert made.status_code == 200, made.text
    assert nova(cloud, conn, "POST", path, "2.49",
                json={"interfaceAttachment": {"net_id": net.id, "tag": "a/b"}}).status_code == 400
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_the_cli_at_the_new_maximum(conn, cloud, cloud_env):
    """The CLI negotiates up to what is advertised; what it shows must still parse."""
    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args, "-f", "json"], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert BINARY in cli("compute", "service", "list")
    assert "stratus" in cli("hypervisor", "list")
    assert "m1.nano" in cli("flavor", "list")
