"""Per-microversion behaviour of the compute API up to the advertised maximum (2.38),
over raw HTTP (each request names its version), openstacksdk and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import CONFIG, boot, image, network, nova


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG, defaults=False)
    yield server
    server.stop()


def test_keypairs_by_version(conn, cloud):
    old = nova(cloud, conn, "POST", "/os-keypairs", "2.1", json={"keypair": {"name": "kp-old"}})
    assert old.status_code == 200 and "type" not in old.json()["keypair"]
    assert nova(cloud, conn, "POST", "/os-keypairs", "2.1",
                json={"keypair": {"name": "kp-x", "type": "x509"}}).status_code == 400
    new = nova(cloud, conn, "POST", "/os-keypairs", "2.2", json={"keypair": {"name": "kp-cert", "type": "x509"}})
    assert new.status_code == 201 and new.json()["keypair"]["type"] == "x509"
    assert "BEGIN CERTIFICATE" in new.json()["keypair"]["public_key"]
    for name in ("kp-a", "kp-b", "kp-c"):
        nova(cloud, conn, "POST", "/os-keypairs", "2.35", json={"keypair": {"name": name}})
    page = nova(cloud, conn, "GET", "/os-keypairs?limit=2&marker=kp-a", "2.35").json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["kp-b", "kp-c"] and page["keypairs_links"]
    assert nova(cloud, conn, "DELETE", "/os-keypairs/kp-old", "2.1").status_code == 202
    assert nova(cloud, conn, "DELETE", "/os-keypairs/kp-cert", "2.2").status_code == 204
    other = nova(cloud, conn, "POST", "/os-keypairs", "2.10",
                 json={"keypair": {"name": "theirs", "user_id": "someone-else"}})
    assert other.status_code == 201 and other.json()["keypair"]["user_id"] == "someone-else"
    assert nova(cloud, conn, "GET", "/os-keypairs/theirs?user_id=someone-else", "2.10").status_code == 200
    assert nova(cloud, conn, "GET", "/os-keypairs/theirs", "2.10").status_code == 404


def test_server_fields_and_filters_by_version(conn, cloud):
    image(conn)
    server = boot(conn, "versioned", flavor="m1.nano")
    path = f"/servers/{server.id}"
    old = nova(cloud, conn, "GET", path, "2.1").json()["server"]
    assert not {"locked", "description", "tags", "host_status"} & set(old)
    new = nova(cloud, conn, "GET", path, "2.38").json()["server"]
    assert new["locked"] is False and new["description"] is None and new["tags"] == []
    assert new["host_status"] == "UP" and new["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert nova(cloud, conn, "PUT", path, "2.18", json={"server": {"description": "d"}}).status_code == 400
    assert nova(cloud, conn, "PUT", path, "2.19", json={"server": {"description": "d"}}).json()[
        "server"]["description"] == "d"
    assert nova(cloud, conn, "GET", f"{path}/tags", "2.25").status_code == 404
    assert nova(cloud, conn, "PUT", f"{path}/tags", "2.26", json={"tags": ["red", "blue"]}).status_code == 200
    assert nova(cloud, conn, "PUT", f"{path}/tags/green", "2.26").status_code == 201
    assert nova(cloud, conn, "GET", f"{path}/tags/green", "2.26").status_code == 204
    assert nova(cloud, conn, "PUT", f"{path}/tags/bad,tag", "2.26").status_code == 400

    def listed(query):
        return [s["id"] for s in nova(cloud, conn, "GET", f"/servers?{query}", "2.26").json()["servers"]]

    assert listed("tags=red,green") == [server.id] and listed("tags=red,yellow") == []
    assert listed("tags-any=yellow,blue") == [server.id] and listed("not-tags-any=blue") == []
    assert nova(cloud, conn, "GET", "/servers?status=bogus", "2.37").json()["servers"] == []
    assert nova(cloud, conn, "GET", "/servers?status=bogus", "2.38").status_code == 400
    assert nova(cloud, conn, "GET", f"{path}/os-instance-actions", "2.21").status_code == 200
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert nova(cloud, conn, "GET", f"{path}/os-instance-actions", "2.20").status_code == 404
    deleted = nova(cloud, conn, "GET", f"{path}/os-instance-actions", "2.21")
    assert deleted.status_code == 200 and {a["action"] for a in deleted.json()["instanceActions"]} >= {"create",
                                                                                                      "delete"}


def test_networks_auto_none_and_required(conn, cloud, cloud_env):
    net = network(conn, "versions-net", "10.86.0.0/24")
    body = {"name": "nets", "imageRef": image(conn).id, "flavorRef": conn.compute.find_flavor("m1.nano").id}
    missing = nova(cloud, conn, "POST", "/servers", "2.37", json={"server": body})
    assert missing.status_code == 400 and "networks" in missing.text
    assert nova(cloud, conn, "POST", "/servers", "2.36", json={"server": {**body, "networks": "none"}}
                ).status_code == 400
    none = nova(cloud, conn, "POST", "/servers", "2.37", json={"server": {**body, "networks": "none"}})
    auto = nova(cloud, conn, "POST", "/servers", "2.37", json={"server": {**body, "networks": "auto"}})
    assert none.status_code == auto.status_code == 202
    made = {s: conn.compute.wait_for_server(conn.compute.get_server(r.json()["server"]["id"]), wait=60,
                                            interval=0.3) for s, r in (("none", none), ("auto", auto))}
    assert made["none"].addresses == {} and list(made["auto"].addresses) == ["versions-net"]
    result = subprocess.run([sys.executable, "-m", "openstackclient.shell", "server", "create", "--image",
                             image(conn).id, "--flavor", "m1.nano", "--no-network", "--wait", "cli-none", "-f",
                             "json"], env=cloud_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "ACTIVE"
    assert net.id


def test_groups_services_hypervisors_flavors_by_version(conn, cloud):
    group = {"server_group": {"name": "soft", "policies": ["soft-anti-affinity"]}}
    assert nova(cloud, conn, "POST", "/os-server-groups", "2.14", json=group).status_code == 400
    made = nova(cloud, conn, "POST", "/os-server-groups", "2.15", json=group).json()["server_group"]
    assert "project_id" not in nova(cloud, conn, "GET", f"/os-server-groups/{made['id']}", "2.12").json()[
        "server_group"]
    assert nova(cloud, conn, "GET", f"/os-server-groups/{made['id']}", "2.13").json()["server_group"][
        "project_id"] == conn.current_project_id
    hypervisor = nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.28").json()["hypervisors"][0]
    assert isinstance(hypervisor["cpu_info"], dict)
    assert isinstance(nova(cloud, conn, "GET", "/os-hypervisors/detail", "2.27").json()["hypervisors"][0][
        "cpu_info"], str)
    page = nova(cloud, conn, "GET", "/os-hypervisors?limit=1", "2.33").json()
    assert len(page["hypervisors"]) == 1 and page["hypervisors_links"]
    host = hypervisor["service"]["host"]
    assert nova(cloud, conn, "PUT", "/os-services/force-down", "2.10",
                json={"host": host, "binary": "nova-compute", "forced_down": True}).status_code == 404
    down = nova(cloud, conn, "PUT", "/os-services/force-down", "2.11",
                json={"host": host, "binary": "nova-compute", "forced_down": True})
    assert down.status_code == 200
    try:
        (service,) = [s for s in nova(cloud, conn, "GET", "/os-services?binary=nova-compute", "2.11").json()[
            "services"] if s["host"] == host]
        assert service["forced_down"] is True and service["state"] == "down"
    finally:
        nova(cloud, conn, "PUT", "/os-services/force-down", "2.11",
             json={"host": host, "binary": "nova-compute", "forced_down": False})
    public = conn.compute.find_flavor("m1.nano").id
    access = {"addTenantAccess": {"tenant": conn.current_project_id}}
    assert nova(cloud, conn, "POST", f"/flavors/{public}/action", "2.7", json=access).status_code == 409
    limits = nova(cloud, conn, "GET", "/limits", "2.38").json()["limits"]["absolute"]
    assert "maxSecurityGroups" not in limits and "maxImageMeta" in limits
    console = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    server = boot(conn, "consoled", flavor="m1.nano")
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/remote-consoles", "2.5", json=console
                ).status_code == 404
    answer = nova(cloud, conn, "POST", f"/servers/{server.id}/remote-consoles", "2.6", json=console)
    assert answer.status_code == 200 and answer.json()["remote_console"]["url"].startswith("http://")
    spice = {"remote_console": {"protocol": "spice", "type": "spice-html5"}}
    answer = nova(cloud, conn, "POST", f"/servers/{server.id}/remote-consoles", "2.6", json=spice)
    assert answer.status_code == 400 and "Unavailable console type spice-html5" in answer.text
    mismatch = {"remote_console": {"protocol": "vnc", "type": "serial"}}
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/remote-consoles", "2.6", json=mismatch
                ).status_code == 400
    legacy = {"os-getVNCConsole": {"type": "novnc"}}
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", "2.1", json=legacy).status_code == 200
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", "2.6", json=legacy).status_code == 404
    legacy = {"os-getRDPConsole": {"type": "rdp-html5"}}
    assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", "2.1", json=legacy).status_code == 400
