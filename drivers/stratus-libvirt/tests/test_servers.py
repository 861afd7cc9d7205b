"""Real guests through the public APIs: the embedded cloud with the libvirt driver on a private
libvirtd, driven with openstacksdk as a user would.

The guest image (``stratus_libvirt.testing``) prints STRATUS-GUEST-UP on its serial console at
each boot and STRATUS-GUEST-DISK lines for the disks it sees, so the console output the compute
API returns shows what the guest itself saw.
"""

from __future__ import annotations

import base64
import os
import time
import uuid

import libvirt
import pytest
from stratus_libvirt.testing import MARKER

pytestmark = pytest.mark.libvirt


@pytest.fixture(scope="module")
def cloud(libvirtd, virt_type, tmp_path_factory):
    from stratus.testing import EmbeddedCloud

    data_dir = tmp_path_factory.mktemp("cloud")
    config = (f"[compute]\nhypervisor = {virt_type}\nshutdown_timeout = 30\nimage_cache_max_unused = 0\n"
              f"image_cache_interval = 1\n"
              f"[libvirt]\nconnection_uri = {libvirtd.uri}\nsoft_reboot_wait = 30\n")
    started = EmbeddedCloud(data_dir, config, timeout=120)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def conn(cloud):
    connection = cloud.connect()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def flavor(conn):
    made = conn.compute.create_flavor(name=f"guest-{uuid.uuid4().hex[:6]}", ram=128, vcpus=1, disk=1)
    yield made
    conn.compute.delete_flavor(made)


@pytest.fixture(scope="module")
def image(conn, guest_image):
    made = conn.image.create_image(name="stratus-guest", filename=guest_image, disk_format="raw",
                                   container_format="bare", wait=True)
    yield made
    conn.image.delete_image(made, ignore_missing=True)


def console(conn, server) -> str:
    return conn.compute.get_server_console_output(server)["output"]


def wait_console(conn, server, text: str, count: int = 1, timeout: float = 180) -> str:
    """The console output once ``text`` shows ``count`` times in it."""
    deadline = time.monotonic() + timeout
    while True:
        output = console(conn, server)
        if output.count(text) >= count:
            return output
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} x{count} not on the console within {timeout} s:\n{output}")
        time.sleep(0.5)


def boot(conn, image, flavor, name):
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": conn.network.find_network("private").id}])
    return conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=180, interval=0.5)


def domains(libvirtd) -> list[str]:
    connection = libvirt.open(libvirtd.uri)
    try:
        return [d.name() for d in connection.listAllDomains(0)]
    finally:
        connection.close()


def test_a_real_guest_boots_stops_reboots_and_is_snapshotted(conn, cloud, image, flavor, libvirtd):
    server = boot(conn, image, flavor, "real-guest")
    snapshot_server = snapshot = None
    try:
        assert f"stratus-{server.id}" in domains(libvirtd)
        output = wait_console(conn, server, MARKER)
        assert "STRATUS-GUEST-DISK vda 1073741824" in wait_console(conn, server, "STRATUS-GUEST-DISK vda")

        conn.compute.stop_server(server)
        conn.compute.wait_for_server(server, status="SHUTOFF", wait=120, interval=0.5)
        assert conn.compute.get_server(server).power_state == 4
        conn.compute.start_server(server)
        conn.compute.wait_for_server(server, status="ACTIVE", wait=120, interval=0.5)
        wait_console(conn, server, MARKER, count=output.count(MARKER) + 1)

        for kind in ("SOFT", "HARD"):
            before = console(conn, server).count(MARKER)
            conn.compute.reboot_server(server, kind)
            conn.compute.wait_for_server(server, status="ACTIVE", wait=120, interval=0.5)
            wait_console(conn, server, MARKER, count=before + 1)

        snapshot_id = conn.compute.create_server_image(server, name="real-guest-snapshot", wait=True, timeout=300).id
        snapshot = conn.image.get_image(snapshot_id)
        assert snapshot.status == "active" and snapshot.disk_format == "qcow2" and snapshot.size > 0
        snapshot_server = boot(conn, snapshot, flavor, "from-snapshot")
        wait_console(conn, snapshot_server, MARKER)
    finally:
        for made in (snapshot_server, server):
            if made is not None:
                conn.compute.delete_server(made)
                conn.compute.wait_for_delete(made, wait=120)
        if snapshot is not None:
            conn.image.delete_image(snapshot)
    assert not [name for name in domains(libvirtd) if name.startswith("stratus-")]
    instances = cloud.data_dir / "instances"
    assert sorted(os.listdir(instances)) == [], "a deleted server left files behind"


