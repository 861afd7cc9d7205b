"""Metadata definitions (/v2/metadefs) as the openstack CLI and raw requests use them: the
definitions Stratus ships, namespaces with properties, objects, tags and resource types,
visibility, protection and Glance's answers to bad input."""

from __future__ import annotations

import json

import pytest
import requests

from tests.functional.accounts import member_of_new_project
from tests.functional.servers import openstack


def api(cloud, connection, method, path, **kwargs):
    return requests.request(method, f"{cloud.base_url}/image/v2/metadefs{path}", timeout=30,
                            headers={"X-Auth-Token": connection.session.get_token(), **kwargs.pop("headers", {})},
                            **kwargs)


@pytest.fixture(scope="module")
def member(conn):
    _, connection = member_of_new_project(conn, "metadef-reader")
    yield connection
    connection.close()


def test_the_shipped_definitions_and_resource_types_are_there(cloud, conn, member):
    listed = json.loads(openstack(cloud.clouds_yaml, "image", "metadef", "namespace", "list", "-f", "json"))
    names = {entry["namespace"] for entry in listed}
    assert {"OS::Compute::ImageScheduling", "OS::Glance::CommonImageProperties"} <= names
    shown = api(cloud, member, "GET", "/namespaces/OS::Compute::ImageScheduling").json()
    assert shown["protected"] is True and "img_hv_type" in shown["properties"]
    assert "qemu" in shown["properties"]["img_hv_type"]["enum"]
    kinds = {r["name"] for r in api(cloud, member, "GET", "/resource_types").json()["resource_types"]}
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Nova::Aggregate"} <= kinds
    for_flavors = api(cloud, member, "GET", "/namespaces", params={"resource_types": "OS::Nova::Aggregate"})
    assert [n["namespace"] for n in for_flavors.json()["namespaces"]] == ["OS::Compute::AggregateTenantIsolation"]
    refused = api(cloud, conn, "DELETE", "/namespaces/OS::Compute::ImageScheduling")
    assert refused.status_code == 403


def test_a_namespace_with_its_contents_through_the_cli_and_the_api(cloud, conn, member):
    osc = lambda *args: openstack(cloud.clouds_yaml, "image", "metadef", *args)  # noqa: E731
    made = json.loads(osc("namespace", "create", "Example::Storage", "--display-name", "Storage", "--private",
                          "-f", "json"))
    assert made["namespace"] == "Example::Storage" and made["visibility"] == "private"
    prop = {"name": "disk_bus", "title": "Disk bus", "type": "string", "enum": ["virtio", "scsi"]}
    assert api(cloud, conn, "POST", "/namespaces/Example::Storage/properties", json=prop).status_code == 201
    assert api(cloud, conn, "POST", "/namespaces/Example::Storage/properties", json=prop).status_code == 409
    bad = api(cloud, conn, "POST", "/namespaces/Example::Storage/properties", json={"name": "x", "type": "string"})
    assert bad.status_code == 400 and "title" in bad.text
    association = api(cloud, conn, "POST", "/namespaces/Example::Storage/resource_types",
                      json={"name": "OS::Glance::Image", "prefix": "hw_"})
    assert association.status_code == 201 and association.json()["prefix"] == "hw_"
    prefixed = api(cloud, conn, "GET", "/namespaces/Example::Storage/properties/hw_disk_bus",
                   params={"resource_type": "OS::Glance::Image"})
    assert prefixed.json()["name"] == "hw_disk_bus"
    obj = {"name": "Disk", "required": ["disk_bus"], "properties": {"disk_bus": {"title": "Bus", "type": "string"}}}
    assert api(cloud, conn, "POST", "/namespaces/Example::Storage/objects", json=obj).status_code == 201
    tags = api(cloud, conn, "POST", "/namespaces/Example::Storage/tags", json={"tags": [{"name": "ssd"},
                                                                                       {"name": "hdd"}]})
    assert tags.status_code == 201
    appended = api(cloud, conn, "POST", "/namespaces/Example::Storage/tags", json={"tags": [{"name": "nvme"}]},
                   headers={"X-Openstack-Append": "True"})
    assert appended.status_code == 201
    assert {t["name"] for t in api(cloud, conn, "GET", "/namespaces/Example::Storage/tags").json()["tags"]} == {
        "ssd", "hdd", "nvme"}
    whole = api(cloud, conn, "GET", "/namespaces/Example::Storage").json()
    assert whole["properties"]["disk_bus"]["enum"] == ["virtio", "scsi"] and whole["objects"][0]["name"] == "Disk"
    # a private namespace is the owner's: another project sees nothing, and nobody but admins writes
    assert api(cloud, member, "GET", "/namespaces/Example::Storage").status_code == 404
    osc("namespace", "set", "Example::Storage", "--public")
    assert api(cloud, member, "GET", "/namespaces/Example::Storage").status_code == 200
    assert api(cloud, member, "POST", "/namespaces/Example::Storage/tags/mine").status_code == 403
    assert api(cloud, conn, "POST", "/namespaces", json={"namespace": "Example::Storage"}).status_code == 409
    osc("namespace", "delete", "Example::Storage")
    assert api(cloud, conn, "GET", "/namespaces/Example::Storage").status_code == 404


def test_the_metadef_schemas_are_published(cloud, member):
    for name, title in (("namespace", "namespace"), ("resource_types", "resource_type_associations"),
                        ("property", "property"), ("tags", "tags")):
        answer = requests.get(f"{cloud.base_url}/image/v2/schemas/metadefs/{name}", timeout=30,
                              headers={"X-Auth-Token": member.session.get_token()})
        assert answer.status_code == 200 and answer.json()["name"] == title
