"""Block storage over HTTP, as openstacksdk and the `openstack` CLI use it: volumes,
snapshots, clones, extend, types selecting backends, quotas, what one project sees of
another's, and bad input answered as Cinder answers it."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from tests.fixtures.concurrency import run_together
from tests.functional.accounts import connect, member_of_new_project
from tests.functional.conftest import start_cloud

CONFIG = """[volume]
enabled_backends = fast,bulk
[fast]
volume_driver = file
[bulk]
volume_driver = file
volume_backend_name = bulk-disks
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(cloud):
    connection = connect(cloud.clouds_yaml)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def member(conn):
    _, connection = member_of_new_project(conn, "volume-member")
    yield connection
    connection.close()


def cinder(cloud, conn, method, path, project=True, version=None, **kwargs):
    """A raw request to the block-storage API as ``conn``'s user."""
    prefix = f"/{conn.current_project_id}" if project else ""
    headers = {"X-Auth-Token": conn.session.get_token()}
    if version:
        headers["OpenStack-API-Version"] = f"volume {version}"
    return requests.request(method, f"{cloud.base_url}/volume/v3{prefix}{path}", headers=headers, timeout=30,
                            **kwargs)


def wait_status(conn, volume, status="available", timeout=30):
    """``volume`` once in ``status``; openstacksdk returns at once when the object it is given already
    shows that status, so give it a fresh one (after an action, use :func:`wait_until`)."""
    return conn.block_storage.wait_for_status(volume, status=status, failures=["error"] if status != "error"
                                              else [], interval=0.1, wait=timeout)


def wait_until(conn, volume_id, check, timeout=30):
    """The volume once ``check(volume)`` holds (actions change a volume already available)."""
    deadline = time.monotonic() + timeout
    while True:
        volume = conn.block_storage.get_volume(volume_id)
        if check(volume):
            return volume
        assert time.monotonic() < deadline, f"volume {volume_id} is {volume.status}, size {volume.size}"
        time.sleep(0.1)


def wait_gone(conn, volume_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.block_storage.find_volume(volume_id, ignore_missing=True) is None:
            return
        time.sleep(0.1)
    raise AssertionError(f"volume {volume_id} is still there")


def backend_files(cloud, backend):
    directory = cloud.data_dir / "volumes" / backend
    return sorted(os.listdir(directory)) if directory.exists() else []


def test_a_volume_is_made_on_a_backend_grows_and_goes_with_its_file(cloud, conn):
    volume = conn.block_storage.create_volume(size=1, name="data", metadata={"tier": "gold"})
    assert volume.status == "creating"
    volume = wait_status(conn, volume)
    assert volume.size == 1 and volume.metadata == {"tier": "gold"} and volume.volume_type == "__DEFAULT__"
    host = volume.host
    backend = host.split("@")[1].split("#")[0]
    assert f"volume-{volume.id}" in backend_files(cloud, backend)
    assert os.path.getsize(cloud.data_dir / "volumes" / backend / f"volume-{volume.id}") == 1024 ** 3

    conn.block_storage.extend_volume(volume, 2)
    volume = wait_until(conn, volume.id, lambda v: v.status == "available" and v.size == 2)
    assert volume.size == 2
    assert os.path.getsize(cloud.data_dir / "volumes" / backend / f"volume-{volume.id}") == 2 * 1024 ** 3

    conn.block_storage.update_volume(volume, name="renamed")
    assert conn.block_storage.get_volume(volume).name == "renamed"
    assert volume.id in [v.id for v in conn.block_storage.volumes(name="renamed")]

    conn.block_storage.delete_volume(volume)
    wait_gone(conn, volume.id)
    assert f"volume-{volume.id}" not in backend_files(cloud, backend)


def test_snapshots_clones_and_cascade(cloud, conn):
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, name="source"))
    snapshot = conn.block_storage.create_snapshot(volume_id=volume.id, name="snap")
    snapshot = conn.block_storage.wait_for_status(snapshot, status="available", interval=0.1, wait=30)
    assert snapshot.size == 1

    from_snapshot = wait_status(conn, conn.block_storage.create_volume(snapshot_id=snapshot.id, size=2))
    clone = wait_status(conn, conn.block_storage.create_volume(source_volume_id=volume.id))
    assert from_snapshot.size == 2 and clone.size == 1
    assert from_snapshot.host.split("#")[0] == volume.host.split("#")[0] == clone.host.split("#")[0]

    refused = cinder(cloud, conn, "DELETE", f"/volumes/{volume.id}")
    assert refused.status_code == 400 and "dependent snapshots" in refused.json()["badRequest"]["message"]
    too_small = cinder(cloud, conn, "POST", "/volumes", json={"volume": {"snapshot_id": snapshot.id, "size": 0}})
    assert too_small.status_code == 400

    assert cinder(cloud, conn, "DELETE", f"/volumes/{volume.id}", params={"cascade": "true"}).status_code == 202
    wait_gone(conn, volume.id)
    assert conn.block_storage.find_snapshot(snapshot.id, ignore_missing=True) is None
    backend = volume.host.split("@")[1].split("#")[0]
    assert not [f for f in backend_files(cloud, backend) if volume.id in f or snapshot.id in f]
    for other in (from_snapshot, clone):
        conn.block_storage.delete_volume(other)
        wait_gone(conn, other.id)