def test_a_real_guest_reads_its_key_and_user_data_from_its_config_drive(conn, image, flavor):
    keypair = conn.compute.create_keypair(name=f"guest-key-{uuid.uuid4().hex[:6]}")
    user_data = f"#!/bin/sh\necho USER-DATA-{uuid.uuid4().hex[:8]}\n"
    server = conn.compute.create_server(name="with-drive", image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": conn.network.find_network("private").id}],
                                        key_name=keypair.name, config_drive=True,
                                        user_data=base64.b64encode(user_data.encode()).decode())
    server = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=180, interval=0.5)
    try:
        output = wait_console(conn, server, "STRATUS-GUEST-META")
        meta = next((line for line in output.splitlines() if "STRATUS-GUEST-META" in line), output)
        assert server.id in meta and keypair.public_key.strip() in meta  # its id and its SSH key
        assert user_data.splitlines()[1] in wait_console(conn, server, "STRATUS-GUEST-USERDATA")
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
        conn.compute.delete_keypair(keypair)


def test_a_volume_attached_to_a_real_guest_is_seen_by_it(conn, image, flavor):
    mark = f"VOLUME-MARK-{uuid.uuid4().hex[:12]}"
    data_image = conn.image.create_image(name="volume-data", data=mark.encode().ljust(1024 * 1024, b"\0"),
                                         disk_format="raw", container_format="bare", wait=True)
    volume = conn.block_storage.create_volume(size=1, image_id=data_image.id, name="seen")
    conn.block_storage.wait_for_status(volume, status="available", failures=["error"], wait=120)
    server = boot(conn, image, flavor, "with-volume")
    try:
        # the guest names disks as its virtio-blk driver binds them: attach once it has named its root
        # disk, or a disk plugged in while it still loads the driver may come first and be vda
        wait_console(conn, server, "STRATUS-GUEST-DISK vda")
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        conn.block_storage.wait_for_status(volume, status="in-use", failures=["error"], wait=120)
        assert f"STRATUS-GUEST-DISK vdb 1073741824 {mark}" in wait_console(conn, server, "STRATUS-GUEST-DISK vdb")
        conn.compute.delete_volume_attachment(server, volume.id)
        conn.block_storage.wait_for_status(volume, status="available", failures=["error"], wait=120)
        wait_console(conn, server, "STRATUS-GUEST-DISK-GONE vdb")
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
        conn.block_storage.delete_volume(volume)
        conn.image.delete_image(data_image)


def test_a_real_guest_is_resized_with_a_bigger_disk(conn, image, flavor):
    bigger = conn.compute.create_flavor(name=f"bigger-{uuid.uuid4().hex[:6]}", ram=192, vcpus=2, disk=2)
    server = boot(conn, image, flavor, "growing")
    try:
        wait_console(conn, server, "STRATUS-GUEST-DISK vda 1073741824")
        conn.compute.resize_server(server, bigger.id)
        conn.compute.wait_for_server(server, status="VERIFY_RESIZE", failures=["ERROR"], wait=180, interval=0.5)
        conn.compute.confirm_server_resize(server)
        resized = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=180, interval=0.5)
        assert resized.flavor["vcpus"] == 2 and resized.flavor["ram"] == 192
        # the guest booted again, now on a 2 GiB disk with its data
        assert "STRATUS-GUEST-DISK vda 2147483648 3" in wait_console(conn, server, "STRATUS-GUEST-DISK vda 2147483648")
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
        conn.compute.delete_flavor(bigger)


