"""block_device_mapping_v2 for local disks (a root from an image, ephemeral and swap
disks) and config drives, over HTTP with openstacksdk, the CLI and raw requests."""

from __future__ import annotations

import base64
import json

import pytest

from tests.functional.conftest import start_cloud
from tests.functional.servers import openstack
from tests.functional.test_compute_servers import CONFIG, image, network, nova, wait_status


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG, defaults=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def flavor(conn):
    made = conn.compute.create_flavor(name="with-disks", ram=128, vcpus=1, disk=1, ephemeral=2, swap=512)
    yield made
    conn.compute.delete_flavor(made)


def console(conn, server):
    return conn.compute.get_server_console_output(server)["output"]


def test_a_root_from_the_mapping_with_ephemeral_and_swap_disks(conn, cloud, flavor):
    made = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "mapped", "flavorRef": flavor.id, "networks": [], "block_device_mapping_v2": [
            {"source_type": "image", "destination_type": "local", "boot_index": 0, "uuid": image(conn).id},
            {"source_type": "blank", "destination_type": "local", "volume_size": 1, "guest_format": "ext4",
             "device_name": "/dev/vdb"},
            {"source_type": "blank", "destination_type": "local", "guest_format": "swap", "volume_size": 256}]}})
    assert made.status_code == 202, made.text
    server = wait_status(conn, conn.compute.get_server(made.json()["server"]["id"]), "ACTIVE")
    assert server.image["id"] == image(conn).id
    assert "disks: vda 1G root, vdb 1G ephemeral ext4, vdc 256M swap" in console(conn, server)
    plain = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "flavor-disks", "flavorRef": flavor.id, "imageRef": image(conn).id, "networks": []}})
    server = wait_status(conn, conn.compute.get_server(plain.json()["server"]["id"]), "ACTIVE")
    assert "disks: vda 1G root, vdb 2G ephemeral, vdc 512M swap" in console(conn, server)


@pytest.mark.parametrize(("mapping", "extra", "words"), [
    ([{"source_type": "volume", "destination_type": "volume", "uuid": "v", "boot_index": 0}], {},
     "failed to get volume v"),
    ([{"source_type": "image", "destination_type": "volume", "uuid": "{image}", "boot_index": 0}], {},
     "needs a volume_size"),
    ([{"source_type": "snapshot", "destination_type": "local", "uuid": "s", "boot_index": 0}], {},
     "can only be mapped to a volume"),
    ([{"source_type": "blank", "destination_type": "local", "volume_size": 3}], {},
     "Ephemeral disks requested are larger than the instance type allows"),
    ([{"source_type": "blank", "destination_type": "local", "volume_size": 2},
      {"source_type": "blank", "destination_type": "local", "volume_size": 1}], {}, "larger than the instance type"),
    ([{"source_type": "blank", "destination_type": "local", "guest_format": "swap", "volume_size": 1024}], {},
     "Swap drive requested is larger"),
    ([{"source_type": "blank", "destination_type": "local", "guest_format": "swap"}] * 2, {},
     "More than one swap drive"),
    ([{"source_type": "image", "destination_type": "local", "uuid": "{image}", "boot_index": 1}], {},
     "Mapping image to local is not supported"),
    ([{"source_type": "image", "destination_type": "local", "uuid": "{image}", "boot_index": 0},
      {"source_type": "blank", "destination_type": "local", "volume_size": 1, "boot_index": 2}], {},
     "Boot sequence"),
    ([{"source_type": "blank", "destination_type": "local", "volume_size": 0}] * 3, {"imageRef": "{image}"},
     "more local devices than the limit allows"),
    ([{"source_type": "blank", "destination_type": "local", "tag": "data"}], {"imageRef": "{image}"},
     "'tag' was unexpected"),
    ([{"source_type": "floppy", "destination_type": "local"}], {"imageRef": "{image}"}, "source_type"),
    ([], {"block_device_mapping": [{"volume_id": "v", "device_name": "vda"}], "imageRef": "{image}"},
     "legacy block_device_mapping is not supported"),
    ([{"source_type": "blank", "destination_type": "local", "volume_size": 1}], {},
     "Missing imageRef attribute"),
])
def test_bad_mappings_are_refused_and_make_nothing(conn, cloud, flavor, mapping, extra, words):
    before = len(list(conn.compute.servers()))
    text = json.dumps({"name": "bad", "flavorRef": flavor.id, "networks": [], "block_device_mapping_v2": mapping,
                       **extra}).replace("{image}", image(conn).id)
    answer = nova(cloud, conn, "POST", "/servers", json={"server": json.loads(text)})
    assert answer.status_code == 400 and words in answer.text, answer.text
    assert len(list(conn.compute.servers())) == before


def test_a_tagged_disk_at_2_42(conn, cloud, flavor):
    answer = nova(cloud, conn, "POST", "/servers", version="2.42", json={"server": {
        "name": "tagged", "flavorRef": flavor.id, "imageRef": image(conn).id, "networks": "none",
        "config_drive": True, "block_device_mapping_v2": [
            {"source_type": "blank", "destination_type": "local", "volume_size": 1, "device_name": "/dev/vdb",
             "tag": "scratch"}]}})
    assert answer.status_code == 202, answer.text
    wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")


def test_config_drive_with_keys_user_data_and_network_through_the_cli(conn, cloud, flavor, tmp_path):
    net = network(conn, "drive-net", "10.70.0.0/24")
    key = tmp_path / "key.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxPkp8ffUhNZYlfoyzS5oUfc0VVj4RCA9BZ0YZhWXbw test@stratus\n")
    openstack(cloud.clouds_yaml, "keypair", "create", "--public-key", str(key), "drive-key")
    script = tmp_path / "user-data"
    script.write_text("#cloud-config\nruncmd: [touch /tmp/ok]\n")
    made = json.loads(openstack(cloud.clouds_yaml, "server", "create", "--image", image(conn).name, "--flavor",
                                flavor.name, "--network", net.id, "--key-name", "drive-key", "--user-data",
                                str(script), "--config-drive", "True", "--wait", "drive", "-f", "json"))
    assert made["status"] == "ACTIVE" and made["config_drive"] == "True"
    log = openstack(cloud.clouds_yaml, "console", "log", "show", "drive")
    size = len(script.read_bytes())
    assert f"config drive config-2 found: instance-id {made['id']}, hostname drive, 1 ssh key(s), 1 link(s), " \
           f"user-data {size} bytes" in log
    without = json.loads(openstack(cloud.clouds_yaml, "server", "create", "--image", image(conn).name, "--flavor",
                                   flavor.name, "--no-network", "--wait", "no-drive", "-f", "json"))
    assert "config drive" not in openstack(cloud.clouds_yaml, "console", "log", "show", without["id"])


def test_an_image_may_demand_a_config_drive(conn, cloud, flavor):
    demanding = conn.image.create_image(name="needs-drive", disk_format="raw", container_format="bare",
                                        data=b"\0" * 4096, img_config_drive="mandatory")
    answer = nova(cloud, conn, "POST", "/servers", json={"server": {
        "name": "demanded", "flavorRef": flavor.id, "imageRef": demanding.id, "networks": [],
        "user_data": base64.b64encode(b"hello").decode()}})
    server = wait_status(conn, conn.compute.get_server(answer.json()["server"]["id"]), "ACTIVE")
    assert "user-data 5 bytes" in console(conn, server)