def test_a_type_selects_its_backend_and_an_unmatched_one_fails_clearly(cloud, conn):
    bulk = conn.block_storage.create_type(name="bulk", extra_specs={"volume_backend_name": "bulk-disks"})
    nowhere = conn.block_storage.create_type(name="nowhere", extra_specs={"volume_backend_name": "absent"})
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, volume_type="bulk"))
    assert volume.host.endswith("@bulk#bulk-disks") and volume.volume_type == "bulk"
    failed = wait_status(conn, conn.block_storage.create_volume(size=1, volume_type=nowhere.id), "error")
    assert failed.host is None
    in_use = cinder(cloud, conn, "DELETE", f"/types/{bulk.id}")
    assert in_use.status_code == 400 and "in use" in in_use.json()["badRequest"]["message"]
    for item in (volume, failed):
        conn.block_storage.delete_volume(item)
        wait_gone(conn, item.id)
    conn.block_storage.delete_type(bulk)
    conn.block_storage.delete_type(nowhere)


def test_pools_services_and_zones_are_what_the_backends_report(cloud, conn):
    pools = cinder(cloud, conn, "GET", "/scheduler-stats/get_pools", params={"detail": "true"}).json()["pools"]
    names = sorted(p["name"].split("@")[1] for p in pools)
    assert names == ["bulk#bulk-disks", "fast#fast"]
    assert all(p["capabilities"]["total_capacity_gb"] > 0 and p["capabilities"]["thin_provisioning_support"]
               for p in pools)
    services = cinder(cloud, conn, "GET", "/os-services").json()["services"]
    assert sorted(s["binary"] for s in services) == ["cinder-scheduler", "cinder-volume", "cinder-volume"]
    assert all(s["state"] == "up" for s in services)
    zones = cinder(cloud, conn, "GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    assert [z["zoneName"] for z in zones] == ["nova"]


def test_projects_see_only_their_own_volumes_and_private_types_when_shared(cloud, conn, member):
    mine = wait_status(conn, conn.block_storage.create_volume(size=1, name="admin-only"))
    theirs = wait_status(member, member.block_storage.create_volume(size=1, name="members"))
    assert [v.id for v in member.block_storage.volumes()] == [theirs.id]
    assert cinder(cloud, member, "GET", f"/volumes/{mine.id}").status_code == 404
    assert cinder(cloud, member, "DELETE", f"/volumes/{mine.id}").status_code == 404
    other_path = requests.get(f"{cloud.base_url}/volume/v3/{conn.current_project_id}/volumes",
                              headers={"X-Auth-Token": member.session.get_token()}, timeout=30)
    assert other_path.status_code == 403
    assert cinder(cloud, member, "GET", "/volumes", project=False).json()["volumes"][0]["id"] == theirs.id
    assert "os-vol-host-attr:host" not in cinder(cloud, member, "GET", f"/volumes/{theirs.id}").json()["volume"]

    private = conn.block_storage.create_type(name="private-fast", is_public=False,
                                             extra_specs={"volume_backend_name": "fast"})
    assert "private-fast" not in [t.name for t in member.block_storage.types()]
    assert cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": private.id}}
                  ).status_code == 404
    conn.block_storage.add_type_access(private, member.current_project_id)
    listed = {t.name: t for t in member.block_storage.types()}
    assert "private-fast" in listed and "volume_backend_name" not in listed["private-fast"].extra_specs
    shared = wait_status(member, member.block_storage.create_volume(size=1, volume_type=private.id))
    for connection, item in ((conn, mine), (member, theirs), (member, shared)):
        connection.block_storage.delete_volume(item)
        wait_gone(connection, item.id)
    conn.block_storage.delete_type(private)


