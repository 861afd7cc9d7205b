"""Object storage over HTTP, as python-swiftclient (library and `swift` CLI), openstacksdk and
the `openstack` CLI use it: containers, objects, listings, ranges and conditions, copies,
large objects, expiry, ACLs, quotas, what one project sees of another's, and bad input
answered with Swift's status codes."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
import swiftclient.client
import swiftclient.service
from swiftclient.exceptions import ClientException

from tests.functional.accounts import member_of_new_project


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture(scope="module")
def swift(conn):
    connection = swiftclient.client.Connection(session=conn.session)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def account_url(swift):
    url, _ = swift.get_auth()
    return url


@pytest.fixture
def container(swift):
    name = f"c-{uuid.uuid4().hex[:8]}"
    swift.put_container(name)
    yield name
    empty(swift, name)


def empty(swift, name):
    try:
        _, objects = swift.get_container(name, full_listing=True)
    except ClientException as exc:
        assert exc.http_status == 404
        return
    for obj in objects:
        swift.delete_object(name, obj["name"])
    swift.delete_container(name)


def raw(method, url, token=None, headers=None, **kwargs):
    headers = dict(headers or {})
    if token:
        headers["X-Auth-Token"] = token
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


def status_of(call, *args, **kwargs):
    with pytest.raises(ClientException) as info:
        call(*args, **kwargs)
    return info.value.http_status


# -- containers and accounts ------------------------------------------------------------


def test_containers_are_created_listed_described_changed_and_deleted(swift):
    name = f"photos-{uuid.uuid4().hex[:6]}"
    response: dict = {}
    swift.put_container(name, headers={"X-Container-Meta-Color": "blue"}, response_dict=response)
    assert response["status"] == 201
    swift.put_container(name, response_dict=response)
    assert response["status"] == 202
    head = swift.head_container(name)
    assert head["x-container-meta-color"] == "blue"
    assert (head["x-container-object-count"], head["x-container-bytes-used"]) == ("0", "0")
    swift.post_container(name, {"X-Container-Meta-Size": "large", "X-Remove-Container-Meta-Color": "x"})
    head = swift.head_container(name)
    assert head["x-container-meta-size"] == "large" and "x-container-meta-color" not in head
    swift.put_object(name, "thing", b"12345")
    assert status_of(swift.delete_container, name) == 409
    account, listed = swift.get_account()
    assert any(c["name"] == name and c["count"] == 1 and c["bytes"] == 5 for c in listed)
    assert int(account["x-account-container-count"]) >= 1
    swift.delete_object(name, "thing")
    swift.delete_container(name)
    assert status_of(swift.head_container, name) == 404
    assert status_of(swift.delete_container, name) == 404


def test_account_metadata_and_counts(swift, container):
    swift.put_object(container, "a", b"x" * 10)
    swift.post_account({"X-Account-Meta-Owner": "ops"})
    head = swift.head_account()
    assert head["x-account-meta-owner"] == "ops"
    assert int(head["x-account-object-count"]) >= 1 and int(head["x-account-bytes-used"]) >= 10
    swift.post_account({"X-Remove-Account-Meta-Owner": "x"})
    assert "x-account-meta-owner" not in swift.head_account()


def test_account_management_is_not_offered(swift, account_url):
    token = swift.get_auth()[1]
    assert raw("PUT", account_url, token).status_code == 405
    assert raw("DELETE", account_url, token).status_code == 405


def test_info_publishes_the_limits_and_middlewares(account_url):
    info = requests.get(account_url.split("/v1/")[0] + "/info", timeout=10).json()
    assert info["swift"]["max_file_size"] == 5368709122
    assert info["swift"]["container_listing_limit"] == 10000
    assert info["slo"]["max_manifest_segments"] == 1000
    assert "container_quotas" in info and "account_quotas" in info


# -- objects ----------------------------------------------------------------------------


def test_objects_round_trip_with_etag_type_and_metadata(swift, container):
    data = os.urandom(300_000)
    etag = swift.put_object(container, "dir/photo.jpg", data, headers={"X-Object-Meta-Camera": "Leica",
                                                                         "Content-Disposition": "inline"})
    assert etag == md5(data)
    headers, body = swift.get_object(container, "dir/photo.jpg")
    assert body == data
    assert headers["content-type"] == "image/jpeg"  # detected from the name
    assert headers["x-object-meta-camera"] == "Leica" and headers["content-disposition"] == "inline"
    assert headers["etag"] == etag and headers["content-length"] == str(len(data))
    swift.post_object(container, "dir/photo.jpg", {"X-Object-Meta-Lens": "50mm", "Content-Type": "image/png"})
    headers = swift.head_object(container, "dir/photo.jpg")
    assert headers["x-object-meta-lens"] == "50mm" and "x-object-meta-camera" not in headers
    assert headers["content-type"] == "image/png"
    swift.put_object(container, "dir/photo.jpg", b"replaced")
    assert swift.get_object(container, "dir/photo.jpg")[1] == b"replaced"
    assert swift.head_container(container)["x-container-bytes-used"] == "8"
    swift.delete_object(container, "dir/photo.jpg")
    assert status_of(swift.get_object, container, "dir/photo.jpg") == 404
    assert status_of(swift.delete_object, container, "dir/photo.jpg") == 404


def test_a_wrong_etag_is_422_and_keeps_the_old_object(swift, container):
    swift.put_object(container, "doc", b"old")
    assert status_of(swift.put_object, container, "doc", b"new", etag="0" * 32) == 422
    assert swift.get_object(container, "doc")[1] == b"old"


def test_chunked_uploads_and_unicode_names(swift, container):
    name = "répertoire/naïve ☃.txt"
    swift.put_object(container, name, iter([b"abc", b"def", b"ghi"]), chunk_size=3)
    assert swift.get_object(container, name)[1] == b"abcdefghi"
    assert [o["name"] for o in swift.get_container(container)[1]] == [name]


def test_a_trailing_slash_is_part_of_the_name(swift, container, account_url):
    token = swift.get_auth()[1]
    assert raw("PUT", f"{account_url}/{container}/folder/", token, data=b"").status_code == 201
    assert [o["name"] for o in swift.get_container(container)[1]] == ["folder/"]
    swift.delete_object(container, "folder/")


def test_ranges_single_multiple_suffix_and_unsatisfiable(swift, container, account_url):
    data = bytes(range(256)) * 40
    swift.put_object(container, "r", data)
    token = swift.get_auth()[1]
    url = f"{account_url}/{container}/r"
    one = raw("GET", url, token, {"Range": "bytes=10-19"})
    assert one.status_code == 206 and one.content == data[10:20]
    assert one.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    suffix = raw("GET", url, token, {"Range": "bytes=-5"})
    assert suffix.content == data[-5:]
    open_ended = raw("GET", url, token, {"Range": "bytes=10200-"})
    assert open_ended.content == data[10200:]
    many = raw("GET", url, token, {"Range": "bytes=0-1,100-102"})
    assert many.status_code == 206 and many.headers["Content-Type"].startswith("multipart/byteranges")
    boundary = many.headers["Content-Type"].split("boundary=")[1]
    parts = [p for p in many.content.split(f"--{boundary}".encode()) if p.strip(b"-\r\n")]
    assert [p.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") for p in parts] == [data[0:2], data[100:103]]
    assert int(many.headers["Content-Length"]) == len(many.content)
    beyond = raw("GET", url, token, {"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    malformed = raw("GET", url, token, {"Range": "bytes=z-q"})
    assert malformed.status_code == 200 and malformed.content == data


def test_conditional_requests(swift, container, account_url):
    etag = swift.put_object(container, "c", b"conditional")
    token = swift.get_auth()[1]
    url = f"{account_url}/{container}/c"
    assert raw("GET", url, token, {"If-None-Match": etag}).status_code == 304
    assert raw("GET", url, token, {"If-None-Match": '"other"'}).status_code == 200
    assert raw("GET", url, token, {"If-Match": f'"{etag}"'}).status_code == 200
    assert raw("GET", url, token, {"If-Match": "nope"}).status_code == 412
    modified = raw("HEAD", url, token).headers["Last-Modified"]
    assert raw("GET", url, token, {"If-Modified-Since": modified}).status_code == 304
    assert raw("GET", url, token, {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 412
    assert raw("PUT", url, token, {"If-None-Match": "*"}, data=b"again").status_code == 412
    assert raw("PUT", f"{url}-new", token, {"If-None-Match": "*"}, data=b"first").status_code == 201


def test_copies_by_x_copy_from_and_by_copy(swift, container, account_url):
    swift.put_object(container, "src", b"copied bytes", headers={"X-Object-Meta-Kept": "yes"})
    response: dict = {}
    swift.put_object(container, "dst1", None, headers={"X-Copy-From": f"/{container}/src"}, response_dict=response)
    assert response["headers"]["x-copied-from"] == f"{container}/src"
    headers, body = swift.get_object(container, "dst1")
    assert body == b"copied bytes" and headers["x-object-meta-kept"] == "yes"
    swift.copy_object(container, "src", f"/{container}/dst2", headers={"X-Object-Meta-New": "1"},
                      fresh_metadata=True)
    headers, body = swift.get_object(container, "dst2")
    assert body == b"copied bytes" and headers["x-object-meta-new"] == "1" and "x-object-meta-kept" not in headers
    swift.delete_object(container, "src")
    assert swift.get_object(container, "dst1")[1] == b"copied bytes"  # outlives its source
    token = swift.get_auth()[1]
    assert raw("COPY", f"{account_url}/{container}/missing", token,
               {"Destination": f"{container}/x"}).status_code == 404


def test_expiring_objects_disappear(swift, container, account_url):
    swift.put_object(container, "soon", b"x", headers={"X-Delete-After": "1"})
    swift.put_object(container, "later", b"y", headers={"X-Delete-At": str(int(time.time()) + 3600)})
    assert "x-delete-at" in swift.head_object(container, "later")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            swift.head_object(container, "soon")
        except ClientException as exc:
            assert exc.http_status == 404
            break
        time.sleep(0.2)
    else:
        pytest.fail("an object past its X-Delete-At was still served")
    assert [o["name"] for o in swift.get_container(container)[1]] == ["later"]
    token = swift.get_auth()[1]
    past = raw("PUT", f"{account_url}/{container}/past", token, {"X-Delete-At": "1000"}, data=b"x")
    assert past.status_code == 400 and "X-Delete-At" in past.text
    assert raw("PUT", f"{account_url}/{container}/nan", token, {"X-Delete-After": "soon"},
               data=b"x").status_code == 400


# -- listings ---------------------------------------------------------------------------


def test_listings_in_every_format_with_prefix_delimiter_markers_and_reverse(swift, container, account_url):
    names = ["a/1", "a/2", "a/b/3", "b", "c/4", "cc"]
    for name in names:
        swift.put_object(container, name, name.encode())
    _, listed = swift.get_container(container)
    assert [o["name"] for o in listed] == names
    assert listed[0]["bytes"] == 3 and listed[0]["hash"] == md5(b"a/1")
    _, rolled = swift.get_container(container, delimiter="/")
    assert [o.get("name") or o.get("subdir") for o in rolled] == ["a/", "b", "c/", "cc"]
    _, inner = swift.get_container(container, prefix="a/", delimiter="/")
    assert [o.get("name") or o.get("subdir") for o in inner] == ["a/1", "a/2", "a/b/"]
    assert [o["name"] for o in swift.get_container(container, marker="a/2", end_marker="c/4")[1]] == ["a/b/3", "b"]
    token = swift.get_auth()[1]
    url = f"{account_url}/{container}"
    backwards = raw("GET", url, token, params={"reverse": "true", "limit": "3"})
    assert backwards.text.splitlines() == ["cc", "c/4", "b"]
    rolled_back = raw("GET", url, token, params={"reverse": "true", "delimiter": "/"})
    assert rolled_back.text.splitlines() == ["cc", "c/", "b", "a/"]
    plain = raw("GET", url, token)
    assert plain.headers["Content-Type"].startswith("text/plain") and plain.text.splitlines() == names
    xml = raw("GET", url, token, params={"format": "xml", "delimiter": "/"})
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert f'<container name="{container}">' in xml.text and '<subdir name="a/"><name>a/</name></subdir>' in xml.text
    assert "<object><name>b</name><hash>" in xml.text
    accept = raw("GET", url, token, {"Accept": "application/json"})
    assert accept.headers["Content-Type"].startswith("application/json")
    assert raw("GET", url, token, params={"prefix": "zzz"}).status_code == 204
    assert raw("GET", url, token, params={"prefix": "zzz", "format": "json"}).json() == []
    assert raw("GET", url, token, params={"limit": "10001"}).status_code == 412


def test_paging_across_thousands_of_objects(swift, container):
    names = sorted(f"logs/{day:03d}/{part:02d}" for day in range(100) for part in range(25))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        connections = [swiftclient.client.Connection(session=swift.session) for _ in range(8)]
        list(pool.map(lambda item: connections[item[0] % 8].put_object(container, item[1], b""),
                      enumerate(names)))
    seen, marker = [], ""
    while True:
        _, page = swift.get_container(container, marker=marker, limit=700)
        if not page:
            break
        seen.extend(o["name"] for o in page)
        marker = page[-1]["name"]
    assert seen == names
    _, everything = swift.get_container(container, full_listing=True)
    assert len(everything) == 2500
    _, days = swift.get_container(container, prefix="logs/", delimiter="/", limit=40)
    assert [d["subdir"] for d in days] == [f"logs/{day:03d}/" for day in range(40)]
    assert swift.head_container(container)["x-container-object-count"] == "2500"


def test_account_listing_pages_containers(swift):
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    made = [f"{prefix}{i:02d}" for i in range(12)]
    for name in made:
        swift.put_container(name)
    try:
        _, first = swift.get_account(prefix=prefix, limit=5)
        _, rest = swift.get_account(prefix=prefix, marker=first[-1]["name"])
        assert [c["name"] for c in first + rest] == made
    finally:
        for name in made:
            swift.delete_container(name)


# -- large objects ----------------------------------------------------------------------


def _upload(swift, container, path, name, segment_size, use_slo):
    options = {"segment_size": segment_size, "use_slo": use_slo, "segment_container": f"{container}_segments"}
    with swiftclient.service.SwiftService(options={"os_auth_token": swift.get_auth()[1],
                                                   "os_storage_url": swift.get_auth()[0]}) as service:
        upload = swiftclient.service.SwiftUploadObject(path, object_name=name)
        results = list(service.upload(container, [upload], options=options))
    assert all(r["success"] for r in results), [r for r in results if not r["success"]]


@pytest.mark.parametrize("use_slo", [True, False], ids=["slo", "dlo"])
def test_segmented_uploads_download_whole_and_in_ranges(swift, container, tmp_path, account_url, use_slo):
    data = os.urandom(5 * 1024 * 1024 + 17)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    _upload(swift, container, str(path), "big.bin", 1024 * 1024, use_slo)
    headers, body = swift.get_object(container, "big.bin")
    assert body == data and int(headers["content-length"]) == len(data)
    assert (headers.get("x-static-large-object") == "True") == use_slo
    assert ("x-object-manifest" in headers) != use_slo
    token = swift.get_auth()[1]
    span = raw("GET", f"{account_url}/{container}/big.bin", token, {"Range": "bytes=1048570-1048590"})
    assert span.status_code == 206 and span.content == data[1048570:1048591]
    listed = {o["name"]: o for o in swift.get_container(container)[1]}
    assert listed["big.bin"]["bytes"] == (len(data) if use_slo else 0)
    copy = raw("PUT", f"{account_url}/{container}/flat", token, {"X-Copy-From": f"{container}/big.bin"})
    assert copy.status_code == 201
    flat = swift.head_object(container, "flat")
    assert int(flat["content-length"]) == len(data) and "x-static-large-object" not in flat
    assert flat["etag"] == md5(data)
    if use_slo:
        manifest = raw("GET", f"{account_url}/{container}/big.bin", token,
                       params={"multipart-manifest": "get"}).json()
        assert len(manifest) == 6 and sum(s["bytes"] for s in manifest) == len(data)
        gone = raw("DELETE", f"{account_url}/{container}/big.bin", token, {"Accept": "application/json"},
                   params={"multipart-manifest": "delete"}).json()
        assert gone["Number Deleted"] == 7 and gone["Errors"] == []
        assert swift.get_container(f"{container}_segments")[1] == []
    empty(swift, f"{container}_segments")


def test_slo_manifests_are_checked(swift, container, account_url):
    token = swift.get_auth()[1]
    swift.put_object(container, "seg1", b"a" * 10)
    good = [{"path": f"/{container}/seg1", "etag": md5(b"a" * 10), "size_bytes": 10}]
    url = f"{account_url}/{container}/manifest"
    put = raw("PUT", url, token, params={"multipart-manifest": "put"}, data=json.dumps(good * 2))
    assert put.status_code == 201
    expected = md5((md5(b"a" * 10) * 2).encode())
    assert put.headers["ETag"] == f'"{expected}"'
    assert swift.get_object(container, "manifest")[1] == b"a" * 20
    raw_form = raw("GET", url, token, params={"multipart-manifest": "get", "format": "raw"}).json()
    assert raw_form == [{"path": f"/{container}/seg1", "etag": good[0]["etag"], "size_bytes": 10}] * 2
    for bad in ([{"path": f"/{container}/missing"}], [{**good[0], "etag": "0" * 32}],
                [{**good[0], "size_bytes": 11}], {"not": "a list"}, [{"path": f"/{container}/seg1", "x": 1}]):
        response = raw("PUT", f"{url}-bad", token, params={"multipart-manifest": "put"}, data=json.dumps(bad))
        assert response.status_code == 400, (bad, response.text)
    assert raw("PUT", f"{url}-bad", token, params={"multipart-manifest": "put"}, data=b"{nope").status_code == 400
    assert status_of(swift.head_object, container, "manifest-bad") == 404


# -- bulk operations --------------------------------------------------------------------


def test_bulk_delete_reports_what_went(swift, container, account_url):
    for name in ("a", "b", "c d"):
        swift.put_object(container, name, b"x")
    doomed = f"{container}-doomed"
    swift.put_container(doomed)
    token = swift.get_auth()[1]
    lines = [f"/{container}/a", f"/{container}/{urllib.parse.quote('c d')}", f"/{container}/missing", f"/{doomed}"]
    done = raw("POST", account_url, token, {"Accept": "application/json", "Content-Type": "text/plain"},
               params={"bulk-delete": ""}, data="\n".join(lines))
    assert done.status_code == 200
    assert done.json() == {"Number Deleted": 3, "Number Not Found": 1, "Response Status": "200 OK",
                           "Response Body": "", "Errors": []}
    assert [o["name"] for o in swift.get_container(container)[1]] == ["b"]
    refused = raw("DELETE", account_url, token, {"Accept": "application/json"}, params={"bulk-delete": ""},
                  data=f"/{container}")  # not empty
    assert refused.json()["Errors"] == [[f"/{container}", "409 Conflict"]]
    assert refused.json()["Response Status"] == "400 Bad Request"


def test_archives_extract_into_objects(swift, container, account_url, tmp_path):
    import tarfile

    top = f"{container}-extracted"
    tree = tmp_path / "tree"
    (tree / top / "docs").mkdir(parents=True)
    (tree / top / "docs" / "readme.txt").write_text("read me")
    (tree / top / "data.bin").write_bytes(os.urandom(200_000))
    archive = tmp_path / "upload.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree / top, arcname=top)
    token = swift.get_auth()[1]
    done = raw("PUT", account_url, token, {"Accept": "application/json"}, params={"extract-archive": "tar.gz"},
               data=archive.read_bytes())
    assert done.status_code == 200 and done.json()["Number Files Created"] == 2, done.text
    headers, body = swift.get_object(top, "docs/readme.txt")
    assert body == b"read me" and headers["content-type"] == "text/plain"
    assert swift.get_object(top, "data.bin")[1] == (tree / top / "data.bin").read_bytes()
    into = raw("PUT", f"{account_url}/{container}", token, {"Accept": "application/json"},
               params={"extract-archive": "tar.gz"}, data=archive.read_bytes())
    assert into.json()["Number Files Created"] == 2
    assert sorted(o["name"] for o in swift.get_container(container)[1]) == [f"{top}/data.bin",
                                                                            f"{top}/docs/readme.txt"]
    bad = raw("PUT", account_url, token, params={"extract-archive": "tar"}, data=b"not a tar file" * 100)
    assert bad.status_code == 400
    assert raw("PUT", account_url, token, params={"extract-archive": "zip"}, data=b"x").status_code == 400
    empty(swift, top)


# -- versioning -------------------------------------------------------------------------


def test_stack_versioning_keeps_old_versions_and_delete_pops_them(swift, container):
    archive = f"{container}-versions"
    swift.put_container(archive)
    swift.post_container(container, {"X-Versions-Location": archive})
    assert swift.head_container(container)["x-versions-location"] == archive
    for content in (b"v1", b"v2", b"v3"):
        swift.put_object(container, "doc", content)
    kept = [o["name"] for o in swift.get_container(archive)[1]]
    assert len(kept) == 2 and all(name.startswith("003doc/") for name in kept)
    assert [swift.get_object(archive, name)[1] for name in kept] == [b"v1", b"v2"]
    swift.delete_object(container, "doc")
    assert swift.get_object(container, "doc")[1] == b"v2"
    swift.delete_object(container, "doc")
    assert swift.get_object(container, "doc")[1] == b"v1"
    swift.delete_object(container, "doc")
    assert status_of(swift.get_object, container, "doc") == 404
    assert swift.get_container(archive)[1] == []
    swift.post_container(container, {"X-Remove-Versions-Location": "x"})
    assert "x-versions-location" not in swift.head_container(container)
    swift.delete_container(archive)


def test_history_versioning_archives_on_delete_with_a_marker(swift, container, account_url):
    archive = f"{container}-history"
    swift.put_container(archive)
    swift.post_container(container, {"X-History-Location": archive})
    swift.put_object(container, "page", b"first")
    swift.put_object(container, "page", b"second")
    swift.delete_object(container, "page")
    assert status_of(swift.get_object, container, "page") == 404
    history = swift.get_container(archive)[1]
    assert [swift.get_object(archive, o["name"])[1] for o in history] == [b"first", b"second", b""]
    assert history[-1]["content_type"] == "application/x-deleted;swift_versions_deleted=1"
    token = swift.get_auth()[1]
    both = raw("POST", f"{account_url}/{container}", token,
               {"X-Versions-Location": archive, "X-History-Location": archive})
    assert both.status_code == 400
    swift.post_container(container, {"X-History-Location": ""})
    empty(swift, archive)


def test_versioning_into_a_missing_container_is_refused(swift, container):
    swift.post_container(container, {"X-Versions-Location": f"{container}-nowhere"})
    swift.put_object(container, "doc", b"v1")
    assert status_of(swift.put_object, container, "doc", b"v2") == 412
    assert swift.get_object(container, "doc")[1] == b"v1"
    swift.post_container(container, {"X-Versions-Location": ""})


# -- access -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other(conn):
    project, connection = member_of_new_project(conn, f"objects-other-{uuid.uuid4().hex[:6]}")
    yield project, connection
    connection.close()


@pytest.fixture(scope="module")
def reader(conn):
    """A reader of the admin's own project."""
    role = conn.identity.find_role("reader")
    project = conn.identity.find_project("admin")
    user = conn.identity.create_user(name=f"reader-{uuid.uuid4().hex[:6]}", password="pw-reader",
                                     default_project_id=project.id)
    conn.identity.assign_project_role_to_user(project, user, role)
    connection = swiftclient.client.Connection(
        authurl=conn.config.config["auth"]["auth_url"] + "/v3", user=user.name, key="pw-reader", auth_version="3",
        os_options={"project_id": project.id, "user_domain_id": "default"})
    yield connection
    connection.close()


