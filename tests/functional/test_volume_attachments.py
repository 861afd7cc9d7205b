"""Block storage's attachments (3.27, completed at 3.44, as Nova drives them) and what the
microversions up to 3.44 change, over HTTP."""

from __future__ import annotations

import os
import time

import pytest
import requests

from tests.functional.accounts import connect


@pytest.fixture(scope="module")
def conn(cloud):
    connection = connect(cloud.clouds_yaml)
    yield connection
    connection.close()


def cinder(cloud, conn, method, path, version="3.44", **kwargs):
    headers = {"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": f"volume {version}"}
    return requests.request(method, f"{cloud.base_url}/volume/v3/{conn.current_project_id}{path}", headers=headers,
                            timeout=30, **kwargs)


def wait_for(cloud, conn, volume_id, check, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        answer = cinder(cloud, conn, "GET", f"/volumes/{volume_id}")
        if answer.status_code == 404 and check(None):
            return None
        volume = answer.json().get("volume")
        if volume is not None and check(volume):
            return volume
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)


def new_volume(cloud, conn, **extra):
    answer = cinder(cloud, conn, "POST", "/volumes", json={"volume": {"size": 1, **extra}})
    assert answer.status_code == 202, answer.text
    return wait_for(cloud, conn, answer.json()["volume"]["id"], lambda v: v["status"] == "available")


def delete(cloud, conn, volume_id):
    assert cinder(cloud, conn, "DELETE", f"/volumes/{volume_id}").status_code == 202
    wait_for(cloud, conn, volume_id, lambda v: v is None)


def test_nova_attaches_through_reserve_connect_complete_and_detaches(cloud, conn):
    volume = new_volume(cloud, conn)
    server = "6f1c1b1e-0000-4000-8000-000000000001"
    assert cinder(cloud, conn, "POST", "/attachments", version="3.26",
                  json={"attachment": {"volume_uuid": volume["id"]}}).status_code == 404

    made = cinder(cloud, conn, "POST", "/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                                          "instance_uuid": server}})
    assert made.status_code == 200, made.text
    attachment = made.json()["attachment"]
    assert attachment["status"] == "reserved" and attachment["instance"] == server
    assert cinder(cloud, conn, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "reserved"
    other = cinder(cloud, conn, "POST", "/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                                           "instance_uuid": server[:-1] + "2"}})
    assert other.status_code == 400  # not multiattach: one server at a time
    too_early = cinder(cloud, conn, "POST", f"/attachments/{attachment['id']}/action", json={"os-complete": {}})
    assert too_early.status_code == 400

    connector = {"host": "compute-7", "ip": "127.0.0.1", "initiator": None, "multipath": False}
    updated = cinder(cloud, conn, "PUT", f"/attachments/{attachment['id']}",
                     json={"attachment": {"connector": connector}})
    assert updated.status_code == 200, updated.text
    info = updated.json()["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "file" and info["data"]["access_mode"] == "rw"
    assert os.path.exists(info["data"]["path"]) and info["data"]["path"].endswith(f"volume-{volume['id']}")
    assert cinder(cloud, conn, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "attaching"
    assert cinder(cloud, conn, "POST", f"/attachments/{attachment['id']}/action", version="3.43",
                  json={"os-complete": {}}).status_code == 404
    assert cinder(cloud, conn, "POST", f"/attachments/{attachment['id']}/action",
                  json={"os-complete": {}}).status_code == 204

    shown = cinder(cloud, conn, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "in-use" and shown["metadata"]["attached_mode"] == "rw"
    (attached,) = shown["attachments"]
    assert attached["server_id"] == server and attached["attachment_id"] == attachment["id"]
    assert attached["host_name"] == "compute-7"
    listed = cinder(cloud, conn, "GET", "/attachments/detail", params={"volume_id": volume["id"]}).json()
    assert [a["status"] for a in listed["attachments"]] == ["attached"]
    refused = cinder(cloud, conn, "DELETE", f"/volumes/{volume['id']}")
    assert refused.status_code == 400

    gone = cinder(cloud, conn, "DELETE", f"/attachments/{attachment['id']}")
    assert gone.status_code == 200 and gone.json() == {"attachments": []}
    shown = cinder(cloud, conn, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == [] and "attached_mode" not in shown["metadata"]
    assert cinder(cloud, conn, "GET", f"/attachments/{attachment['id']}").status_code == 404
    delete(cloud, conn, volume["id"])


def test_an_attachment_made_with_a_connector_is_exported_at_once_and_read_only_stays_read_only(cloud, conn):
    volume = new_volume(cloud, conn)
    assert cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action",
                  json={"os-update_readonly_flag": {"readonly": True}}).status_code == 202
    made = cinder(cloud, conn, "POST", "/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": "6f1c1b1e-0000-4000-8000-000000000003",
        "connector": {"host": "compute-8"}}}).json()["attachment"]
    assert made["status"] == "attaching" and made["attach_mode"] == "ro"
    assert made["connection_info"]["data"]["access_mode"] == "ro"
    assert cinder(cloud, conn, "POST", "/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "mode": "rw"}}).status_code == 400  # mode needs 3.54
    cinder(cloud, conn, "DELETE", f"/attachments/{made['id']}")
    delete(cloud, conn, volume["id"])


def test_revert_brings_a_volume_back_to_its_latest_snapshot(cloud, conn):
    volume = new_volume(cloud, conn)
    snapshots = []
    for name in ("first", "second"):
        answer = cinder(cloud, conn, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"],
                                                                             "name": name}})
        snapshots.append(answer.json()["snapshot"]["id"])
        deadline = time.monotonic() + 30
        while cinder(cloud, conn, "GET", f"/snapshots/{snapshots[-1]}").json()["snapshot"]["status"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.01)
    path = next((cloud.data_dir / "volumes").glob(f"*/volume-{volume['id']}"))
    with open(path, "r+b") as f:  # what a guest wrote after the snapshots
        f.write(b"written later" * 100)
    assert cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action", version="3.39",
                  json={"revert": {"snapshot_id": snapshots[1]}}).status_code == 400
    not_latest = cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action",
                        json={"revert": {"snapshot_id": snapshots[0]}})
    assert not_latest.status_code == 400 and "latest" in not_latest.json()["badRequest"]["message"]
    assert cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action",
                  json={"revert": {"snapshot_id": snapshots[1]}}).status_code == 202
    wait_for(cloud, conn, volume["id"], lambda v: v["status"] == "available")
    with open(path, "rb") as f:
        assert f.read(4096) == bytes(4096)
    assert cinder(cloud, conn, "DELETE", f"/volumes/{volume['id']}", params={"cascade": "true"}).status_code == 202
    wait_for(cloud, conn, volume["id"], lambda v: v is None)


