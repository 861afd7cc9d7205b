"""The image API beyond data: JSON-patch updates, tags, sharing, (de)activation, list
filters and the schema documents — over HTTP with openstacksdk, the CLI and raw requests."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import member_of_new_project

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}



@pytest.fixture(scope="module")
def other(conn):
    """A member of another project, and that project."""
    project, connection = member_of_new_project(conn, "img-consumer")
    yield project, connection
    connection.close()


def url(cloud, path=""):
    return f"{cloud.base_url}/image/v2{path}"


def new_image(conn, name, data=b"x", **attrs):
    return conn.image.create_image(name=name, data=data, disk_format="raw", container_format="bare",
                                   allow_duplicates=True, **attrs)


def test_sdk_update_image_patches_attributes_and_properties(conn):
    image = new_image(conn, "patch-me", flavour="vanilla")
    updated = conn.image.update_image(image, name="patched", min_ram=512, flavour="chocolate", extra="1")
    assert (updated.name, updated.min_ram) == ("patched", 512)
    assert updated.properties["flavour"] == "chocolate" and updated.properties["extra"] == "1"
    shown = conn.image.get_image(image)
    assert shown.name == "patched" and shown.properties["extra"] == "1"
    conn.image.delete_image(image)


def test_json_patch_rules(conn, cloud):
    token = {"X-Auth-Token": conn.session.get_token()}
    image = new_image(conn, "patch-rules", colour="red")
    target = url(cloud, f"/images/{image.id}")

    def patch(operations, headers=PATCH):
        return requests.patch(target, data=json.dumps(operations), headers={**token, **headers}, timeout=30)

    ok = patch([{"op": "add", "path": "/size_hint", "value": "big"}, {"op": "replace", "path": "/colour",
                                                                      "value": "blue"},
                {"op": "add", "path": "/tags/-", "value": "gold"}, {"op": "remove", "path": "/size_hint"}])
    assert ok.status_code == 200, ok.text
    assert ok.json()["colour"] == "blue" and ok.json()["tags"] == ["gold"] and "size_hint" not in ok.json()
    assert patch([{"op": "replace", "path": "/name", "value": "x"}],
                 {"Content-Type": "application/json"}).status_code == 415
    bad_path = patch([{"op": "replace", "path": "/a/b", "value": "x"}])
    assert bad_path.status_code == 400 and "/a/b" in bad_path.text
    assert patch([{"op": "move", "path": "/name", "from": "/x"}]).status_code == 400
    assert patch([{"op": "replace", "path": "/name"}]).status_code == 400  # no value
    missing = patch([{"op": "replace", "path": "/nothing", "value": "x"}])
    assert missing.status_code == 409 and "nothing" in missing.text
    assert patch([{"op": "remove", "path": "/nothing"}]).status_code == 409
    assert patch([{"op": "remove", "path": "/name"}]).status_code == 403
    read_only = patch([{"op": "replace", "path": "/status", "value": "active"}])
    assert read_only.status_code == 403 and "read-only" in read_only.text
    assert patch([{"op": "add", "path": "/os_glance_x", "value": "1"}]).status_code == 403
    assert patch([{"op": "replace", "path": "/disk_format", "value": "qcow2"}]).status_code == 403  # active
    bad_value = patch([{"op": "replace", "path": "/min_ram", "value": -1}])
    assert bad_value.status_code == 400 and "min_ram" in bad_value.text
    assert patch([{"op": "replace", "path": "/visibility", "value": "sideways"}]).status_code == 400
    assert requests.get(target, headers=token, timeout=30).json()["colour"] == "blue"  # failures changed nothing
    conn.image.delete_image(image)


def test_tags(conn):
    image = new_image(conn, "tagged", tags=["one"])
    conn.image.add_tag(image, "two")
    conn.image.add_tag(image, "two")  # idempotent
    assert sorted(conn.image.get_image(image).tags) == ["one", "two"]
    assert [i.id for i in conn.image.images(tag="two")] == [image.id]
    assert [i.id for i in conn.image.images(tag=["one", "two"])] == [image.id]
    conn.image.remove_tag(image, "one")
    assert conn.image.get_image(image).tags == ["two"]
    with pytest.raises(sdk_exceptions.NotFoundException):
        conn.image.remove_tag(image, "one")
    conn.image.delete_image(image)


def test_deactivate_and_reactivate(conn, cloud, other):
    _, consumer = other
    image = new_image(conn, "deactivated", data=b"secret data", visibility="public")
    conn.image.deactivate_image(image)
    assert conn.image.get_image(image).status == "deactivated"
    conn.image.deactivate_image(image)  # again: still fine
    token = {"X-Auth-Token": consumer.session.get_token()}
    refused = requests.get(url(cloud, f"/images/{image.id}/file"), headers=token, timeout=30)
    assert refused.status_code == 403 and "deactivated" in refused.text
    assert conn.image.download_image(image).content == b"secret data"  # administrators still can
    reactivate = url(cloud, f"/images/{image.id}/actions/reactivate")
    # another project may not; the owning project's members may (Glance's default policy)
    assert requests.post(reactivate, headers=token, timeout=30).status_code == 403
    conn.image.reactivate_image(image)
    own = consumer.image.create_image(name="consumers-own", disk_format="raw", container_format="bare",
                                      data=b"mine")
    consumer.image.deactivate_image(own)
    assert consumer.image.get_image(own).status == "deactivated"
    consumer.image.reactivate_image(own)
    consumer.image.delete_image(own)
    assert consumer.image.download_image(image).content == b"secret data"
    queued = conn.image.create_image(name="never-active", allow_duplicates=True)
    admin = {"X-Auth-Token": conn.session.get_token()}
    not_active = requests.post(url(cloud, f"/images/{queued.id}/actions/deactivate"), headers=admin, timeout=30)
    assert not_active.status_code == 400 and "queued" in not_active.text
    conn.image.delete_image(image)
    conn.image.delete_image(queued)


def test_sharing_with_members(conn, cloud, other):
    project, consumer = other
    image = new_image(conn, "shared-one", data=b"shared data", visibility="shared")
    assert image.id not in [i.id for i in consumer.image.images()]
    member = conn.image.add_member(image, member_id=project.id)
    assert member.status == "pending"
    with pytest.raises(sdk_exceptions.ConflictException):
        conn.image.add_member(image, member_id=project.id)
    assert consumer.image.get_image(image).name == "shared-one"  # visible by id while pending
    assert image.id not in [i.id for i in consumer.image.images()]
    assert image.id in [i.id for i in consumer.image.images(member_status="pending")]
    with pytest.raises(sdk_exceptions.ForbiddenException):
        conn.image.update_member(member, image, status="accepted")  # only the member decides
    consumer.image.update_member(project.id, image, status="accepted")
    assert image.id in [i.id for i in consumer.image.images()]
    assert consumer.image.download_image(image).content == b"shared data"
    assert [m.member_id for m in consumer.image.members(image)] == [project.id]
    with pytest.raises(sdk_exceptions.ForbiddenException):
        consumer.image.update_image(image, name="hijacked")
    with pytest.raises(sdk_exceptions.HttpException):
        consumer.image.delete_image(image)
    consumer.image.update_member(project.id, image, status="rejected")
    assert image.id not in [i.id for i in consumer.image.images()]
    conn.image.remove_member(project.id, image)
    with pytest.raises(sdk_exceptions.NotFoundException):
        consumer.image.get_image(image)
    private = new_image(conn, "private-one", visibility="private")
    with pytest.raises(sdk_exceptions.ForbiddenException):
        conn.image.add_member(private, member_id=project.id)
    for made in (image, private):
        conn.image.delete_image(made)


def test_cli_sharing_and_properties(conn, cloud_env, other):
    project, _ = other
    image = new_image(conn, "cli-shared", visibility="shared")

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("image", "set", "--property", "os_distro=debian", "--tag", "cli-tag", "--min-disk", "2", image.id)
    shown = json.loads(cli("image", "show", image.id, "-f", "json"))
    assert shown["min_disk"] == 2 and "cli-tag" in shown["tags"]
    assert shown["properties"]["os_distro"] == "debian"
    cli("image", "add", "project", image.id, project.id)
    assert project.id in cli("image", "member", "list", image.id, "-f", "value")
    cli("image", "set", "--deactivate", image.id)
    assert json.loads(cli("image", "show", image.id, "-f", "json"))["status"] == "deactivated"
    cli("image", "set", "--activate", image.id)
    cli("image", "delete", image.id)


def test_list_filters_on_size_time_properties_and_sort(conn):
    small, big = new_image(conn, "flt-small", data=b"s" * 10, os_distro="alpine"), \
        new_image(conn, "flt-big", data=b"b" * 1000, os_distro="debian")
    names = {i.name for i in conn.image.images(size_min=500) if i.name.startswith("flt-")}
    assert names == {"flt-big"}
    assert {i.name for i in conn.image.images(size_max=500) if i.name.startswith("flt-")} == {"flt-small"}
    assert [i.name for i in conn.image.images(os_distro="alpine")] == ["flt-small"]
    stamp = conn.image.get_image(big).created_at
    created_after = {i.name for i in conn.image.images(created_at=f"gte:{stamp}") if i.name.startswith("flt-")}
    assert "flt-big" in created_after
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert not [i for i in conn.image.images(created_at=f"gt:{future}")]
    assert [i.name for i in conn.image.images(name="in:flt-small,flt-big", sort="name:asc")] == ["flt-big",
                                                                                              "flt-small"]
    assert [i.name for i in conn.image.images(name="in:flt-small,flt-big", sort_key="size",
                                              sort_dir="desc")] == ["flt-big", "flt-small"]
    pages = [i.name for i in conn.image.images(name="in:flt-small,flt-big", sort="name:desc", limit=1)]
    assert pages == ["flt-small", "flt-big"]
    conn.image.delete_image(small)
    conn.image.delete_image(big)


def test_bad_list_parameters(conn, cloud):
    token = {"X-Auth-Token": conn.session.get_token()}
    for query, field in (("created_at=after:yesterday", "created_at"), ("size_min=big", "size_min"),
                         ("sort=name:sideways", "sideways"), ("sort_key=colour", "colour"),
                         ("sort=name&sort_key=id", "sort"), ("status=sleeping", "sleeping"),
                         ("visibility=hidden", "hidden"), ("member_status=maybe", "maybe"), ("limit=-1", "limit"),
                         ("marker=00000000-0000-0000-0000-000000000000", "marker")):
        response = requests.get(url(cloud, f"/images?{query}"), headers=token, timeout=30)
        assert response.status_code == 400 and field in response.text, (query, response.text)


def test_schemas_and_info(conn):
    image_schema = conn.image.get_image_schema()
    assert image_schema.properties["disk_format"]["enum"][:2] == ["ami", "ari"]
    assert "images" in conn.image.get_images_schema().properties
    assert conn.image.get_member_schema().properties["status"]["enum"] == ["accepted", "pending", "rejected"]
    assert "members" in conn.image.get_members_schema().properties
    assert [s.id for s in conn.image.stores()] == ["local"]
    assert "glance-direct" in conn.image.get_import_info().import_methods["value"]


def test_deleting_leaves_no_data_and_the_id_stays_taken(conn, cloud):
    image = new_image(conn, "short-lived", data=b"z" * 100)
    store_dir = cloud.data_dir / "images" / "local"
    assert (store_dir / image.id).exists()
    conn.image.delete_image(image)
    assert not (store_dir / image.id).exists()
    token = {"X-Auth-Token": conn.session.get_token()}
    reused = requests.post(url(cloud, "/images"), json={"id": image.id, "name": "again"}, headers=token, timeout=30)
    assert reused.status_code == 409
    protected = new_image(conn, "protected", protected=True)
    with pytest.raises(sdk_exceptions.ForbiddenException):
        conn.image.delete_image(protected)
    conn.image.update_image(protected, protected=False)
    conn.image.delete_image(protected)