def test_another_project_is_refused_until_an_acl_grants_it(swift, container, other, account_url):
    project, connection = other
    swift.put_object(container, "shared", b"secret")
    token = connection.session.get_token()
    url = f"{account_url}/{container}"
    assert raw("GET", url, token).status_code == 403
    assert raw("GET", f"{url}/shared", token).status_code == 403
    assert raw("PUT", f"{url}/intruder", token, data=b"x").status_code == 403
    assert raw("HEAD", account_url, token).status_code == 403
    assert raw("GET", f"{account_url}/no-such-container", token).status_code == 403  # existence not revealed
    swift.post_container(container, {"X-Container-Read": f"{project.id}:*"})
    assert raw("GET", f"{url}/shared", token).content == b"secret"
    assert raw("GET", url, token).text.splitlines() == ["shared"]
    assert "x-container-read" not in {k.lower() for k in raw("HEAD", url, token).headers}
    assert raw("PUT", f"{url}/intruder", token, data=b"x").status_code == 403
    assert raw("POST", url, token, {"X-Container-Read": ".r:*"}).status_code == 403
    swift.post_container(container, {"X-Container-Write": f"{project.id}:*"})
    assert raw("PUT", f"{url}/guest", token, data=b"from the other project").status_code == 201
    assert raw("DELETE", f"{url}/guest", token).status_code == 204
    assert raw("DELETE", url, token).status_code == 403
    swift.post_container(container, {"X-Remove-Container-Read": "x", "X-Remove-Container-Write": "x"})
    assert raw("GET", f"{url}/shared", token).status_code == 403


