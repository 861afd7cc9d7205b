"""Several stores, the interoperable import flow, registered locations and quotas."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
import urllib.parse

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.fixtures import file_server
from tests.functional.accounts import connect
from tests.functional.conftest import start_cloud

STORES = """[image]
enabled_stores = local:file, fast:file, web:http
image_size_cap = 2000000
import_allowed_ports =
[fast]
description = Fast local disk
"""
QUOTAS = """[image]
quota_images = 3
quota_image_bytes = 100000
"""


@pytest.fixture(scope="module")
def stores_cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, STORES)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(stores_cloud):
    connection = connect(stores_cloud.clouds_yaml)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """A web server with a file to download, and the file's bytes."""
    directory = tmp_path_factory.mktemp("www")
    data = os.urandom(300 * 1024 + 3)
    (directory / "disk.raw").write_bytes(data)
    with file_server.serve(directory) as base_url:
        yield base_url, data


def settled(conn, image, timeout=30):
    """The image once no import is running any more."""
    deadline = time.monotonic() + timeout
    while True:
        current = conn.image.get_image(image)
        if current.status not in ("importing", "uploading") or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


def files(cloud, store):
    directory = cloud.data_dir / "images" / store
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_stores_are_listed_with_the_default(conn):
    stores = {s.id: s for s in conn.image.stores()}
    assert set(stores) == {"local", "fast", "web"}
    assert stores["local"].is_default and stores["fast"].description == "Fast local disk"


def test_upload_to_a_named_store(conn, stores_cloud):
    image = conn.image.create_image(name="to-fast", allow_duplicates=True, disk_format="raw",
                                    container_format="bare")
    token = {"X-Auth-Token": conn.session.get_token()}
    response = requests.put(f"{stores_cloud.base_url}/image/v2/images/{image.id}/file", data=b"fast bytes",
                            headers={**token, "Content-Type": "application/octet-stream",
                                     "X-Image-Meta-Store": "fast"}, timeout=30)
    assert response.status_code == 204
    assert conn.image.get_image(image).properties["stores"] == "fast"
    assert image.id in files(stores_cloud, "fast") and image.id not in files(stores_cloud, "local")
    read_only = conn.image.create_image(name="to-web", allow_duplicates=True, disk_format="raw",
                                        container_format="bare")
    refused = requests.put(f"{stores_cloud.base_url}/image/v2/images/{read_only.id}/file", data=b"x",
                           headers={**token, "Content-Type": "application/octet-stream",
                                    "X-Image-Meta-Store": "web"}, timeout=30)
    assert refused.status_code == 400 and "web" in refused.text
    conn.image.delete_image(image)
    conn.image.delete_image(read_only)