def test_quotas_hold_under_concurrent_creates(cloud, conn):
    project, member = member_of_new_project(conn, "volume-quota")
    try:
        body = {"quota_set": {"volumes": 3, "gigabytes": 5}}
        assert cinder(cloud, conn, "PUT", f"/os-quota-sets/{project.id}", json=body).status_code == 200

        def create(i):
            return cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 1, "name": f"q{i}"}})

        answers = run_together(create, 6)
        assert sorted(a.status_code for a in answers) == [202] * 3 + [413] * 3
        refused = next(a for a in answers if a.status_code == 413).json()
        assert "volumes" in refused["overLimit"]["message"]
        too_big = cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 6}})
        assert too_big.status_code == 413
        usage = cinder(cloud, member, "GET", f"/os-quota-sets/{project.id}", params={"usage": "true"}).json()
        assert usage["quota_set"]["volumes"] == {"limit": 3, "in_use": 3, "reserved": 0, "allocated": 0}
        absolute = cinder(cloud, member, "GET", "/limits").json()["limits"]["absolute"]
        assert absolute["totalVolumesUsed"] == 3 and absolute["maxTotalVolumes"] == 3
        assert absolute["totalGigabytesUsed"] == 3
        for volume in member.block_storage.volumes():
            wait_status(member, volume)
            member.block_storage.delete_volume(volume)
            wait_gone(member, volume.id)
    finally:
        member.close()


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"volume": {"size": "big"}}, 400, "size"),
    ({"volume": {"size": 0}}, 400, "size"),
    ({"volume": {"size": -1}}, 400, "size"),
    ({"volume": {}}, 400, "size"),
    ({"volume": {"size": 1, "volume_type": "no-such-type"}}, 404, "no-such-type"),
    ({"volume": {"size": 1, "availability_zone": "moon"}}, 400, "moon"),
    ({"volume": {"size": 1, "snapshot_id": "00000000-0000-0000-0000-000000000000"}}, 404, "Snapshot"),
    ({"volume": {"size": 1, "metadata": {"k": 5}}}, 400, "metadata"),
    ({"volume": {"size": 1, "imageRef": "x"}}, 404, "Image x"),
    ({"volumes": {"size": 1}}, 400, "volume"),
])
def test_bad_create_requests_are_refused_and_leave_nothing(cloud, conn, body, status, words):
    before = len(list(conn.block_storage.volumes()))
    answer = cinder(cloud, conn, "POST", "/volumes", json=body)
    assert answer.status_code == status, answer.text
    (fault,) = answer.json().values()
    assert words in fault["message"] and fault["code"] == status
    assert len(list(conn.block_storage.volumes())) == before