def test_anonymous_reads_need_a_referrer_acl_and_listings_need_rlistings(swift, container, account_url):
    swift.put_object(container, "public.txt", b"hello world")
    url = f"{account_url}/{container}"
    assert raw("GET", f"{url}/public.txt").status_code == 401
    assert raw("GET", account_url).status_code == 401
    swift.post_container(container, {"X-Container-Read": ".r:*"})
    assert raw("GET", f"{url}/public.txt").content == b"hello world"
    assert raw("GET", url).status_code == 401
    assert raw("PUT", f"{url}/public.txt", data=b"defaced").status_code == 401
    swift.post_container(container, {"X-Container-Read": ".r:*,.rlistings"})
    assert raw("GET", url).text.splitlines() == ["public.txt"]
    swift.post_container(container, {"X-Container-Read": ".r:.example.com"})
    assert raw("GET", f"{url}/public.txt", headers={"Referer": "http://www.example.com/page"}).status_code == 200
    assert raw("GET", f"{url}/public.txt", headers={"Referer": "http://evil.test/"}).status_code == 401
    token = swift.get_auth()[1]
    bad = raw("POST", url, token, {"X-Container-Write": ".r:*"})
    assert bad.status_code == 400 and "write ACL" in bad.text


def test_a_reader_reads_but_does_not_write(swift, container, reader):
    swift.put_object(container, "report", b"numbers")
    assert reader.get_object(container, "report")[1] == b"numbers"
    assert [o["name"] for o in reader.get_container(container)[1]] == ["report"]
    assert status_of(reader.put_object, container, "report", b"changed") == 403
    assert status_of(reader.delete_object, container, "report") == 403
    assert status_of(reader.put_container, f"{container}-new") == 403
    assert status_of(reader.post_account, {"X-Account-Meta-X": "y"}) == 403


