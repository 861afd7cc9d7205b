"""Compute flavors and key pairs over HTTP, with openstacksdk, the CLI and raw requests;
microversion negotiation on the compute API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from stratus.compute.api import microversions
from tests.functional.accounts import member_of_new_project
from tests.functional.conftest import start_cloud


@pytest.fixture(scope="module")
def member(conn):
    _, connection = member_of_new_project(conn, "compute-member")
    yield connection
    connection.close()


MAXIMUM = str(microversions.MAX)  # what the code implements is what discovery must advertise


def nova(cloud, conn, method, path, version=None, **kwargs):
    headers = {"X-Auth-Token": conn.session.get_token()}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return requests.request(method, f"{cloud.base_url}/compute/v2.1{path}", headers=headers, timeout=30, **kwargs)


def test_microversions_are_negotiated(conn, cloud):
    document = requests.get(f"{cloud.base_url}/compute/v2.1", timeout=30).json()["version"]
    assert (document["min_version"], document["version"]) == ("2.1", MAXIMUM)
    answer = nova(cloud, conn, "GET", "/flavors", "2.1")
    assert answer.status_code == 200
    assert answer.headers["OpenStack-API-Version"] == "compute 2.1"
    assert answer.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "OpenStack-API-Version" in answer.headers["Vary"]
    assert nova(cloud, conn, "GET", "/flavors", "latest").headers["OpenStack-API-Version"] == f"compute {MAXIMUM}"
    too_new = nova(cloud, conn, "GET", "/flavors", "2.200")
    assert too_new.status_code == 406 and f"maximum is {MAXIMUM}" in too_new.text
    assert nova(cloud, conn, "GET", "/flavors", "2.x").status_code == 400
    legacy = requests.get(f"{cloud.base_url}/compute/v2.1/flavors", timeout=30,
                          headers={"X-Auth-Token": conn.session.get_token(), "X-OpenStack-Nova-API-Version": "3.0"})
    assert legacy.status_code == 406
    # another service's version in the same header is not ours to judge
    other = requests.get(f"{cloud.base_url}/compute/v2.1/flavors", timeout=30,
                         headers={"X-Auth-Token": conn.session.get_token(),
                                  "OpenStack-API-Version": "volume 3.70, compute 2.1"})
    assert other.status_code == 200


def test_standard_flavors_and_listing(conn, cloud):
    tiny = conn.compute.find_flavor("m1.tiny")
    assert (tiny.id, tiny.ram, tiny.vcpus, tiny.disk, tiny.is_public) == ("1", 512, 1, 1, True)
    names = [f.name for f in conn.compute.flavors()]
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "m1.nano"} <= set(names)
    big = [f.name for f in conn.compute.flavors(min_ram=8192)]
    assert set(big) >= {"m1.large", "m1.xlarge"} and "m1.tiny" not in big
    page = nova(cloud, conn, "GET", "/flavors/detail?limit=2&sort_key=memory_mb&sort_dir=desc").json()
    assert [f["name"] for f in page["flavors"]] == ["m1.xlarge", "m1.large"]
    following = requests.get(page["flavors_links"][0]["href"], timeout=30,
                             headers={"X-Auth-Token": conn.session.get_token()}).json()["flavors"]
    assert following[0]["name"] == "m1.medium"
    assert nova(cloud, conn, "GET", "/flavors?marker=nope").status_code == 400
    assert nova(cloud, conn, "GET", "/flavors?minRam=lots").status_code == 400
    listed = nova(cloud, conn, "GET", "/flavors").json()["flavors"][0]
    assert set(listed) == {"id", "name", "links"} and listed["links"][0]["rel"] == "self"


def test_private_flavors_extra_specs_and_access(conn, cloud, member):
    flavor = conn.compute.create_flavor(name="gold", ram=1024, vcpus=2, disk=10, is_public=False, swap=512,
                                        ephemeral=5)
    try:
        assert (flavor.swap, flavor.ephemeral, flavor.is_public) == (512, 5, False)
        assert "gold" not in [f.name for f in member.compute.flavors()]
        assert nova(cloud, member, "GET", f"/flavors/{flavor.id}").status_code == 404
        conn.compute.flavor_add_tenant_access(flavor, member.current_project_id)
        assert "gold" in [f.name for f in member.compute.flavors()]
        access = nova(cloud, conn, "GET", f"/flavors/{flavor.id}/os-flavor-access").json()["flavor_access"]
        assert access == [{"flavor_id": flavor.id, "tenant_id": member.current_project_id}]
        again = nova(cloud, conn, "POST", f"/flavors/{flavor.id}/action",
                     json={"addTenantAccess": {"tenant": member.current_project_id}})
        assert again.status_code == 409
        unknown = nova(cloud, conn, "POST", f"/flavors/{flavor.id}/action",
                       json={"addTenantAccess": {"tenant": "no-such-project"}})
        assert unknown.status_code == 400 and "no-such-project is not a valid project" in unknown.text
        conn.compute.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "dedicated", "trait:X": "required"})
        conn.compute.update_flavor_extra_specs_property(flavor, "hw:cpu_policy", "shared")
        assert conn.compute.fetch_flavor_extra_specs(flavor).extra_specs == {"hw:cpu_policy": "shared",
                                                                              "trait:X": "required"}
        conn.compute.delete_flavor_extra_specs_property(flavor, "trait:X")
        assert conn.compute.get_flavor_extra_specs_property(flavor, "hw:cpu_policy") == "shared"
        assert nova(cloud, conn, "GET", f"/flavors/{flavor.id}/os-extra_specs/trait:X").status_code == 404
        assert nova(cloud, member, "POST", f"/flavors/{flavor.id}/os-extra_specs",
                    json={"extra_specs": {"a": "b"}}).status_code == 403
        mismatch = nova(cloud, conn, "PUT", f"/flavors/{flavor.id}/os-extra_specs/a", json={"b": "c"})
        assert mismatch.status_code == 400
        conn.compute.flavor_remove_tenant_access(flavor, member.current_project_id)
        assert "gold" not in [f.name for f in member.compute.flavors()]
    finally:
        conn.compute.delete_flavor(flavor)
    assert conn.compute.find_flavor("gold") is None


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"name": "z", "ram": 0, "vcpus": 1, "disk": 1}, 400, "ram"),
    ({"name": "z", "ram": 64, "vcpus": "many", "disk": 1}, 400, "vcpus"),
    ({"name": " padded", "ram": 64, "vcpus": 1, "disk": 1}, 400, "name"),
    ({"name": "z", "ram": 64, "vcpus": 1, "disk": 1, "id": "bad/id"}, 400, "id"),
    ({"name": "m1.tiny", "ram": 64, "vcpus": 1, "disk": 1}, 409, "m1.tiny"),
    ({"name": "z", "ram": 64, "vcpus": 1, "disk": 1, "id": "1"}, 409, "ID 1"),
    ({"name": "z", "ram": 64, "vcpus": 1}, 400, "disk"),
])
def test_bad_flavors_are_refused(conn, cloud, body, status, words):
    answer = nova(cloud, conn, "POST", "/flavors", json={"flavor": body})
    assert answer.status_code == status and words in answer.text, answer.text
    assert conn.compute.find_flavor("z") is None


def test_members_cannot_manage_flavors(cloud, member):
    answer = nova(cloud, member, "POST", "/flavors", json={"flavor": {"name": "mine", "ram": 64, "vcpus": 1,
                                                                      "disk": 1}})
    assert answer.status_code == 403 and "forbidden" in answer.json()
    assert nova(cloud, member, "DELETE", "/flavors/1").status_code == 403


def test_key_pairs_are_generated_imported_and_private(conn, cloud, member, tmp_path):
    generated = member.compute.create_keypair(name="made-here")
    assert generated.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    key_file = tmp_path / "id"
    key_file.write_text(generated.private_key)
    key_file.chmod(0o600)
    public = subprocess.run(["ssh-keygen", "-y", "-f", str(key_file)], capture_output=True, text=True, check=True)
    assert generated.public_key.split()[:2] == public.stdout.split()[:2]
    (tmp_path / "id.pub").write_text(generated.public_key + "\n")
    md5 = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "id.pub")], capture_output=True,
                         text=True, check=True).stdout.split()[1]
    assert md5 == f"MD5:{generated.fingerprint}"
    imported = conn.compute.create_keypair(name="brought", public_key=generated.public_key)
    assert imported.fingerprint == generated.fingerprint and imported.private_key is None
    assert [k.name for k in member.compute.keypairs()] == ["made-here"]  # per user
    assert "made-here" not in [k.name for k in conn.compute.keypairs()]
    shown = member.compute.get_keypair("made-here")
    assert shown.user_id == member.current_user_id and shown.public_key == generated.public_key
    again = nova(cloud, member, "POST", "/os-keypairs", json={"keypair": {"name": "made-here"}})
    assert again.status_code == 409 and "already exists" in again.text
    bad_key = nova(cloud, member, "POST", "/os-keypairs", json={"keypair": {"name": "x", "public_key": "ssh-rsa !"}})
    assert bad_key.status_code == 400 and "fingerprint" in bad_key.text
    bad_name = nova(cloud, member, "POST", "/os-keypairs", json={"keypair": {"name": "a/b"}})
    assert bad_name.status_code == 400 and "unsafe" in bad_name.text
    member.compute.delete_keypair("made-here")
    with pytest.raises(sdk_exceptions.NotFoundException):
        member.compute.get_keypair("made-here")
    conn.compute.delete_keypair("brought")


def test_key_pair_quota(tmp_path_factory):
    from tests.functional.accounts import connect

    cloud = start_cloud(tmp_path_factory, "[compute]\nquota_key_pairs = 2\n")
    try:
        conn = connect(cloud.clouds_yaml)
        for name in ("one", "two"):
            conn.compute.create_keypair(name=name)
        third = nova(cloud, conn, "POST", "/os-keypairs", json={"keypair": {"name": "three"}})
        assert third.status_code == 403 and "Quota exceeded" in third.text
        assert sorted(k.name for k in conn.compute.keypairs()) == ["one", "two"]
        conn.close()
    finally:
        cloud.stop()


def test_openstack_cli(cloud_env, tmp_path):
    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "m1.tiny" in [f["Name"] for f in json.loads(cli("flavor", "list", "-f", "json"))]
    flavor = json.loads(cli("flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "--property",
                            "hw:mem_page_size=large", "cli-flavor", "-f", "json"))
    assert flavor["ram"] == 256
    assert "hw:mem_page_size" in json.dumps(json.loads(cli("flavor", "show", "cli-flavor", "-f", "json")))
    cli("flavor", "delete", "cli-flavor")
    key_file = tmp_path / "cli-key"
    cli("keypair", "create", "--private-key", str(key_file), "cli-key")
    assert key_file.read_text().startswith("-----BEGIN")
    assert "cli-key" in cli("keypair", "list")
    cli("keypair", "delete", "cli-key")