def test_actions_in_the_wrong_status_are_refused(cloud, conn):
    volume = wait_status(conn, conn.block_storage.create_volume(size=1))
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                  json={"os-extend": {"new_size": 1}}).status_code == 400
    grown = wait_status(conn, conn.block_storage.create_volume(size=2))
    smaller = cinder(cloud, conn, "POST", f"/volumes/{grown.id}/action", json={"os-extend": {"new_size": 1}})
    assert smaller.status_code == 400 and "greater than current size" in smaller.json()["badRequest"]["message"]
    conn.block_storage.delete_volume(grown)
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                  json={"os-reset_status": {"status": "in-use"}}).status_code == 202
    busy = cinder(cloud, conn, "DELETE", f"/volumes/{volume.id}")
    assert busy.status_code == 400 and "in-use" in busy.json()["badRequest"]["message"]
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                  json={"os-extend": {"new_size": 3}}).status_code == 400
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={"os-explode": {}}).status_code == 400
    connection = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                        json={"os-initialize_connection": {"connector": {"host": "compute-1"}}})
    assert connection.status_code == 200
    info = connection.json()["connection_info"]
    assert info["driver_volume_type"] == "file" and info["data"]["path"].endswith(f"volume-{volume.id}")
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={"os-force_delete": {}}).status_code == 202
    wait_gone(conn, volume.id)


def test_versions_and_microversions(cloud, conn):
    root = requests.get(f"{cloud.base_url}/volume/", timeout=30)
    assert root.status_code == 300
    (version,) = root.json()["versions"]
    assert version["id"] == "v3.0" and version["min_version"] == "3.0"
    listed = cinder(cloud, conn, "GET", "/volumes", version="3.0")
    assert listed.status_code == 200 and listed.headers["OpenStack-API-Version"] == "volume 3.0"
    too_new = cinder(cloud, conn, "GET", "/volumes", version="3.99")
    assert too_new.status_code == 406 and "notAcceptable" in too_new.json()