def test_projects_have_separate_accounts(swift, other):
    _, connection = other
    theirs = swiftclient.client.Connection(session=connection.session)
    name = f"same-name-{uuid.uuid4().hex[:6]}"
    swift.put_container(name)
    theirs.put_container(name)
    theirs.put_object(name, "obj", b"theirs")
    assert swift.get_container(name)[1] == []
    assert theirs.get_auth()[0] != swift.get_auth()[0]
    theirs.delete_object(name, "obj")
    theirs.delete_container(name)
    swift.delete_container(name)


def test_quotas_refuse_uploads_with_413(swift, container, other, account_url):
    swift.post_container(container, {"X-Container-Meta-Quota-Bytes": "10", "X-Container-Meta-Quota-Count": "2"})
    swift.put_object(container, "fits", b"12345")
    assert status_of(swift.put_object, container, "too-big", b"1234567890") == 413
    swift.put_object(container, "fits2", b"1")
    assert status_of(swift.put_object, container, "third", b"") == 413
    swift.put_object(container, "fits", b"123")  # replacing is not adding an object
    assert status_of(swift.post_account, {"X-Account-Meta-Quota-Bytes": "5"}) == 403  # resellers only
    token = swift.get_auth()[1]
    assert raw("POST", f"{account_url}/{container}", token,
               {"X-Container-Meta-Quota-Bytes": "lots"}).status_code == 400


