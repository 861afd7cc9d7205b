"""The swift store against a real Swift: segments, cleanup, auth variants, and the image
API of an embedded cloud storing its images in Swift."""

from __future__ import annotations

import hashlib
import os
import uuid

import openstack.config
import openstack.connection
import pytest
import requests

from stratus.exceptions import DriverLoadError, Invalid, NotAuthenticated, PayloadTooLarge
from stratus.interfaces.image_store import Location
from stratus.testing import EmbeddedCloud
from tests import swift as swift_fixture

MiB = 1024 * 1024


def swift_token(swift):
    response = requests.get(swift.auth_url, headers={"X-Auth-User": swift_fixture.TEMPAUTH_USER,
                                                     "X-Auth-Key": swift_fixture.TEMPAUTH_KEY}, timeout=30)
    return response.headers["X-Storage-Url"], response.headers["X-Auth-Token"]


def listing(swift, container):
    url, token = swift_token(swift)
    response = requests.get(f"{url}/{container}", headers={"X-Auth-Token": token}, timeout=30)
    return [] if response.status_code == 404 else response.text.split()


def test_large_images_become_slo_manifests_and_delete_removes_the_segments(swift, make_store):
    store = make_store(container="slo", large_object_size=1, large_object_chunk_size=1)
    data = os.urandom(3 * MiB + 5)
    stored = store.add(str(uuid.uuid4()), iter([data[i:i + 65536] for i in range(0, len(data), 65536)]), len(data))
    url, token = swift_token(swift)
    head = requests.head(f"{url}/slo/{stored.location.url.rsplit('/', 1)[1]}", headers={"X-Auth-Token": token},
                         timeout=30)
    assert head.headers["X-Static-Large-Object"] == "True" and int(head.headers["Content-Length"]) == len(data)
    assert len(listing(swift, "slo_segments")) == 4
    assert b"".join(store.get(stored.location, 2 * MiB - 3, 10)) == data[2 * MiB - 3:2 * MiB + 7]
    store.delete(stored.location)
    assert listing(swift, "slo_segments") == [] and listing(swift, "slo") == []


def test_a_cut_off_segmented_upload_keeps_nothing_and_raises_the_sources_error(swift, make_store):
    store = make_store(container="cut", large_object_size=1, large_object_chunk_size=1)

    def over_quota():
        for _ in range(3):
            yield os.urandom(MiB)
        raise PayloadTooLarge("over quota")

    with pytest.raises(PayloadTooLarge):
        store.add(str(uuid.uuid4()), over_quota())
    assert listing(swift, "cut_segments") == [] and listing(swift, "cut") == []


def test_small_images_of_known_size_are_single_objects(swift, make_store):
    store = make_store(container="plain")
    stored = store.add(str(uuid.uuid4()), iter([b"tiny"]), 4)
    assert listing(swift, "plain_segments") == [] and len(listing(swift, "plain")) == 1
    assert store.get_size(stored.location) == 4
    store.delete(stored.location)


def test_a_preauthenticated_url(swift, make_store):
    url, token = swift_token(swift)
    store = make_store(auth_version="preauth", preauth_url=url, preauth_token=token, container="preauth")
    stored = store.add(str(uuid.uuid4()), iter([b"pre", b"auth"]))
    assert b"".join(store.get(stored.location)) == b"preauth"
    store.delete(stored.location)


def test_bad_credentials_and_configuration_are_named(swift, make_store):
    with pytest.raises(NotAuthenticated, match="test:tester"):
        make_store(key="wrong").add(str(uuid.uuid4()), iter([b"x"]))
    with pytest.raises(DriverLoadError, match="preauth_url"):
        make_store(auth_version="preauth")
    with pytest.raises(DriverLoadError, match="project_name"):
        make_store(auth_version="3")
    store = make_store()
    with pytest.raises(Invalid, match="swift://conformance/images/"):
        store.get_size(Location("swift://elsewhere/images/x"))


@pytest.fixture(scope="module")
def cloud_on_swift(swift, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cloud")
    cloud = EmbeddedCloud(data_dir, f"[image]\nenabled_stores = objects:swift, local:file\ndefault_store = objects\n"
                                    f"[objects]\nauth_version = 1\nauth_address = {swift.auth_url}\n"
                                    f"user = {swift_fixture.TEMPAUTH_USER}\nkey = {swift_fixture.TEMPAUTH_KEY}\n"
                                    "container = glance\nlarge_object_size = 1\nlarge_object_chunk_size = 1\n",
                          defaults=False)  # the test counts the container's objects
    yield cloud
    cloud.stop()


def connect(cloud):
    config = openstack.config.OpenStackConfig(config_files=[cloud.clouds_yaml])
    return openstack.connection.Connection(config=config.get_one("stratus"))


def test_the_image_api_stores_images_in_swift(cloud_on_swift, swift):
    conn = connect(cloud_on_swift)
    data = os.urandom(2 * MiB + 100)
    image = conn.image.create_image(name="in-swift", data=data, disk_format="raw", container_format="bare")
    shown = conn.image.get_image(image)
    assert shown.status == "active" and shown.properties["stores"] == "objects"
    assert shown.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert listing(swift, "glance") == [image.id] and len(listing(swift, "glance_segments")) == 3
    assert conn.image.download_image(shown).content == data
    conn.image.delete_image(image)
    assert listing(swift, "glance") == [] and listing(swift, "glance_segments") == []
    conn.close()


def test_keystone_v3_credentials_with_swift_trusting_stratus_tokens(cloud_on_swift, tmp_path_factory, make_store):
    """Swift's proxy validates tokens with Stratus's identity API (keystonemiddleware), and
    the store finds Swift in Stratus's catalog."""
    conn = connect(cloud_on_swift)
    auth = conn.config.config["auth"]
    keystone = {"auth_url": auth["auth_url"], "username": auth["username"], "password": auth["password"],
                "project": "admin"}
    server = swift_fixture.Swift(str(tmp_path_factory.mktemp("swift-keystone")), keystone=keystone)
    try:
        server.start()
    except RuntimeError as exc:
        if "keystonemiddleware" in str(exc):
            pytest.skip("Debian's python3-keystonemiddleware is not installed")
        raise
    try:
        region = conn.identity.create_region(id="SwiftRegion")
        service = conn.identity.find_service("swift") or conn.identity.create_service(type="object-store",
                                                                                        name="swift")
        conn.identity.create_endpoint(service_id=service.id, interface="public", region_id=region.id,
                                      url=f"{server.url}/v1/AUTH_$(project_id)s")
        store = make_store(auth_version="3", auth_address=auth["auth_url"], user=auth["username"],
                           key=auth["password"], project_name="admin", region_name="SwiftRegion",
                           container="keystone")
        stored = store.add(str(uuid.uuid4()), iter([b"via ", b"keystone"]))
        assert b"".join(store.get(stored.location)) == b"via keystone"
        store.delete(stored.location)
    finally:
        server.stop()
        conn.close()