def test_the_openstack_cli_manages_volumes(cloud):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=cloud.clouds_yaml, OS_CLOUD="stratus")

    def openstack(*args):
        done = subprocess.run(["openstack", *args, "-f", "json"], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    created = openstack("volume", "create", "--size", "1", "cli-volume")
    deadline = time.monotonic() + 30
    while openstack("volume", "show", created["id"])["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "cli-volume" in [v["Name"] for v in openstack("volume", "list")]
    openstack("volume", "snapshot", "create", "--volume", "cli-volume", "cli-snap")
    deadline = time.monotonic() + 30
    while openstack("volume", "snapshot", "show", "cli-snap")["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    subprocess.run(["openstack", "volume", "delete", "--purge", "cli-volume"], env=env, check=True, timeout=120)


def test_a_volume_from_an_image_holds_its_bytes_and_is_bootable(cloud, conn):
    data = os.urandom(3 * 1024 * 1024 + 17)
    image = conn.image.create_image(name="volume-source", disk_format="raw", container_format="bare", data=data,
                                    min_disk=1)
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, image_id=image.id, name="from-image"))
    assert volume.is_bootable and volume.volume_image_metadata["image_id"] == image.id
    assert volume.volume_image_metadata["image_name"] == "volume-source"
    backend = volume.host.split("@")[1].split("#")[0]
    with open(cloud.data_dir / "volumes" / backend / f"volume-{volume.id}", "rb") as f:
        assert f.read(len(data)) == data and f.read(4096) == bytes(4096)
    clone = wait_status(conn, conn.block_storage.create_volume(source_volume_id=volume.id))
    assert clone.is_bootable and clone.volume_image_metadata["image_id"] == image.id

    qcow2 = conn.image.create_image(name="not-really-qcow2", disk_format="qcow2", container_format="bare",
                                    data=b"\0" * 1024)
    failed = wait_status(conn, conn.block_storage.create_volume(size=1, image_id=qcow2.id), "error")
    missing = cinder(cloud, conn, "POST", "/volumes", json={"volume": {"size": 1, "imageRef": os.urandom(4).hex()}})
    assert missing.status_code == 404
    small = cinder(cloud, conn, "POST", "/volumes", json={"volume": {"size": 1, "imageRef": conn.image.create_image(
        name="big", disk_format="raw", container_format="bare", data=b"x", min_disk=2).id}})
    assert small.status_code == 400 and "min_disk" in small.json()["badRequest"]["message"]
    for item in (volume, clone, failed):
        conn.block_storage.delete_volume(item)
        wait_gone(conn, item.id)


def test_a_qcow2_image_becomes_a_raw_volume(cloud, conn, tmp_path):
    import shutil

    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is not installed (Debian: qemu-utils; .ci/services.sh installs it)")
    raw, qcow2 = tmp_path / "disk.raw", tmp_path / "disk.qcow2"
    data = os.urandom(1024 * 1024)
    raw.write_bytes(data + bytes(1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    image = conn.image.create_image(name="qcow2-source", disk_format="qcow2", container_format="bare",
                                    data=qcow2.read_bytes())
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, image_id=image.id))
    backend = volume.host.split("@")[1].split("#")[0]
    with open(cloud.data_dir / "volumes" / backend / f"volume-{volume.id}", "rb") as f:
        assert f.read(len(data)) == data
    conn.block_storage.delete_volume(volume)
    wait_gone(conn, volume.id)


def test_a_volume_uploaded_to_an_image_carries_its_bytes(cloud, conn):
    import shutil

    data = os.urandom(2 * 1024 * 1024 + 5)
    image = conn.image.create_image(name="round-trip", disk_format="raw", container_format="bare", data=data)
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, image_id=image.id))
    answer = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={
        "os-volume_upload_image": {"image_name": "from-volume", "disk_format": "raw"}})
    assert answer.status_code == 202, answer.text
    uploaded = answer.json()["os-volume_upload_image"]
    assert uploaded["status"] == "uploading" and uploaded["image_name"] == "from-volume"
    wait_until(conn, volume.id, lambda v: v.status == "available")  # a read, not the stale object
    made = conn.image.wait_for_status(conn.image.get_image(uploaded["image_id"]), status="active", interval=0.2,
                                      wait=60)
    assert made.size == 1024 ** 3 and made.min_disk == 1
    body = conn.image.download_image(made, stream=True)
    head = body.raw.read(len(data))
    assert head == data
    body.close()
    refused = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={
        "os-volume_upload_image": {"image_name": "x", "disk_format": "floppy"}})
    assert refused.status_code == 400 and "disk-format" in refused.json()["badRequest"]["message"]
    if shutil.which("qemu-img"):
        answer = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={
            "os-volume_upload_image": {"image_name": "as-qcow2", "disk_format": "qcow2"}})
        assert answer.status_code == 202, answer.text
        wait_until(conn, volume.id, lambda v: v.status == "available")  # a read, not the stale object
        qcow2 = conn.image.wait_for_status(conn.image.get_image(answer.json()["os-volume_upload_image"]["image_id"]),
                                           status="active", interval=0.2, wait=60)
        assert qcow2.disk_format == "qcow2" and qcow2.size < 1024 ** 3  # qcow2 keeps only what was written
        conn.image.delete_image(qcow2)
    conn.image.delete_image(made)
    conn.block_storage.delete_volume(volume)
    wait_gone(conn, volume.id)