# -- temporary URLs ---------------------------------------------------------------------


def _signed(key, method, expires, path, digest="sha256", prefix=False, encoding="hex"):
    body = f"{method}\n{expires}\n{'prefix:' if prefix else ''}{path}"
    made = hmac.new(key.encode(), body.encode(), getattr(hashlib, digest))
    if encoding == "hex":
        return made.hexdigest()
    return f"{digest}:{base64.urlsafe_b64encode(made.digest()).decode().rstrip('=')}"


def test_temp_urls_let_in_without_a_token_until_they_expire(swift, container, account_url):
    key = uuid.uuid4().hex
    swift.post_account({"X-Account-Meta-Temp-URL-Key": key})
    swift.put_object(container, "report.pdf", b"quarterly numbers")
    account = account_url.rsplit("/", 1)[1]
    path = f"/v1/{account}/{container}/report.pdf"
    url = f"{account_url}/{container}/report.pdf"
    expires = int(time.time()) + 600
    good = raw("GET", url, params={"temp_url_sig": _signed(key, "GET", expires, path), "temp_url_expires": expires})
    assert good.status_code == 200 and good.content == b"quarterly numbers"
    assert good.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    head = raw("HEAD", url, params={"temp_url_sig": _signed(key, "GET", expires, path), "temp_url_expires": expires})
    assert head.status_code == 200
    full_path = urllib.parse.urlsplit(url).path  # the URL's whole path, mount point included, signs too
    sha1 = _signed(key, "GET", expires, full_path, digest="sha1")
    assert raw("GET", url, params={"temp_url_sig": sha1, "temp_url_expires": expires}).status_code == 200
    b64 = _signed(key, "GET", expires, path, digest="sha512", encoding="base64")
    assert raw("GET", url, params={"temp_url_sig": b64, "temp_url_expires": expires}).status_code == 200
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    assert raw("GET", url, params={"temp_url_sig": _signed(key, "GET", expires, path),  # signed as a Unix time
                                   "temp_url_expires": iso}).status_code == 200
    signature = _signed(key, "GET", expires, path)
    tampered = signature[:-1] + ("1" if signature[-1] == "0" else "0")  # "+ 00" was the signature 1 time in 256
    assert raw("GET", url, params={"temp_url_sig": tampered, "temp_url_expires": expires}).status_code == 401
    other = raw("GET", f"{account_url}/{container}/other", params={"temp_url_sig": _signed(key, "GET", expires, path),
                                                                   "temp_url_expires": expires})
    assert other.status_code == 401
    past = int(time.time()) - 1
    assert raw("GET", url, params={"temp_url_sig": _signed(key, "GET", past, path),
                                   "temp_url_expires": past}).status_code == 401
    wrong_method = raw("DELETE", url, params={"temp_url_sig": _signed(key, "GET", expires, path),
                                              "temp_url_expires": expires})
    assert wrong_method.status_code == 401
    put = raw("PUT", f"{account_url}/{container}/upload",
              params={"temp_url_sig": _signed(key, "PUT", expires, f"/v1/{account}/{container}/upload"),
                      "temp_url_expires": expires}, data=b"uploaded with a temp URL")
    assert put.status_code == 201 and swift.get_object(container, "upload")[1] == b"uploaded with a temp URL"
    listing = raw("GET", f"{account_url}/{container}", params={"temp_url_sig": _signed(key, "GET", expires, path),
                                                               "temp_url_expires": expires})
    assert listing.status_code == 401
    assert "x-account-meta-temp-url-key" in swift.head_account()
    swift.post_account({"X-Remove-Account-Meta-Temp-URL-Key": "x"})
    assert raw("GET", url, params={"temp_url_sig": _signed(key, "GET", expires, path),
                                   "temp_url_expires": expires}).status_code == 401