def test_an_image_over_the_size_cap_is_cut_off(conn, stores_cloud):
    image = conn.image.create_image(name="too-big", allow_duplicates=True, disk_format="raw",
                                    container_format="bare")
    token = {"X-Auth-Token": conn.session.get_token()}
    response = requests.put(f"{stores_cloud.base_url}/image/v2/images/{image.id}/file",
                            data=(b"x" * 65536 for _ in range(40)),
                            headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert response.status_code == 413 and "size limit of 2000000" in response.text
    assert conn.image.get_image(image).status == "queued" and image.id not in files(stores_cloud, "local")
    conn.image.delete_image(image)


def test_glance_direct_import_into_a_chosen_store(conn, stores_cloud):
    data = os.urandom(200 * 1024)
    image = conn.image.create_image(name="direct", data=data, disk_format="qcow2", container_format="bare",
                                    use_import=True, stores=["fast"], allow_duplicates=True)
    image = settled(conn, image)
    assert image.status == "active" and image.properties["stores"] == "fast"
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest() and image.size == len(data)
    assert conn.image.download_image(image).content == data
    assert files(stores_cloud, "os_glance_staging_store") == []  # the staged copy is gone
    conn.image.delete_image(image)
    assert image.id not in files(stores_cloud, "fast")


def test_import_rules(conn, stores_cloud):
    image = conn.image.create_image(name="rules", disk_format="raw", container_format="bare", allow_duplicates=True)
    unstaged = conn.image.import_image(image, method="glance-direct")  # the SDK hands back the response
    assert unstaged.status_code == 409 and "staged" in unstaged.text
    token = {"X-Auth-Token": conn.session.get_token()}
    target = f"{stores_cloud.base_url}/image/v2/images/{image.id}/import"
    unknown = requests.post(target, json={"method": {"name": "floppy-disk"}}, headers=token, timeout=30)
    assert unknown.status_code == 400 and "floppy-disk" in unknown.text
    no_uri = requests.post(target, json={"method": {"name": "web-download"}}, headers=token, timeout=30)
    assert no_uri.status_code == 400 and "uri" in no_uri.text
    bad_store = requests.post(target, json={"method": {"name": "web-download", "uri": "http://127.0.0.1/x"},
                                            "stores": ["nowhere"]}, headers=token, timeout=30)
    assert bad_store.status_code == 400 and "nowhere" in bad_store.text
    assert conn.image.get_image(image).status == "queued"  # refused requests changed nothing
    conn.image.stage_image(image, data=b"staged")
    assert conn.image.get_image(image).status == "uploading"
    assert files(stores_cloud, "os_glance_staging_store") == [image.id]
    conn.image.delete_image(image)
    assert files(stores_cloud, "os_glance_staging_store") == []


def test_web_download_into_every_store(conn, web):
    base_url, data = web
    image = conn.image.create_image(name="from-web", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    conn.image.import_image(image, method="web-download", uri=f"{base_url}/disk.raw", all_stores=True)
    image = settled(conn, image)
    assert image.status == "active" and set(image.properties["stores"].split(",")) == {"local", "fast"}
    assert image.properties["os_glance_failed_import"] == ""  # Glance's "finished, nothing failed"
    assert image.properties["os_glance_importing_to_stores"] == ""
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert conn.image.download_image(image).content == data
    conn.image.delete_image(image)


def test_a_failed_web_download_returns_the_image_to_queued(conn, stores_cloud, web):
    base_url, _ = web
    image = conn.image.create_image(name="from-nowhere", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    conn.image.import_image(image, method="web-download", uri=f"{base_url}/missing.raw")
    image = settled(conn, image)
    assert image.status == "queued" and image.properties["os_glance_failed_import"] == "local"
    assert files(stores_cloud, "os_glance_staging_store") == [] and image.id not in files(stores_cloud, "local")
    conn.image.delete_image(image)


def test_copy_image_adds_a_store_and_a_store_copy_can_be_deleted(conn, stores_cloud):
    image = conn.image.create_image(name="copied", data=b"copy me" * 100, disk_format="raw",
                                    container_format="bare", allow_duplicates=True)
    conn.image.import_image(image, method="copy-image", stores=["fast"])
    deadline = time.monotonic() + 30
    while "fast" not in conn.image.get_image(image).properties["stores"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert conn.image.get_image(image).properties["stores"] == "local,fast"
    assert image.id in files(stores_cloud, "fast")
    base, token = f"{stores_cloud.base_url}/image/v2", {"X-Auth-Token": conn.session.get_token()}
    again = requests.post(f"{base}/images/{image.id}/import", headers=token, timeout=30,
                          json={"method": {"name": "copy-image"}, "stores": ["fast"]})
    assert again.status_code == 400 and "fast" in again.text  # already there, as Glance answers
    everywhere = requests.post(f"{base}/images/{image.id}/import", headers=token, timeout=30,
                               json={"method": {"name": "copy-image"}, "all_stores": True})
    assert everywhere.status_code == 202  # only the web store is left, and it is read-only: nothing to do
    assert requests.delete(f"{base}/stores/nowhere/{image.id}", headers=token, timeout=30).status_code == 409
    assert requests.delete(f"{base}/stores/web/{image.id}", headers=token, timeout=30).status_code in (403, 404)
    assert requests.delete(f"{base}/stores/fast/{image.id}", headers=token, timeout=30).status_code == 204
    assert image.id not in files(stores_cloud, "fast") and image.id in files(stores_cloud, "local")
    assert conn.image.get_image(image).properties["stores"] == "local"
    last = requests.delete(f"{base}/stores/local/{image.id}", headers=token, timeout=30)
    assert last.status_code == 403 and "only store" in last.text
    assert conn.image.download_image(image).content == b"copy me" * 100
    conn.image.delete_image(image)
    assert image.id not in files(stores_cloud, "fast") and image.id not in files(stores_cloud, "local")


@pytest.mark.parametrize("size", [2_500_000, 20_000_000])
def test_an_upload_over_the_size_cap_leaves_the_connection_usable(conn, stores_cloud, size):
    session = requests.Session()
    token = {"X-Auth-Token": conn.session.get_token()}
    image = conn.image.create_image(name="over-cap", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    refused = session.put(f"{stores_cloud.base_url}/image/v2/images/{image.id}/file", data=os.urandom(size),
                          headers={**token, "Content-Type": "application/octet-stream"}, timeout=60)
    assert refused.status_code == 413
    # the next request on the same pooled connection is answered, not cut off mid-body
    assert session.get(f"{stores_cloud.base_url}/image/v2/images/{image.id}", headers=token,
                       timeout=30).json()["status"] == "queued"
    conn.image.delete_image(image)


def test_store_details_and_usage(conn, stores_cloud):
    base, token = f"{stores_cloud.base_url}/image/v2", {"X-Auth-Token": conn.session.get_token()}
    detail = requests.get(f"{base}/info/stores/detail", headers=token, timeout=30).json()["stores"]
    by_id = {store["id"]: store for store in detail}
    assert by_id["local"]["type"] == "file" and by_id["local"]["default"] == "true"  # strings, as Glance's
    assert by_id["fast"]["properties"]["data_dir"].endswith("fast") and by_id["web"]["read-only"] == "true"
    before = requests.get(f"{base}/info/usage", headers=token, timeout=30).json()["usage"]
    image = conn.image.create_image(name="counted", data=os.urandom(1900000), disk_format="raw",
                                    container_format="bare", allow_duplicates=True)
    after = requests.get(f"{base}/info/usage", headers=token, timeout=30).json()["usage"]
    assert after["image_count_total"]["usage"] == before["image_count_total"]["usage"] + 1
    owned = [i for i in conn.image.images(owner=conn.current_project_id) if i.status == "active"]
    assert after["image_size_total"] == {"usage": sum(i.size for i in owned) // (1 << 20), "limit": -1}
    conn.image.delete_image(image)


def test_registering_an_http_location(conn, web):
    base_url, data = web
    image = conn.image.create_image(name="by-url", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    conn.image.add_image_location(image, f"{base_url}/disk.raw")
    deadline = time.monotonic() + 30
    while conn.image.get_image(image).checksum is None and time.monotonic() < deadline:
        time.sleep(0.2)
    shown = conn.image.get_image(image)
    assert shown.status == "active" and shown.size == len(data) and shown.properties["stores"] == "web"
    assert shown.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert conn.image.download_image(shown).content == data
    with pytest.raises(sdk_exceptions.HttpException):
        conn.image.add_image_location(image, f"{base_url}/disk.raw")  # no longer queued
    conn.image.delete_image(image)


@pytest.fixture(scope="module")
def quota_cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, QUOTAS, defaults=False)  # the quotas count from an empty project
    yield server
    server.stop()


def test_quotas_on_count_and_bytes(quota_cloud, web):
    conn = connect(quota_cloud.clouds_yaml)
    token = {"X-Auth-Token": conn.session.get_token()}
    base = f"{quota_cloud.base_url}/image/v2/images"
    first = conn.image.create_image(name="q1", data=b"a" * 60000, disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    second = conn.image.create_image(name="q2", disk_format="raw", container_format="bare", allow_duplicates=True)
    over = requests.put(f"{base}/{second.id}/file", data=iter([b"b" * 10000] * 5),  # chunked: no length known
                        headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert over.status_code == 413 and "quota" in over.text
    assert conn.image.get_image(second).status == "queued"
    assert files(quota_cloud, "local") == [first.id]  # nothing of the cut-off upload was kept
    declared = requests.put(f"{base}/{second.id}/file", data=b"c" * 50000,
                            headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert declared.status_code == 413
    staged = requests.put(f"{base}/{second.id}/stage", data=b"d" * 50000,
                          headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert staged.status_code == 413 and conn.image.get_image(second).status == "queued"
    fits = requests.put(f"{base}/{second.id}/file", data=b"e" * 40000,
                        headers={**token, "Content-Type": "application/octet-stream"}, timeout=30)
    assert fits.status_code == 204
    third = conn.image.create_image(name="q3", disk_format="raw", container_format="bare", allow_duplicates=True)
    fourth = requests.post(base, json={"name": "q4"}, headers=token, timeout=30)
    assert fourth.status_code == 413 and "Maximum number of images" in fourth.text
    base_url, _ = web
    refused = requests.post(f"{base}/{third.id}/import", json={"method": {"name": "web-download",
                                                                          "uri": f"{base_url}/disk.raw"}},
                            headers=token, timeout=30)
    assert refused.status_code == 403 and "import_allowed_ports" in refused.text  # default filter: 80, 443
    conn.image.delete_image(first)
    assert requests.post(base, json={"name": "q4"}, headers=token, timeout=30).status_code == 201
    conn.close()


def _send_short(base_url, path, token, announced, sent):
    """A PUT announcing ``announced`` bytes whose client goes away after ``sent``."""
    parsed = urllib.parse.urlsplit(base_url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
        head = (f"PUT {parsed.path}{path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nX-Auth-Token: {token}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n")
        sock.sendall(head.encode() + os.urandom(sent))
        sock.shutdown(socket.SHUT_WR)  # the client is gone: no more bytes will come
        with contextlib.suppress(OSError):
            sock.recv(65536)


@pytest.mark.parametrize("target", ["file", "stage"])
def test_an_upload_cut_short_keeps_nothing_and_can_be_retried(conn, stores_cloud, target):
    image = conn.image.create_image(name=f"cut-short-{target}", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    token = conn.session.get_token()
    _send_short(stores_cloud.base_url, f"/image/v2/images/{image.id}/{target}", token, 1_000_000, 300_000)
    deadline = time.monotonic() + 30
    while conn.image.get_image(image).status != "queued" and time.monotonic() < deadline:
        time.sleep(0.2)
    current = conn.image.get_image(image)
    assert current.status == "queued" and not current.size  # never active with a truncated body
    assert image.id not in files(stores_cloud, "local") + files(stores_cloud, "os_glance_staging_store")
    data = os.urandom(1_000_000)
    retried = requests.put(f"{stores_cloud.base_url}/image/v2/images/{image.id}/{target}", data=data, timeout=60,
                           headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
    assert retried.status_code == 204
    if target == "stage":
        conn.image.import_image(image, method="glance-direct")
        settled(conn, image)
    assert conn.image.download_image(conn.image.get_image(image)).content == data
    conn.image.delete_image(image)


def test_a_glance_direct_import_of_a_short_staging_file_fails(conn, stores_cloud):
    image = conn.image.create_image(name="short-staged", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    conn.image.stage_image(image, data=os.urandom(500_000))
    (staged,) = (stores_cloud.data_dir / "images" / "os_glance_staging_store").glob(image.id)
    with open(staged, "r+b") as f:  # the staging disk lost the end of it
        f.truncate(200_000)
    conn.image.import_image(image, method="glance-direct")
    image = settled(conn, image)
    assert image.status != "active" and image.properties["os_glance_failed_import"] == "local"
    assert image.id not in files(stores_cloud, "local")
    conn.image.delete_image(image)