def test_a_volume_is_given_to_another_project_with_its_key_and_snapshots(cloud, conn):
    project, receiver = member_of_new_project(conn, "volume-receiver")
    try:
        volume = wait_status(conn, conn.block_storage.create_volume(size=1, name="gift"))
        snapshot = conn.block_storage.wait_for_status(conn.block_storage.create_snapshot(volume_id=volume.id),
                                                      status="available", interval=0.1, wait=30)
        made = cinder(cloud, conn, "POST", "/os-volume-transfer",
                      json={"transfer": {"volume_id": volume.id, "name": "for-you"}})
        assert made.status_code == 202, made.text
        transfer = made.json()["transfer"]
        assert len(transfer["auth_key"]) == 16
        assert conn.block_storage.get_volume(volume).status == "awaiting-transfer"
        listed = cinder(cloud, conn, "GET", "/os-volume-transfer/detail").json()["transfers"]
        assert [t["id"] for t in listed] == [transfer["id"]] and "auth_key" not in listed[0]
        assert cinder(cloud, conn, "DELETE", f"/volumes/{volume.id}",
                      params={"cascade": "true"}).status_code == 400  # offered: not deleted
        assert cinder(cloud, receiver, "GET", f"/os-volume-transfer/{transfer['id']}").status_code == 404
        wrong = cinder(cloud, receiver, "POST", f"/os-volume-transfer/{transfer['id']}/accept",
                       json={"accept": {"auth_key": "0" * 16}})
        assert wrong.status_code == 400 and conn.block_storage.get_volume(volume).project_id == conn.current_project_id
        taken = cinder(cloud, receiver, "POST", f"/os-volume-transfer/{transfer['id']}/accept",
                       json={"accept": {"auth_key": transfer["auth_key"]}})
        assert taken.status_code == 202, taken.text
        assert volume.id not in [v.id for v in conn.block_storage.volumes()]  # no longer the admin project's
        theirs = receiver.block_storage.get_volume(volume.id)
        assert theirs.status == "available" and theirs.project_id == project.id
        assert receiver.block_storage.get_snapshot(snapshot.id).volume_id == volume.id
        assert cinder(cloud, receiver, "POST", f"/os-volume-transfer/{transfer['id']}/accept",
                      json={"accept": {"auth_key": transfer["auth_key"]}}).status_code == 404  # used up
        assert cinder(cloud, receiver, "DELETE", f"/volumes/{volume.id}", params={"cascade": "true"}).status_code == 202
        wait_gone(receiver, volume.id)

        withdrawn = wait_status(conn, conn.block_storage.create_volume(size=1))
        offer = cinder(cloud, conn, "POST", "/os-volume-transfer", json={"transfer": {"volume_id": withdrawn.id}})
        assert cinder(cloud, conn, "DELETE", f"/os-volume-transfer/{offer.json()['transfer']['id']}").status_code == 202
        assert conn.block_storage.get_volume(withdrawn).status == "available"
        conn.block_storage.delete_volume(withdrawn)
        wait_gone(conn, withdrawn.id)
    finally:
        receiver.close()


def test_retype_within_a_backend_and_not_across(cloud, conn):
    volume = wait_status(conn, conn.block_storage.create_volume(size=1))
    backend_name = volume.host.split("#")[1]
    same = conn.block_storage.create_type(name="same-backend", extra_specs={"volume_backend_name": backend_name})
    other = conn.block_storage.create_type(name="other-backend", extra_specs={
        "volume_backend_name": "bulk-disks" if backend_name != "bulk-disks" else "fast"})
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                  json={"os-retype": {"new_type": "same-backend"}}).status_code == 202
    assert conn.block_storage.get_volume(volume).volume_type == "same-backend"
    across = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action",
                    json={"os-retype": {"new_type": other.id, "migration_policy": "on-demand"}})
    assert across.status_code == 400 and "between backends" in across.json()["badRequest"]["message"]
    again = cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={"os-retype": {"new_type": same.id}})
    assert again.status_code == 400 and "different type" in again.json()["badRequest"]["message"]
    conn.block_storage.delete_volume(volume)
    wait_gone(conn, volume.id)
    conn.block_storage.delete_type(same)
    conn.block_storage.delete_type(other)


def test_a_disabled_volume_service_takes_no_new_volumes(cloud, conn):
    services = cinder(cloud, conn, "GET", "/os-services", params={"binary": "cinder-volume"}).json()["services"]
    bulk = next(s["host"] for s in services if s["host"].endswith("@bulk"))
    type_ = conn.block_storage.create_type(name="only-bulk", extra_specs={"volume_backend_name": "bulk-disks"})
    changed = cinder(cloud, conn, "PUT", "/os-services/disable-log-reason",
                     json={"host": bulk, "binary": "cinder-volume", "disabled_reason": "maintenance"})
    assert changed.status_code == 200 and changed.json()["status"] == "disabled"
    assert cinder(cloud, conn, "PUT", "/os-services/disable-log-reason",
                  json={"host": bulk, "binary": "cinder-volume"}).status_code == 400
    refused = wait_status(conn, conn.block_storage.create_volume(size=1, volume_type=type_.id), "error")
    assert cinder(cloud, conn, "PUT", "/os-services/enable",
                  json={"host": bulk, "binary": "cinder-volume"}).json()["status"] == "enabled"
    placed = wait_status(conn, conn.block_storage.create_volume(size=1, volume_type=type_.id))
    assert placed.host.startswith(bulk)
    assert cinder(cloud, conn, "PUT", "/os-services/enable", json={"host": "nowhere"}).status_code == 404
    for volume in (refused, placed):
        conn.block_storage.delete_volume(volume)
        wait_gone(conn, volume.id)
    conn.block_storage.delete_type(type_)


