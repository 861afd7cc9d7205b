"""Resize (on one host and between hosts), confirm and revert, rebuild and createImage,
over HTTP with openstacksdk, the CLI and raw requests, with Nova's state rules."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.functional.accounts import connect, member_of_new_project
from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import CONFIG, boot, image, network, node_usage, nova, wait_status

NANO, MICRO = "42", "84"  # the standard flavors' ids
TWO_HOSTS = "[DEFAULT]\nhost = stratus\n" + CONFIG + "simulated_hosts = 2\nallow_resize_to_same_host = false\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG, defaults=False)
    yield server
    server.stop()


def usage(cloud):
    """(vcpus, MiB) used per host."""
    return {host: (vcpus, ram) for host, vcpus, ram, _ in node_usage(cloud)}


def migrations(conn, cloud, server_id):
    found = nova(cloud, conn, "GET", f"/os-migrations?instance_uuid={server_id}")
    assert found.status_code == 200, found.text
    return found.json()["migrations"]


def test_resize_on_one_host_then_confirm(conn, cloud):
    server = boot(conn, "growing", flavor="m1.nano")
    conn.compute.resize_server(server, conn.compute.find_flavor("m1.micro").id)
    resized = wait_status(conn, server, "VERIFY_RESIZE")
    assert resized.flavor["original_name"] == "m1.micro" and resized.vm_state == "resized"
    # both flavors are held until the resize is confirmed
    assert usage(cloud)[resized.compute_host] == (2, 128 + 192)
    (migration,) = migrations(conn, cloud, server.id)
    assert migration["status"] == "finished" and migration["source_compute"] == migration["dest_compute"]
    with sqlite3.connect(cloud.data_dir / "stratus.sqlite") as db:  # Nova shows flavors' database ids here
        ids = dict(db.execute("select flavorid, id from flavors").fetchall())
    assert (migration["old_instance_type_id"], migration["new_instance_type_id"]) == (ids[NANO], ids[MICRO])
    conn.compute.confirm_server_resize(server)
    confirmed = wait_status(conn, server, "ACTIVE")
    assert confirmed.flavor["original_name"] == "m1.micro"
    assert usage(cloud)[resized.compute_host] == (1, 192)
    assert migrations(conn, cloud, server.id)[0]["status"] == "confirmed"
    again = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"confirmResize": None})
    assert again.status_code == 409 and "vm_state active" in again.text
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)
    assert usage(cloud)[resized.compute_host] == (0, 0)


def test_revert_returns_to_the_old_flavor_and_a_stopped_server_stays_stopped(conn, cloud):
    server = boot(conn, "shrinking", flavor="m1.nano")
    conn.compute.stop_server(server)
    wait_status(conn, server, "SHUTOFF")
    conn.compute.resize_server(server, conn.compute.find_flavor("m1.micro").id)
    resized = wait_status(conn, server, "VERIFY_RESIZE")
    assert resized.power_state == 4
    conn.compute.revert_server_resize(server)
    reverted = wait_status(conn, server, "SHUTOFF")
    assert reverted.flavor["original_name"] == "m1.nano" and reverted.vm_state == "stopped"
    assert usage(cloud)[reverted.compute_host] == (1, 128)
    assert migrations(conn, cloud, server.id)[0]["status"] == "reverted"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"resize": {"flavorRef": NANO}}, 400, "must change flavor"),
    ({"resize": {"flavorRef": "no-such-flavor"}}, 400, "Unable to locate requested flavor"),
    ({"resize": {}}, 400, "flavorRef"),
    ({"revertResize": None}, 409, "vm_state active"),
    ({"rebuild": {"imageRef": "b3b1a1f5-34ed-4fd2-8cb3-6f8d6f6c0c00"}}, 400, "could not be found"),
    ({"rebuild": {}}, 400, "imageRef"),
    ({"createImage": {}}, 400, "name"),
    ({"createImage": {"name": "x", "metadata": {"k": 1}}}, 400, "metadata"),
])
def test_bad_actions_are_refused_and_change_nothing(conn, cloud, body, status, words):
    server = conn.compute.find_server("steady") or boot(conn, "steady", flavor="m1.nano")
    before = usage(cloud)
    answer = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json=body)
    assert answer.status_code == status and words in answer.text, answer.text
    after = conn.compute.get_server(server.id)
    assert (after.status, after.task_state, after.flavor["original_name"]) == ("ACTIVE", None, "m1.nano")
    assert usage(cloud) == before


def test_resize_over_quota_is_403(conn, cloud):
    project = conn.current_project_id
    conn.set_compute_quotas(project, ram=1024)
    try:
        server = conn.compute.find_server("steady") or boot(conn, "steady", flavor="m1.nano")
        answer = nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                      json={"resize": {"flavorRef": conn.compute.find_flavor("m1.small").id}})
        assert answer.status_code == 403 and "ram" in answer.text
        assert conn.compute.get_server(server.id).status == "ACTIVE"
    finally:
        conn.set_compute_quotas(project, ram=51200)


def test_a_move_no_host_can_take_is_400_and_changes_nothing(conn, cloud):
    server = boot(conn, "stuck", flavor="m1.nano")
    path = f"/servers/{server.id}/action"
    refused = nova(cloud, conn, "POST", path, json={"migrate": None})  # the only host is its own
    assert refused.status_code == 400, refused.text
    assert refused.json()["badRequest"]["message"].startswith(
        "No valid host was found. No valid host found for cold migrate."), refused.text
    vast = conn.compute.create_flavor(name="vast-disk", ram=64, vcpus=1, disk=100000)
    _, member = member_of_new_project(conn, "no-room")
    own = boot(member, "own-stuck", flavor="m1.nano")
    try:
        refused = nova(cloud, conn, "POST", path, json={"resize": {"flavorRef": vast.id}})
        assert refused.status_code == 400 and "DiskFilter removed 1 of 1" in refused.text, refused.text
        plain = nova(cloud, member, "POST", f"/servers/{own.id}/action", json={"resize": {"flavorRef": vast.id}})
        # what the filters found about the cloud's hosts is for administrators; a member gets Nova's words
        assert plain.status_code == 400 and plain.json()["badRequest"]["message"] == "No valid host was found."
        fault = nova(cloud, member, "GET", f"/servers/{own.id}").json()["server"].get("fault")
        assert fault is None or "details" not in fault
    finally:
        member.compute.delete_server(own)
        conn.compute.delete_flavor(vast)
    same = conn.compute.get_server(server)
    assert (same.status, same.task_state, same.flavor["original_name"]) == ("ACTIVE", None, "m1.nano")
    assert [m["status"] for m in migrations(conn, cloud, server.id)] == ["error", "error"]
    with sqlite3.connect(cloud.data_dir / "stratus.sqlite") as db:  # nothing claimed, nothing parked
        held = db.execute("select instance_uuid, vcpus, memory_mb from allocations").fetchall()
    assert (server.id, 1, 128) in held
    assert {u for u, _, _ in held} <= {s.id for s in conn.compute.servers(all_projects=True)}, held
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_rebuild_gives_a_new_image_and_keeps_the_ports(conn, cloud):
    net = network(conn, "rebuild-net", "10.81.0.0/24")
    server = boot(conn, "rebuilt", flavor="m1.nano", networks=[{"uuid": net.id}])
    other = conn.image.create_image(name="other-image", disk_format="raw", container_format="bare",
                                    data=b"\1" * 4096, visibility="public")
    port = next(conn.network.ports(device_id=server.id))
    answer = nova(cloud, conn, "POST", f"/servers/{server.id}/action",
                  json={"rebuild": {"imageRef": other.id, "name": "reborn", "metadata": {"v": "2"}}})
    assert answer.status_code == 202, answer.text
    shown = answer.json()["server"]
    assert shown["image"]["id"] == other.id and shown["name"] == "reborn" and shown["adminPass"]
    assert shown["status"] == "REBUILD"
    done = wait_status(conn, server, "ACTIVE")
    assert done.image.id == other.id and done.metadata == {"v": "2"} and done.name == "reborn"
    assert [p.id for p in conn.network.ports(device_id=server.id)] == [port.id]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_create_image_uploads_the_disk_as_a_snapshot(conn, cloud):
    base = conn.image.get_image(image(conn))  # as stored (a newly made one is returned before its upload)
    server = boot(conn, "snapped", flavor="m1.nano")
    snapshot_id = conn.compute.create_server_image(server, "snap-1", metadata={"purpose": "backup"})
    if not isinstance(snapshot_id, str):
        snapshot_id = snapshot_id.id
    snapshot = conn.image.wait_for_status(conn.image.get_image(snapshot_id), "active", wait=30, interval=0.3)
    data = conn.image.download_image(snapshot).content
    # the fake disk is the image it booted from
    assert hashlib.md5(data, usedforsecurity=False).hexdigest() == base.checksum
    raw = requests.get(f"{cloud.base_url}/image/v2/images/{snapshot.id}", timeout=30,
                       headers={"X-Auth-Token": conn.session.get_token()}).json()
    assert raw["image_type"] == "snapshot" and raw["instance_uuid"] == server.id and raw["purpose"] == "backup"
    assert raw["base_image_ref"] == base.id and raw["visibility"] == "private" and raw["disk_format"] == "raw"
    assert raw["owner"] == conn.current_project_id and raw["min_disk"] == 1
    assert wait_status(conn, server, "ACTIVE").task_state is None
    # the snapshot boots like any image
    clone = conn.compute.create_server(name="clone", image_id=snapshot.id, flavor_id=conn.compute.find_flavor(
        "m1.nano").id, networks=[])
    assert conn.compute.wait_for_server(clone, wait=60, interval=0.3).status == "ACTIVE"
    for doomed in (clone, server):
        conn.compute.delete_server(doomed)
        conn.compute.wait_for_delete(doomed, wait=30)


def test_a_snapshot_whose_image_is_deleted_meanwhile_leaves_the_server_as_it_was(conn, cloud):
    big = conn.image.create_image(name="big-disk", disk_format="raw", container_format="bare",
                                  data=b"\1" * (48 << 20))  # a disk that takes a moment to stream
    server = conn.compute.wait_for_server(conn.compute.create_server(
        name="snapped-then-dropped", image_id=big.id, flavor_id=conn.compute.find_flavor("m1.micro").id,
        networks=[]), wait=60, interval=0.3)
    for attempt in range(4):  # the delete lands before, during or after the upload
        snapshot_id = conn.compute.create_server_image(server, f"dropped-{attempt}")
        snapshot_id = snapshot_id if isinstance(snapshot_id, str) else snapshot_id.id
        time.sleep(attempt * 0.02)
        conn.image.delete_image(snapshot_id, ignore_missing=True)
        settled = wait_status(conn, server, "ACTIVE")
        deadline = time.monotonic() + 30
        while settled.task_state is not None and time.monotonic() < deadline:
            time.sleep(0.1)
            settled = conn.compute.get_server(server)
        assert settled.task_state is None and not settled.fault  # the user's choice, not a failure
    assert "Traceback" not in cloud.text
    conn.compute.delete_server(server)
    conn.image.delete_image(big)


def test_create_image_microversions(conn, cloud):
    server = conn.compute.find_server("steady") or boot(conn, "steady", flavor="m1.nano")
    old = nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"createImage": {"name": "old-style"}})
    assert old.status_code == 202 and old.headers["Location"].rsplit("/", 1)[-1]
    conn.image.wait_for_status(conn.image.get_image(old.headers["Location"].rsplit("/", 1)[-1]), "active",
                               wait=30, interval=0.3)
    wait_status(conn, server, "ACTIVE")


def test_a_second_image_is_refused_while_the_first_is_saved(tmp_path_factory):
    slow = start_cloud(tmp_path_factory, CONFIG + "[fake_hypervisor]\nsnapshot_latency = 1\n", defaults=False)
    try:
        conn = connect(slow.clouds_yaml)
        server = boot(conn, "snapped-twice", flavor="m1.nano")
        first = nova(slow, conn, "POST", f"/servers/{server.id}/action", json={"createImage": {"name": "first"}})
        assert first.status_code == 202, first.text
        second = nova(slow, conn, "POST", f"/servers/{server.id}/action", json={"createImage": {"name": "second"}})
        assert second.status_code == 409 and "task_state image_" in second.json()["conflictingRequest"]["message"]
        assert "second" not in [i.name for i in conn.image.images()]  # nothing half-made
        saved = conn.image.get_image(first.headers["Location"].rsplit("/", 1)[-1])
        conn.image.wait_for_status(saved, "active", wait=30, interval=0.3)
        deadline = time.monotonic() + 30
        while conn.compute.get_server(server).task_state is not None:
            assert time.monotonic() < deadline, "the first snapshot never ended"
            time.sleep(0.1)
        third = nova(slow, conn, "POST", f"/servers/{server.id}/action", json={"createImage": {"name": "third"}})
        assert third.status_code == 202, third.text
        conn.close()
    finally:
        slow.stop()


def test_cli_resize_and_snapshot(cloud, cloud_env, conn):
    boot(conn, "cli-resized", flavor="m1.nano")

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("server", "resize", "--flavor", "m1.micro", "--wait", "cli-resized")
    assert json.loads(cli("server", "show", "cli-resized", "-f", "json"))["status"] == "VERIFY_RESIZE"
    cli("server", "resize", "confirm", "cli-resized")
    cli("server", "image", "create", "--name", "cli-snap", "--wait", "cli-resized")
    assert json.loads(cli("image", "show", "cli-snap", "-f", "json"))["status"] == "active"
    cli("server", "delete", "--wait", "cli-resized")


def test_resize_between_hosts_moves_the_server_and_revert_brings_it_back(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, TWO_HOSTS, defaults=False)
    try:
        conn = connect(cloud.clouds_yaml)
        net = network(conn, "moving-net", "10.82.0.0/24")
        server = boot(conn, "mover", flavor="m1.nano", networks=[{"uuid": net.id}])
        source = server.compute_host
        port = next(conn.network.ports(device_id=server.id))
        conn.compute.resize_server(server, conn.compute.find_flavor("m1.micro").id)
        moved = wait_status(conn, server, "VERIFY_RESIZE")
        assert moved.compute_host != source and moved.flavor["original_name"] == "m1.micro"
        assert conn.network.get_port(port.id).binding_host_id == moved.compute_host
        assert usage(cloud) == {source: (1, 128), moved.compute_host: (1, 192)}
        conn.compute.revert_server_resize(server)
        back = wait_status(conn, server, "ACTIVE")
        assert back.compute_host == source and back.flavor["original_name"] == "m1.nano" and back.power_state == 1
        assert conn.network.get_port(port.id).binding_host_id == source
        assert usage(cloud) == {source: (1, 128), moved.compute_host: (0, 0)}
        # again, confirmed this time: the source forgets it
        conn.compute.resize_server(server, conn.compute.find_flavor("m1.micro").id)
        wait_status(conn, server, "VERIFY_RESIZE")
        conn.compute.confirm_server_resize(server)
        confirmed = wait_status(conn, server, "ACTIVE")
        assert confirmed.compute_host != source
        assert usage(cloud) == {source: (0, 0), confirmed.compute_host: (1, 192)}
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=30)
        assert list(conn.network.ports(device_id=server.id)) == []
        conn.close()
    finally:
        cloud.stop()


def test_interfaces_attach_and_detach(conn, cloud, cloud_env):
    first, second = network(conn, "iface-a", "10.83.0.0/24"), network(conn, "iface-b", "10.84.0.0/24")
    server = boot(conn, "plugged", flavor="m1.nano", networks=[{"uuid": first.id}])
    (original,) = conn.compute.server_interfaces(server)
    assert original.net_id == first.id and original.port_state == "ACTIVE"
    added = conn.compute.create_server_interface(server, net_id=second.id,
                                                fixed_ips=[{"ip_address": "10.84.0.50"}])
    assert added.net_id == second.id and added.fixed_ips[0]["ip_address"] == "10.84.0.50"
    assert {i.port_id for i in conn.compute.server_interfaces(server)} == {original.port_id, added.port_id}
    shown = conn.compute.get_server(server.id)
    assert shown.addresses["iface-b"][0]["addr"] == "10.84.0.50"
    assert "hot-plugged" in conn.compute.get_server_console_output(server)["output"]
    given = conn.network.create_port(network_id=second.id)
    result = subprocess.run([sys.executable, "-m", "openstackclient.shell", "server", "add", "port", "plugged",
                             given.id], env=cloud_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert conn.network.get_port(given.id).device_id == server.id
    # bad requests: both ids, an address without a network, a port in use, an unknown network
    for body, status in (({"net_id": second.id, "port_id": given.id}, 400),
                         ({"fixed_ips": [{"ip_address": "10.84.0.9"}]}, 400),
                         ({"port_id": given.id}, 409),
                         ({"net_id": "0b9e0a08-5fd7-4b0e-8b1f-0e2c7d1f0000"}, 404)):
        answer = nova(cloud, conn, "POST", f"/servers/{server.id}/os-interface", json={"interfaceAttachment": body})
        assert answer.status_code == status, (body, answer.text)
    assert len(list(conn.compute.server_interfaces(server))) == 3
    conn.compute.delete_server_interface(added, server=server)
    conn.compute.delete_server_interface(given.id, server=server)
    deadline = time.monotonic() + 30
    while len(list(conn.compute.server_interfaces(server))) != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [i.port_id for i in conn.compute.server_interfaces(server)] == [original.port_id]
    assert conn.network.find_port(added.port_id) is None  # made for the server: gone
    kept = conn.network.get_port(given.id)  # given by the user: kept, unbound
    assert kept.device_id == "" and kept.binding_host_id in ("", None)
    missing = nova(cloud, conn, "DELETE", f"/servers/{server.id}/os-interface/{given.id}")
    assert missing.status_code == 404
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30)


def test_cold_migration_moves_to_another_host_and_migrations_page(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, TWO_HOSTS.replace("simulated_hosts = 2", "simulated_hosts = 3"),
                        defaults=False)
    try:
        conn = connect(cloud.clouds_yaml)
        server = boot(conn, "migrant", flavor="m1.nano")
        source, path = server.compute_host, f"/servers/{server.id}/action"
        assert nova(cloud, conn, "POST", path, "2.55", json={"migrate": {"host": "anywhere"}}).status_code == 400
        for host, words in (("no-such-host", "could not be found"), (source, "to current host")):
            refused = nova(cloud, conn, "POST", path, "2.56", json={"migrate": {"host": host}})
            assert refused.status_code == 400 and words in refused.text, refused.text
        _, member = member_of_new_project(conn, "migrate-member")
        try:
            theirs = boot(member, "theirs", flavor="m1.nano")
            assert nova(cloud, member, "POST", f"/servers/{theirs.id}/action", json={"migrate": None}
                        ).status_code == 403
        finally:
            member.close()
        assert nova(cloud, conn, "POST", path, json={"migrate": None}).status_code == 202
        moved = wait_status(conn, server, "VERIFY_RESIZE")
        assert moved.compute_host != source and moved.flavor["original_name"] == "m1.nano"
        conn.compute.confirm_server_resize(server)
        settled = wait_status(conn, server, "ACTIVE")
        target = next(h for h in usage(cloud) if h not in (source, settled.compute_host))
        assert nova(cloud, conn, "POST", path, "2.56", json={"migrate": {"host": target}}).status_code == 202
        wait_status(conn, server, "VERIFY_RESIZE")
        conn.compute.revert_server_resize(server)
        assert wait_status(conn, server, "ACTIVE").compute_host == settled.compute_host
        found = nova(cloud, conn, "GET", f"/os-migrations?instance_uuid={server.id}", "2.59").json()["migrations"]
        assert [(m["migration_type"], m["status"]) for m in found] == [("migration", "reverted"),
                                                                       ("migration", "confirmed")]
        assert found[0]["dest_compute"] == target and all(m["uuid"] for m in found)
        page = nova(cloud, conn, "GET", "/os-migrations?limit=1", "2.59").json()
        assert [m["uuid"] for m in page["migrations"]] == [found[0]["uuid"]] and page["migrations_links"]
        rest = nova(cloud, conn, "GET", f"/os-migrations?marker={found[0]['uuid']}", "2.59").json()["migrations"]
        assert [m["uuid"] for m in rest] == [found[1]["uuid"]]
        assert nova(cloud, conn, "GET", "/os-migrations?bogus=1", "2.59").status_code == 400
        assert nova(cloud, conn, "GET", "/os-migrations?bogus=1", "2.58").status_code == 200
        assert nova(cloud, conn, "GET", f"/os-migrations?marker={uuid.uuid4()}", "2.59").status_code == 400
        assert "uuid" not in nova(cloud, conn, "GET", "/os-migrations", "2.58").json()["migrations"][0]
        conn.close()
    finally:
        cloud.stop()