def test_a_real_guest_boots_from_a_volume(conn, cloud, image, flavor):
    server = conn.compute.create_server(
        name="from-volume", flavor_id=flavor.id, networks=[{"uuid": conn.network.find_network("private").id}],
        block_device_mapping_v2=[{"boot_index": 0, "uuid": image.id, "source_type": "image",
                                  "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}])
    server = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=180, interval=0.5)
    try:
        (attached,) = server.attached_volumes
        assert "STRATUS-GUEST-DISK vda 1073741824" in wait_console(conn, server, "STRATUS-GUEST-DISK vda")
        # no local root disk: the guest booted from the volume
        assert not os.path.exists(cloud.data_dir / "instances" / server.id / "disk")
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
    deadline = time.monotonic() + 60
    while conn.block_storage.find_volume(attached["id"], ignore_missing=True) is not None:
        assert time.monotonic() < deadline, "the volume deleted on termination is still there"
        time.sleep(0.5)


def test_the_guests_consoles_through_the_console_proxy(conn, image, flavor):
    from urllib.parse import parse_qs, unquote, urlsplit

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    server = boot(conn, image, flavor, "with-consoles")
    try:
        wait_console(conn, server, MARKER)
        serial_url = conn.compute.create_console(server, console_type="serial")["url"]
        assert serial_url.startswith("ws://")
        with connect(serial_url, open_timeout=10) as serial:
            # the guest runs a shell on its serial port: ask it for its marker, and for some arithmetic
            serial.send(b"cat /etc/marker; echo STRATUS-$((6*7))\n")
            seen, deadline = b"", time.monotonic() + 60
            while MARKER.encode() + b" kernel=" not in seen or b"STRATUS-42" not in seen:
                assert time.monotonic() < deadline, f"the guest's shell did not answer: {seen[-500:]!r}"
                data = serial.recv(timeout=max(1.0, deadline - time.monotonic()))
                seen += data if isinstance(data, bytes) else data.encode()
        with pytest.raises(InvalidStatus), connect(serial_url, open_timeout=10):  # tokens are one-time
            pass

        vnc_url = conn.compute.create_console(server, console_type="novnc")["url"]
        parts = urlsplit(vnc_url)
        token = parse_qs(urlsplit(unquote(parse_qs(parts.query)["path"][0])).query)["token"][0]
        with connect(f"ws://{parts.netloc}/?token={token}", subprotocols=["binary"], open_timeout=10) as vnc:
            assert vnc.recv(timeout=30).startswith(b"RFB 003.")  # the guest's VNC server greets us
        if os.path.exists("/usr/share/novnc/vnc_lite.html"):
            import urllib.request

            with urllib.request.urlopen(vnc_url, timeout=10) as page:  # noqa: S310 - the proxy on 127.0.0.1
                assert page.status == 200 and b"noVNC" in page.read()
        with pytest.raises(InvalidStatus), connect(f"ws://{parts.netloc}/?token=forged", open_timeout=10):
            pass
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)


def test_a_guest_whose_serial_port_was_taken_while_it_was_off_starts_on_another(conn, image, flavor, libvirtd):
    import socket
    import xml.etree.ElementTree as ET

    def serial_port() -> int:
        connection = libvirt.open(libvirtd.uri)
        try:
            xml = connection.lookupByUUIDString(server.id).XMLDesc(0)
        finally:
            connection.close()
        return int(ET.fromstring(xml).find("devices/serial[@type='tcp']/source").get("service"))

    server = boot(conn, image, flavor, "port-taken")
    squatter = socket.socket()
    try:
        before = serial_port()
        conn.compute.stop_server(server)
        conn.compute.wait_for_server(server, status="SHUTOFF", wait=120, interval=0.5)
        squatter.bind(("127.0.0.1", before))  # someone else's listener on the guest's port
        squatter.listen(1)
        conn.compute.start_server(server)
        conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=120, interval=0.5)
        assert serial_port() != before
        assert conn.compute.get_server(server).power_state == 1
    finally:
        squatter.close()
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)


def test_nothing_is_left_once_every_server_and_image_is_gone(conn, cloud, image, libvirtd):
    """Last in the module: with the images deleted, the host's image cache empties too."""
    conn.image.delete_image(image)
    cache = cloud.data_dir / "image-cache"
    deadline = time.monotonic() + 60
    while any(files for _, _, files in os.walk(cache)):
        assert time.monotonic() < deadline, f"cached images left: {list(os.walk(cache))}"
        time.sleep(0.5)
    assert not [name for name in domains(libvirtd) if name.startswith("stratus-")]