def test_a_volume_types_own_quota_and_the_default_class(cloud, conn):
    project, member = member_of_new_project(conn, "volume-type-quota")
    gold = conn.block_storage.create_type(name="gold-quota")
    try:
        assert cinder(cloud, conn, "PUT", f"/os-quota-sets/{project.id}",
                      json={"quota_set": {"volumes_gold-quota": 1}}).status_code == 200
        assert cinder(cloud, conn, "PUT", f"/os-quota-sets/{project.id}",
                      json={"quota_set": {"volumes_no-such-type": 1}}).status_code == 400
        first = cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": "gold-quota"}})
        assert first.status_code == 202
        second = cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": "gold-quota"}})
        assert second.status_code == 413 and "volumes_gold-quota" in second.json()["overLimit"]["message"]
        other = cinder(cloud, member, "POST", "/volumes", json={"volume": {"size": 1}})
        assert other.status_code == 202  # the default type is not limited by gold's quota
        usage = cinder(cloud, member, "GET", f"/os-quota-sets/{project.id}", params={"usage": "true"}).json()
        assert usage["quota_set"]["volumes_gold-quota"]["in_use"] == 1 and usage["quota_set"]["volumes"]["in_use"] == 2

        default = cinder(cloud, conn, "GET", "/os-quota-class-sets/default").json()["quota_class_set"]
        assert default["volumes"] == 10
        assert cinder(cloud, conn, "PUT", "/os-quota-class-sets/default",
                      json={"quota_class_set": {"snapshots": 7}}).status_code == 200
        assert cinder(cloud, member, "GET", f"/os-quota-sets/{project.id}").json()["quota_set"]["snapshots"] == 7
        assert cinder(cloud, member, "PUT", "/os-quota-class-sets/default",
                      json={"quota_class_set": {"snapshots": 70}}).status_code == 403
        cinder(cloud, conn, "PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"snapshots": 10}})
        for volume in member.block_storage.volumes():
            wait_status(member, volume)
            member.block_storage.delete_volume(volume)
            wait_gone(member, volume.id)
    finally:
        member.close()
        conn.block_storage.delete_type(gold)


def test_backups_full_and_incremental_restore_what_was_there(cloud, conn):
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, name="precious"))
    path = next((cloud.data_dir / "volumes").glob(f"*/volume-{volume.id}"))
    first, second = os.urandom(3 * 1024 * 1024), os.urandom(1024 * 1024)
    with open(path, "r+b") as f:
        f.write(first)

    def backup(**extra):
        answer = cinder(cloud, conn, "POST", "/backups", json={"backup": {"volume_id": volume.id, **extra}})
        assert answer.status_code == 202, answer.text
        backup_id = answer.json()["backup"]["id"]
        deadline = time.monotonic() + 60
        while (shown := cinder(cloud, conn, "GET", f"/backups/{backup_id}").json()["backup"])["status"] != "available":
            assert shown["status"] != "error" and time.monotonic() < deadline, shown
            time.sleep(0.1)
        wait_until(conn, volume.id, lambda v: v.status == "available")  # a read, not the stale object
        return shown

    full = backup(name="full")
    assert full["is_incremental"] is False and full["object_count"] == full["size"] * 32
    with open(path, "r+b") as f:
        f.seek(40 * 1024 * 1024)
        f.write(second)
    incremental = backup(name="incr", incremental=True)
    assert incremental["is_incremental"] is True
    stored = sorted(os.listdir(cloud.data_dir / "backups" / incremental["id"]))
    assert stored == ["chunk-00001", "metadata"]  # only the chunk that changed
    assert cinder(cloud, conn, "GET", f"/backups/{full['id']}").json()["backup"]["has_dependent_backups"]
    refused = cinder(cloud, conn, "DELETE", f"/backups/{full['id']}")
    assert refused.status_code == 400 and "Incremental backups exist" in refused.json()["badRequest"]["message"]

    with open(path, "r+b") as f:  # the volume is lost...
        f.write(bytes(len(first)))
    restored = cinder(cloud, conn, "POST", f"/backups/{incremental['id']}/restore",
                      json={"restore": {"volume_id": volume.id}})
    assert restored.status_code == 202, restored.text
    wait_until(conn, volume.id, lambda v: v.status == "available")
    with open(path, "rb") as f:  # ... and comes back whole: the full backup's chunks and the incremental's
        assert f.read(len(first)) == first
        f.seek(40 * 1024 * 1024)
        assert f.read(len(second)) == second

    fresh = cinder(cloud, conn, "POST", f"/backups/{full['id']}/restore", json={"restore": {"name": "copy"}})
    copy = wait_status(conn, conn.block_storage.get_volume(fresh.json()["restore"]["volume_id"]))
    copy_path = next((cloud.data_dir / "volumes").glob(f"*/volume-{copy.id}"))
    with open(copy_path, "rb") as f:
        assert f.read(len(first)) == first
        f.seek(40 * 1024 * 1024)
        assert f.read(len(second)) == bytes(len(second))  # the full backup is from before the second write

    for backup_id in (incremental["id"], full["id"]):
        assert cinder(cloud, conn, "DELETE", f"/backups/{backup_id}").status_code == 202
        deadline = time.monotonic() + 30
        while cinder(cloud, conn, "GET", f"/backups/{backup_id}").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert not (cloud.data_dir / "backups" / backup_id).exists()
    for item in (volume, copy):
        conn.block_storage.delete_volume(item)
        wait_gone(conn, item.id)