def test_prefix_temp_urls_and_container_keys(swift, container, account_url, other):
    key = uuid.uuid4().hex
    swift.post_container(container, {"X-Container-Meta-Temp-URL-Key": key})
    swift.put_object(container, "photos/1.jpg", b"one")
    swift.put_object(container, "private/2.jpg", b"two")
    account = account_url.rsplit("/", 1)[1]
    expires = int(time.time()) + 600
    sig = _signed(key, "GET", expires, f"/v1/{account}/{container}/photos/", prefix=True)
    params = {"temp_url_sig": sig, "temp_url_expires": expires, "temp_url_prefix": "photos/"}
    assert raw("GET", f"{account_url}/{container}/photos/1.jpg", params=params).content == b"one"
    assert raw("GET", f"{account_url}/{container}/private/2.jpg", params=params).status_code == 401
    project, connection = other
    swift.post_container(container, {"X-Container-Read": f"{project.id}:*"})
    seen = raw("HEAD", f"{account_url}/{container}", connection.session.get_token())
    assert seen.status_code == 204 and "x-container-meta-temp-url-key" not in {k.lower() for k in seen.headers}


# -- bad input --------------------------------------------------------------------------


def test_bad_names_and_parameters_get_swift_status_codes(swift, container, account_url):
    token = swift.get_auth()[1]
    assert status_of(swift.put_container, "c" * 257) == 400
    assert status_of(swift.put_object, container, "o" * 1025, b"x") == 400
    swift.put_object(container, "o" * 1024, b"x")
    invalid_utf8 = account_url.encode() + b"/" + container.encode() + b"/bad\xff\xfe"
    host, port = urllib.parse.urlsplit(account_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("PUT", urllib.parse.quote_from_bytes(invalid_utf8[len(account_url.split("/object")[0]):],
                                                               safe="/:_"))
    connection.putheader("X-Auth-Token", token)
    connection.putheader("Content-Length", "1")
    connection.endheaders(b"x")
    assert connection.getresponse().status == 412
    connection.close()
    no_length = http.client.HTTPConnection(host, int(port), timeout=30)
    no_length.putrequest("PUT", urllib.parse.urlsplit(f"{account_url}/{container}/nolength").path)
    no_length.putheader("X-Auth-Token", token)
    no_length.endheaders()
    assert no_length.getresponse().status == 411
    no_length.close()
    assert raw("PUT", f"{account_url}/{container}/m", token, {"X-Object-Meta-" + "n" * 129: "v"},
               data=b"x").status_code == 400
    assert raw("PUT", f"{account_url}/{container}/m", token, {"X-Object-Meta-Big": "v" * 257},
               data=b"x").status_code == 400
    many = {f"X-Container-Meta-K{i}": "v" for i in range(91)}
    assert raw("POST", f"{account_url}/{container}", token, many).status_code == 400
    assert raw("GET", f"{account_url}/{container}", token, params={"prefix": "\x00"}).status_code == 412
    assert raw("PUT", f"{account_url}/{container}/x", token, {"If-None-Match": "abc"}, data=b"x").status_code == 400
    assert raw("GET", f"{account_url}/{container}", token, {"Accept": "image/png"}).status_code == 406


def test_nothing_is_left_in_the_backend_after_deletes(swift, cloud):
    name = f"clean-{uuid.uuid4().hex[:6]}"
    swift.put_container(name)
    for i in range(5):
        swift.put_object(name, f"o{i}", os.urandom(1000))
        swift.put_object(name, f"o{i}", os.urandom(500))  # replaced: the first bytes go
    before = _stored_files(cloud.data_dir / "objects")
    for i in range(5):
        swift.delete_object(name, f"o{i}")
    swift.delete_container(name)
    assert len(before) - len(_stored_files(cloud.data_dir / "objects")) == 5


def _stored_files(root):
    return {p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts}


# -- other clients ----------------------------------------------------------------------


def test_openstacksdk_object_store(conn, tmp_path):
    name = f"sdk-{uuid.uuid4().hex[:6]}"
    conn.object_store.create_container(name=name)
    conn.object_store.set_container_metadata(name, team="storage")
    conn.object_store.upload_object(container=name, name="notes.txt", data=b"from openstacksdk")
    assert conn.object_store.download_object("notes.txt", container=name) == b"from openstacksdk"
    assert [o.name for o in conn.object_store.objects(name)] == ["notes.txt"]
    conn.object_store.set_object_metadata("notes.txt", container=name, kind="text")
    assert conn.object_store.get_object_metadata("notes.txt", container=name).metadata == {"kind": "text"}
    assert conn.object_store.get_container_metadata(name).metadata == {"team": "storage"}
    data = os.urandom(3 * 1024 * 1024)
    (tmp_path / "large").write_bytes(data)
    conn.create_object(name, "large", filename=str(tmp_path / "large"), segment_size=1024 * 1024)
    assert conn.object_store.download_object("large", container=name) == data
    conn.delete_object(name, "large")
    conn.object_store.delete_object("notes.txt", container=name)
    conn.object_store.delete_container(name)
    assert name not in [c.name for c in conn.object_store.containers()]


def _swift_env(cloud, conn):
    auth = conn.config.config["auth"]
    return dict(os.environ, OS_AUTH_URL=auth["auth_url"] + "/v3", OS_USERNAME=auth["username"],
                OS_PASSWORD=auth["password"], OS_PROJECT_NAME=auth["project_name"], OS_USER_DOMAIN_NAME="Default",
                OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3")


def test_the_swift_cli(cloud, conn, tmp_path):
    env = _swift_env(cloud, conn)

    def swift_cli(*args):
        result = subprocess.run(["swift", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    data = os.urandom(2 * 1024 * 1024 + 5)
    (tmp_path / "file.bin").write_bytes(data)
    swift_cli("upload", "--segment-size", "1000000", "cli", "file.bin")
    assert "file.bin" in swift_cli("list", "cli")
    swift_cli("post", "-m", "color:green", "cli", "file.bin")
    assert "Meta Color: green" in swift_cli("stat", "cli", "file.bin")
    swift_cli("download", "cli", "file.bin", "-o", "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data
    swift_cli("delete", "cli")
    assert "cli\n" not in swift_cli("list")


def test_the_openstack_cli(cloud_env, tmp_path):
    def openstack(*args):
        result = subprocess.run(["openstack", *args], env=cloud_env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    (tmp_path / "hello.txt").write_text("hello from the cli\n")
    openstack("container", "create", "osc")
    openstack("object", "create", "osc", "hello.txt")
    assert json.loads(openstack("object", "list", "osc", "-f", "json")) == [{"Name": "hello.txt"}]
    openstack("object", "save", "osc", "hello.txt", "--file", "saved.txt")
    assert (tmp_path / "saved.txt").read_text() == "hello from the cli\n"
    shown = json.loads(openstack("container", "show", "osc", "-f", "json"))
    assert shown["object_count"] == "1" or shown["object_count"] == 1
    openstack("object", "delete", "osc", "hello.txt")
    openstack("container", "delete", "osc")
