"""Volumes attached to servers, as `openstack server add volume` and openstacksdk's
``create_volume_attachment`` do it: through block storage's attachments, into the fake
hypervisor's guest, and back out; a deleted server gives its volumes back."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from tests.functional.accounts import connect, member_of_new_project
from tests.functional.conftest import start_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[compute]\nblock_device_allocate_retries_interval = 0.2\n")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(cloud):
    connection = connect(cloud.clouds_yaml)
    yield connection
    connection.close()


def boot(conn, name):
    image = conn.image.find_image("tiny")
    flavor = conn.compute.find_flavor("m1.tiny")
    network = conn.network.find_network("private")
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": network.id}] if network is not None else "none")
    return conn.compute.wait_for_server(server, wait=60, interval=0.2)


def volume_status(conn, volume_id, status, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        volume = conn.block_storage.get_volume(volume_id)
        if volume.status == status:
            return volume
        assert time.monotonic() < deadline, f"volume {volume_id} is {volume.status}, not {status}"
        time.sleep(0.1)


def guest_volumes(cloud, server_id):
    """What the fake hypervisor presents to the guest (its state file)."""
    for path in (cloud.data_dir / "fake-hypervisor").rglob(f"*{server_id}*"):
        if path.is_file():
            return json.loads(path.read_text()).get("volumes", {})
    raise AssertionError(f"no fake guest for {server_id}")


def test_a_volume_is_attached_into_the_guest_and_detached(cloud, conn):
    server = boot(conn, "with-volume")
    volume = volume_status(conn, conn.block_storage.create_volume(size=1, name="data").id, "available")
    attachment = conn.compute.create_volume_attachment(server, volume_id=volume.id)
    assert attachment.device == "/dev/vdb" and attachment.volume_id == volume.id
    volume = volume_status(conn, volume.id, "in-use")
    assert volume.attachments[0]["server_id"] == server.id and volume.attachments[0]["device"] == "/dev/vdb"
    presented = guest_volumes(cloud, server.id)[volume.id]
    assert presented["device_name"] == "/dev/vdb" and presented["driver_volume_type"] == "file"
    assert os.path.exists(presented["connection_info"]["data"]["path"])
    listed = list(conn.compute.volume_attachments(server))
    assert [a.volume_id for a in listed] == [volume.id]
    assert [v["id"] for v in conn.compute.get_server(server).attached_volumes] == [volume.id]

    again = requests.post(f"{cloud.base_url}/compute/v2.1/servers/{server.id}/os-volume_attachments",
                          headers={"X-Auth-Token": conn.session.get_token()},
                          json={"volumeAttachment": {"volumeId": volume.id}}, timeout=30)
    assert again.status_code == 400
    refused = requests.delete(f"{cloud.base_url}/volume/v3/{conn.current_project_id}/volumes/{volume.id}",
                              headers={"X-Auth-Token": conn.session.get_token()}, timeout=30)
    assert refused.status_code == 400  # attached: not deleted

    conn.compute.delete_volume_attachment(server, volume.id)
    volume_status(conn, volume.id, "available")
    assert guest_volumes(cloud, server.id) == {}
    assert list(conn.compute.volume_attachments(server)) == []
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    conn.block_storage.delete_volume(volume)


def test_deleting_a_server_gives_its_volumes_back(cloud, conn):
    server = boot(conn, "doomed")
    kept = volume_status(conn, conn.block_storage.create_volume(size=1).id, "available")
    conn.compute.create_volume_attachment(server, volume_id=kept.id)
    volume_status(conn, kept.id, "in-use")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    volume = volume_status(conn, kept.id, "available")
    assert volume.attachments == []
    conn.block_storage.delete_volume(volume)


def test_another_projects_volume_cannot_be_attached(cloud, conn):
    _, member = member_of_new_project(conn, "volume-thief")
    try:
        server = boot(member, "thief")
        volume = volume_status(conn, conn.block_storage.create_volume(size=1).id, "available")
        answer = requests.post(f"{cloud.base_url}/compute/v2.1/servers/{server.id}/os-volume_attachments",
                               headers={"X-Auth-Token": member.session.get_token()},
                               json={"volumeAttachment": {"volumeId": volume.id}}, timeout=30)
        assert answer.status_code == 404
        assert conn.block_storage.get_volume(volume).status == "available"
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=60)
        conn.block_storage.delete_volume(volume)
    finally:
        member.close()


def test_the_openstack_cli_adds_and_removes_a_volume(cloud, conn):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=cloud.clouds_yaml, OS_CLOUD="stratus")
    server = boot(conn, "cli-server")
    volume = volume_status(conn, conn.block_storage.create_volume(size=1, name="cli-data").id, "available")
    for command in (["server", "add", "volume", server.id, volume.id],):
        done = subprocess.run(["openstack", *command], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    volume_status(conn, volume.id, "in-use")
    done = subprocess.run(["openstack", "server", "remove", "volume", server.id, volume.id], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    volume_status(conn, volume.id, "available")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    conn.block_storage.delete_volume(volume)


def nova(cloud, conn, body):
    return requests.post(f"{cloud.base_url}/compute/v2.1/servers", json={"server": body}, timeout=60,
                         headers={"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.67"})


def server_body(conn, name, mapping, **extra):
    return {"name": name, "flavorRef": conn.compute.find_flavor("m1.tiny").id, "networks": "none",
            "block_device_mapping_v2": mapping, **extra}


def wait_active(conn, server_id):
    return conn.compute.wait_for_server(conn.compute.get_server(server_id), wait=60, interval=0.2)


def test_a_server_boots_from_a_volume_made_from_an_image_and_takes_it_along(cloud, conn):
    image = conn.image.find_image("tiny")
    answer = nova(cloud, conn, server_body(conn, "bfv", [
        {"boot_index": 0, "source_type": "image", "destination_type": "volume", "uuid": image.id,
         "volume_size": 1, "delete_on_termination": True}]))
    assert answer.status_code == 202, answer.text
    server = wait_active(conn, answer.json()["server"]["id"])
    assert not server.image or not server.image.get("id")  # volume-backed: no image of its own
    (attached,) = server.attached_volumes
    volume = conn.block_storage.get_volume(attached["id"])
    assert volume.status == "in-use" and volume.is_bootable and volume.attachments[0]["server_id"] == server.id
    assert volume.volume_image_metadata["image_id"] == image.id
    assert guest_volumes(cloud, server.id)[volume.id]["device_name"] == "/dev/vda"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    deadline = time.monotonic() + 30
    while conn.block_storage.find_volume(volume.id, ignore_missing=True) is not None:
        assert time.monotonic() < deadline, "the delete_on_termination volume stayed"
        time.sleep(0.2)


def test_a_server_boots_from_its_own_volume_with_a_blank_one_beside_and_leaves_them(cloud, conn):
    image = conn.image.find_image("tiny")
    root = volume_status(conn, conn.block_storage.create_volume(size=1, image_id=image.id).id, "available")
    answer = nova(cloud, conn, server_body(conn, "own-volume", [
        {"boot_index": 0, "source_type": "volume", "destination_type": "volume", "uuid": root.id},
        {"source_type": "blank", "destination_type": "volume", "volume_size": 1, "boot_index": -1}]))
    assert answer.status_code == 202, answer.text
    server = wait_active(conn, answer.json()["server"]["id"])
    ids = {v["id"] for v in server.attached_volumes}
    assert root.id in ids and len(ids) == 2
    devices = {v: d["device_name"] for v, d in guest_volumes(cloud, server.id).items()}
    assert devices[root.id] == "/dev/vda" and set(devices.values()) == {"/dev/vda", "/dev/vdb"}
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    for volume_id in ids:
        volume_status(conn, volume_id, "available")
        conn.block_storage.delete_volume(volume_id)


@pytest.mark.parametrize(("mapping", "extra", "words"), [
    ([{"boot_index": 0, "source_type": "volume", "destination_type": "volume",
       "uuid": "00000000-0000-4000-8000-000000000000"}], {}, "failed to get volume"),
    ([{"boot_index": 0, "source_type": "image", "destination_type": "volume", "uuid": "{image}"}], {},
     "needs a volume_size"),
    ([{"boot_index": 0, "source_type": "image", "destination_type": "volume", "uuid": "{image}",
       "volume_size": 1}], {"min_count": 2}, "one per request"),
])
def test_bad_volume_mappings_are_refused_and_leave_no_volume(cloud, conn, mapping, extra, words):
    image = conn.image.find_image("tiny")
    mapping = [{k: (image.id if v == "{image}" else v) for k, v in m.items()} for m in mapping]
    before = {v.id for v in conn.block_storage.volumes()}
    answer = nova(cloud, conn, server_body(conn, "refused", mapping, **extra))
    assert answer.status_code == 400 and words in answer.json()["badRequest"]["message"], answer.text
    assert {v.id for v in conn.block_storage.volumes()} == before


def test_a_volume_moves_with_its_server_on_resize_and_back_on_revert(tmp_path_factory):
    two_hosts = start_cloud(tmp_path_factory, "[compute]\nsimulated_hosts = 2\nallow_resize_to_same_host = false\n")
    conn = connect(two_hosts.clouds_yaml)
    try:
        server = boot(conn, "moving")
        source = conn.compute.get_server(server).compute_host
        volume = volume_status(conn, conn.block_storage.create_volume(size=1).id, "available")
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        volume_status(conn, volume.id, "in-use")

        def presented(host):
            found = [p for p in (two_hosts.data_dir / "fake-hypervisor" / host).glob(f"*{server.id}*") if p.is_file()]
            return json.loads(found[0].read_text()).get("volumes", {}) if found else None

        conn.compute.resize_server(server, conn.compute.find_flavor("m1.small").id)
        server = conn.compute.wait_for_server(server, status="VERIFY_RESIZE", wait=60, interval=0.2)
        destination = server.compute_host
        assert destination != source
        assert volume.id in presented(destination)  # plugged into the guest on its new host
        attachment = conn.block_storage.get_volume(volume).attachments[0]
        assert attachment["host_name"] == destination

        conn.compute.revert_server_resize(server)
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.2)
        assert server.compute_host == source and volume.id in presented(source)
        assert conn.block_storage.get_volume(volume).attachments[0]["host_name"] == source

        conn.compute.rebuild_server(server, image=conn.image.find_image("tiny").id)
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.2)
        assert volume.id in presented(source)  # a rebuilt guest keeps its volumes

        conn.compute.delete_volume_attachment(server, volume.id)
        volume_status(conn, volume.id, "available")
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        conn.block_storage.delete_volume(volume)
    finally:
        conn.close()
        two_hosts.stop()


def test_an_attachment_changes_delete_on_termination_but_no_swap(cloud, conn):
    server = boot(conn, "keeps")
    volume = volume_status(conn, conn.block_storage.create_volume(size=1).id, "available")
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    volume_status(conn, volume.id, "in-use")
    url = f"{cloud.base_url}/compute/v2.1/servers/{server.id}/os-volume_attachments"
    headers = {"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.85"}
    changed = requests.put(f"{url}/{volume.id}", headers=headers, timeout=30,
                           json={"volumeAttachment": {"volumeId": volume.id, "delete_on_termination": True}})
    assert changed.status_code == 202, changed.text
    shown = requests.get(f"{url}/{volume.id}", headers=headers, timeout=30).json()["volumeAttachment"]
    assert shown["delete_on_termination"] is True
    missing = "00000000-0000-4000-8000-000000000009"
    assert requests.put(f"{url}/{missing}", headers=headers, timeout=30,
                        json={"volumeAttachment": {"volumeId": volume.id}}).status_code == 404
    assert requests.put(f"{url}/{volume.id}", headers=headers, timeout=30,
                        json={"volumeAttachment": {"volumeId": missing}}).status_code == 404
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    deadline = time.monotonic() + 30
    while conn.block_storage.find_volume(volume.id, ignore_missing=True) is not None:
        assert time.monotonic() < deadline, "the volume marked delete_on_termination stayed"
        time.sleep(0.2)


def test_a_failed_attach_or_build_gives_the_volume_back(tmp_path_factory):
    """The guest refuses the volume (fault injection): the attachment ends and the volume is
    available again, with no attachment; a build that fails after mapping a volume ends its
    attachment too."""
    host = "faulty"
    failing = start_cloud(tmp_path_factory, f"[DEFAULT]\nhost = {host}\n[compute]\n"
                          "block_device_allocate_retries_interval = 0.2\n"
                          f"[fake_hypervisor]\nfail_attach_hosts = {host}\nfail_spawn_flavors = m1.small\n")
    conn = connect(failing.clouds_yaml)
    try:
        server = boot(conn, "refuses-volumes")
        volume = volume_status(conn, conn.block_storage.create_volume(size=1).id, "available")
        answer = requests.post(f"{failing.base_url}/compute/v2.1/servers/{server.id}/os-volume_attachments",
                               headers={"X-Auth-Token": conn.session.get_token()},
                               json={"volumeAttachment": {"volumeId": volume.id}}, timeout=60)
        assert answer.status_code >= 500 and "injected failure" in answer.text, answer.text
        volume = volume_status(conn, volume.id, "available")
        assert volume.attachments == [] and list(conn.compute.volume_attachments(server)) == []
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)

        conn.block_storage.set_volume_bootable_status(volume, True)
        failed = nova(failing, conn, server_body(conn, "fails-to-build", [
            {"boot_index": 0, "source_type": "volume", "destination_type": "volume", "uuid": volume.id}],
            flavorRef=conn.compute.find_flavor("m1.small").id))
        assert failed.status_code == 202, failed.text
        built = conn.compute.wait_for_server(conn.compute.get_server(failed.json()["server"]["id"]),
                                             status="ERROR", failures=["ACTIVE"], wait=60, interval=0.2)
        assert conn.block_storage.get_volume(volume).status == "available"
        conn.compute.delete_server(built)
        conn.compute.wait_for_delete(built, wait=60)
        conn.block_storage.delete_volume(volume)
    finally:
        conn.close()
        failing.stop()