def test_a_volume_let_go_keeps_its_data_and_is_adopted_again(cloud, conn):
    volume = wait_status(conn, conn.block_storage.create_volume(size=1, name="to-let-go"))
    pool = volume.host
    path = cloud.data_dir / "volumes" / pool.split("@")[1].split("#")[0] / f"volume-{volume.id}"
    with open(path, "r+b") as f:
        f.write(b"kept across unmanage")
    assert cinder(cloud, conn, "POST", f"/volumes/{volume.id}/action", json={"os-unmanage": None}).status_code == 202
    wait_gone(conn, volume.id)
    kept = path.with_name(f"unmanaged-{volume.id}")
    assert kept.read_bytes().startswith(b"kept across unmanage")
    refused = cinder(cloud, conn, "POST", "/os-volume-manage", json={"volume": {
        "host": "nowhere@x#y", "ref": {"source-name": kept.name}}})
    assert refused.status_code == 400
    made = cinder(cloud, conn, "POST", "/os-volume-manage", json={"volume": {
        "host": pool, "ref": {"source-name": kept.name}, "name": "adopted"}})
    assert made.status_code == 202, made.text
    adopted = wait_status(conn, conn.block_storage.get_volume(made.json()["volume"]["id"]))
    assert adopted.size == 1 and adopted.name == "adopted" and not kept.exists()
    with open(path.with_name(f"volume-{adopted.id}"), "rb") as f:
        assert f.read(20) == b"kept across unmanage"
    _, member = member_of_new_project(conn, "volume-manager-wannabe")
    try:
        assert cinder(cloud, member, "POST", "/os-volume-manage", json={"volume": {
            "host": pool, "ref": {"source-name": "x"}}}).status_code == 403
    finally:
        member.close()
    conn.block_storage.delete_volume(adopted)
    wait_gone(conn, adopted.id)
