"""The image API (first increment): records and data, over HTTP with openstacksdk and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
import requests
from openstack import exceptions as sdk_exceptions


def image_url(cloud, path=""):
    return f"{cloud.base_url}/image/v2/images{path}"


def test_sdk_create_image_uploads_with_checksums(conn):
    data = os.urandom(3 * 1024 * 1024 + 5)
    image = conn.image.create_image(name="sdk-image", data=data, disk_format="qcow2", container_format="bare",
                                    some_property="yes")
    stored = conn.image.get_image(image.id)
    assert stored.status == "active" and stored.size == len(data)
    assert stored.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert stored.hash_algo == "sha512" and stored.hash_value == hashlib.sha512(data).hexdigest()
    assert stored.properties["some_property"] == "yes"
    assert conn.image.download_image(stored).content == data
    conn.image.delete_image(stored)
    with pytest.raises(sdk_exceptions.NotFoundException):
        conn.image.get_image(image.id)


def test_openstack_cli_round_trips_an_image(cloud_env, tmp_path):
    source, target = tmp_path / "in.raw", tmp_path / "out.raw"
    source.write_bytes(os.urandom(1024 * 1024))

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    created = json.loads(cli("image", "create", "--disk-format", "raw", "--container-format", "bare",
                             "--file", str(source), "cli-image", "-f", "json"))
    assert created["status"] == "active"
    assert "cli-image" in cli("image", "list", "-f", "value")
    cli("image", "save", created["id"], "--file", str(target))
    assert target.read_bytes() == source.read_bytes()
    cli("image", "delete", created["id"])


def test_range_downloads(conn, cloud):
    data = bytes(range(256)) * 100
    image = conn.image.create_image(name="ranged", data=data, disk_format="raw", container_format="bare")
    token = {"X-Auth-Token": conn.session.get_token()}
    part = requests.get(image_url(cloud, f"/{image.id}/file"), headers={**token, "Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = requests.get(image_url(cloud, f"/{image.id}/file"), headers={**token, "Range": "bytes=-5"}, timeout=30)
    assert tail.content == data[-5:]
    beyond = requests.get(image_url(cloud, f"/{image.id}/file"), headers={**token, "Range": f"bytes={len(data)}-"},
                          timeout=30)
    assert beyond.status_code == 416
    conn.image.delete_image(image)


def test_upload_rules_and_bad_input(conn, cloud):
    token = {"X-Auth-Token": conn.session.get_token()}
    bad_format = requests.post(image_url(cloud), json={"name": "x", "disk_format": "floppy"}, headers=token,
                               timeout=30)
    assert bad_format.status_code == 400 and "disk_format" in bad_format.text
    read_only = requests.post(image_url(cloud), json={"name": "x", "status": "active"}, headers=token, timeout=30)
    assert read_only.status_code == 403 and "'status' is read-only" in read_only.text
    reserved = requests.post(image_url(cloud), json={"os_glance_x": "1"}, headers=token, timeout=30)
    assert reserved.status_code == 403 and "reserved" in reserved.text
    formatless = requests.post(image_url(cloud), json={"name": "formatless"}, headers=token, timeout=30).json()
    no_format = requests.put(image_url(cloud, f"/{formatless['id']}/file"), data=b"abc",
                             headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert no_format.status_code == 400 and "disk_format, container_format" in no_format.text
    image = requests.post(image_url(cloud), json={"name": "rules", "disk_format": "raw", "container_format": "bare"},
                          headers=token, timeout=30).json()
    assert image["status"] == "queued"
    empty = requests.get(image_url(cloud, f"/{image['id']}/file"), headers=token, timeout=30)
    assert empty.status_code == 204
    wrong_type = requests.put(image_url(cloud, f"/{image['id']}/file"), data=b"abc",
                              headers={**token, "Content-Type": "application/json"}, timeout=30)
    assert wrong_type.status_code == 415
    unknown_store = requests.put(image_url(cloud, f"/{image['id']}/file"), data=b"abc",
                                 headers={**token, "Content-Type": "application/octet-stream",
                                          "X-Image-Meta-Store": "nowhere"}, timeout=30)
    assert unknown_store.status_code == 400 and "nowhere" in unknown_store.text
    assert requests.get(image_url(cloud, f"/{image['id']}"), headers=token, timeout=30).json()["status"] == "queued"
    ok = requests.put(image_url(cloud, f"/{image['id']}/file"), data=iter([b"chunk-"] * 1000),
                      headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert ok.status_code == 204
    again = requests.put(image_url(cloud, f"/{image['id']}/file"), data=b"more",
                         headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert again.status_code == 409  # data goes only to queued images
    assert requests.get(image_url(cloud, f"/{image['id']}"), headers=token, timeout=30).json()["size"] == 6000
    requests.delete(image_url(cloud, f"/{image['id']}"), headers=token, timeout=30)


def test_data_failing_content_md5_kills_the_image(conn, cloud):
    token = {"X-Auth-Token": conn.session.get_token()}
    image = requests.post(image_url(cloud), json={"name": "md5", "disk_format": "raw", "container_format": "bare"},
                          headers=token, timeout=30).json()
    mismatch = requests.put(image_url(cloud, f"/{image['id']}/file"), data=b"abc",
                            headers={**token, "Content-Type": "application/octet-stream", "Content-MD5": "0" * 32},
                            timeout=30)
    assert mismatch.status_code == 400 and "Content-MD5" in mismatch.text
    assert requests.get(image_url(cloud, f"/{image['id']}"), headers=token, timeout=30).json()["status"] == "killed"
    assert requests.get(image_url(cloud, f"/{image['id']}/file"), headers=token, timeout=30).status_code == 204
    retry = requests.put(image_url(cloud, f"/{image['id']}/file"), data=b"abc",
                         headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert retry.status_code == 409
    assert not [p for p in (cloud.data_dir / "images" / "local").iterdir() if image["id"] in p.name]
    assert requests.delete(image_url(cloud, f"/{image['id']}"), headers=token, timeout=30).status_code == 204


def test_list_filters_sort_and_pages(conn):
    made = [conn.image.create_image(name=f"page-{i}", data=b"x" * (i + 1), disk_format="raw",
                                    container_format="bare") for i in range(5)]
    names = [i.name for i in conn.image.images(sort_key="name", sort_dir="asc") if i.name.startswith("page-")]
    assert names == [f"page-{i}" for i in range(5)]
    paged = list(conn.image.images(name="page-3"))
    assert [i.name for i in paged] == ["page-3"]
    spaced = conn.image.create_image(name="a & b", data=b"y", disk_format="raw", container_format="bare")
    twin = conn.image.create_image(name="a & b", data=b"z", disk_format="raw", container_format="bare")
    assert {i.id for i in conn.image.images(name="a & b", limit=1)} == {spaced.id, twin.id}  # via the next link
    made += [spaced, twin]
    assert len(list(conn.image.images(limit=2))) >= 5  # the SDK follows "next" links
    for image in made:
        conn.image.delete_image(image)


def test_another_project_cannot_see_a_private_image(conn, cloud):
    image = conn.image.create_image(name="secret", data=b"s", disk_format="raw", container_format="bare",
                                    visibility="private")
    project = conn.identity.create_project(name="img-other", domain_id="default")
    user = conn.identity.create_user(name="img-user", password="pw-img")
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    user_ref = {"name": "img-user", "domain": {"id": "default"}, "password": "pw-img"}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user_ref}},
                     "scope": {"project": {"id": project.id}}}}
    other = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=body, timeout=30)
    headers = {"X-Auth-Token": other.headers["X-Subject-Token"]}
    assert requests.get(image_url(cloud, f"/{image.id}"), headers=headers, timeout=30).status_code == 404
    assert requests.get(image_url(cloud, f"/{image.id}/file"), headers=headers, timeout=30).status_code == 404
    assert requests.delete(image_url(cloud, f"/{image.id}"), headers=headers, timeout=30).status_code == 404
    assert image.id not in [i["id"] for i in requests.get(image_url(cloud), headers=headers, timeout=30)
                            .json()["images"]]
    conn.image.delete_image(image)