def test_what_the_microversions_up_to_344_add(cloud, conn):
    volume = new_volume(cloud, conn, name="findable-volume", metadata={"tier": "gold"})
    # 3.12 summary, 3.36 its metadata
    assert cinder(cloud, conn, "GET", "/volumes/summary", version="3.11").status_code == 404
    summary = cinder(cloud, conn, "GET", "/volumes/summary").json()["volume-summary"]
    assert summary["total_count"] >= 1 and summary["metadata"]["tier"] == ["gold"]
    # 3.15 metadata ETags
    read = cinder(cloud, conn, "GET", f"/volumes/{volume['id']}/metadata")
    assert read.headers.get("ETag") and not cinder(cloud, conn, "GET", f"/volumes/{volume['id']}/metadata",
                                                   version="3.14").headers.get("ETag")
    changed = cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/metadata", json={"metadata": {"k": "v"}})
    assert changed.status_code == 200
    conflict = requests.put(f"{cloud.base_url}/volume/v3/{conn.current_project_id}/volumes/{volume['id']}/metadata",
                            headers={"X-Auth-Token": conn.session.get_token(), "If-Match": read.headers["ETag"],
                                     "OpenStack-API-Version": "volume 3.15"},
                            json={"metadata": {"lost": "update"}}, timeout=30)
    assert conflict.status_code == 412
    # 3.34 like filters
    found = cinder(cloud, conn, "GET", "/volumes", params={"name~": "indable"}).json()["volumes"]
    assert [v["id"] for v in found] == [volume["id"]]
    assert cinder(cloud, conn, "GET", "/volumes", version="3.33", params={"name~": "indable"}).json()["volumes"]
    # 3.2 bootable must be a boolean; 3.33 resource filters; 3.7 cluster in services
    assert cinder(cloud, conn, "GET", "/volumes", params={"bootable": "maybe"}).status_code == 400
    assert cinder(cloud, conn, "GET", "/volumes", version="3.1", params={"bootable": "maybe"}).status_code == 200
    filters = cinder(cloud, conn, "GET", "/resource_filters", params={"resource": "volume"}).json()
    assert "glance_metadata" in filters["resource_filters"][0]["filters"]
    assert all("cluster" in s for s in cinder(cloud, conn, "GET", "/os-services").json()["services"])
    # 3.42: an in-use volume is extended only by a backend that can (the file backend cannot)
    cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "in-use"}})
    refused = cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    assert refused.status_code == 400 and "attached volumes" in refused.json()["badRequest"]["message"]
    cinder(cloud, conn, "POST", f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "available"}})
    delete(cloud, conn, volume["id"])
