"""Block storage in the many-hosts shape: ``stratus api``, a ``stratus volume-scheduler`` and
``stratus volume`` on two storage hosts (one with two backends), over RabbitMQ and
PostgreSQL, driven with openstacksdk."""

from __future__ import annotations

import re
import signal
import time

import pytest
import yaml

from tests.fixtures.rabbitmq import free_port
from tests.functional.accounts import connect
from tests.functional.servers import Server, run

SERVING = re.compile(r"Stratus .* serving over")


def test_volume_services_need_a_broker(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    for command in ("volume", "volume-scheduler"):
        refused = run("--config-file", str(conf), command)
        assert refused.returncode == 2 and "set [messaging] transport_url" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


def wait_for(conn, volume_id, status, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        volume = conn.block_storage.get_volume(volume_id)
        if volume.status == status:
            return volume
        assert time.monotonic() < deadline, f"{volume_id} is {volume.status}, not {status}"
        time.sleep(0.2)


@pytest.mark.postgresql
@pytest.mark.rabbitmq
def test_volumes_are_placed_on_storage_hosts_that_are_up(tmp_path, pg_url, rabbit_vhost_url):
    port = free_port()
    common = (f"[DEFAULT]\nstate_path = {tmp_path}\n[database]\nconnection = {pg_url}\n"
              f"[messaging]\ntransport_url = {rabbit_vhost_url}\n"
              "[service]\nreport_interval = 1\nservice_down_time = 4\n")
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"{common}[api]\nworkers = 2\nport = {port}\n[volume]\nquota_volumes = 20\n")
    storage = {}
    for host, backends in (("st1", "fast,bulk"), ("st2", "fast")):
        path = tmp_path / f"{host}.conf"
        path.write_text(f"{common.replace(str(tmp_path), str(tmp_path / host), 1)}[volume]\n"
                        f"enabled_backends = {backends}\n[bulk]\nvolume_backend_name = bulk-disks\n")
        storage[host] = path
    stale = run("--config-file", str(conf), "volume")
    assert stale.returncode == 2 and "run `stratus manage db sync` first" in stale.stderr, stale.stderr
    base = f"http://127.0.0.1:{port}"
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", base)):
        done = run("--config-file", str(conf), *command)
        assert done.returncode == 0, done.stderr
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"stratus": {
        "auth": {"auth_url": f"{base}/identity", "username": "admin", "password": "pw", "project_name": "admin",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "identity_api_version": 3}}}))
    started = []
    try:
        started.append(Server("--config-file", str(conf), "api"))
        started.append(Server("--config-file", str(conf), "volume-scheduler", ready=SERVING))
        hosts = {}
        for host, path in storage.items():
            hosts[host] = Server("--config-file", str(path), "volume", "--host", host, ready=SERVING)
            started.append(hosts[host])
        conn = connect(str(tmp_path / "clouds.yaml"))
        services = list(conn.block_storage.services())
        assert sorted((s.binary, s.host) for s in services if s.binary == "cinder-volume") == [
            ("cinder-volume", "st1@bulk"), ("cinder-volume", "st1@fast"), ("cinder-volume", "st2@fast")]
        assert [s.binary for s in services].count("cinder-scheduler") == 1
        assert all(s.state == "up" for s in services)

        # one at a time, the capacity weigher takes the pool with the most room left: two each
        volumes = [wait_for(conn, conn.block_storage.create_volume(size=1, name=f"v{i}").id, "available")
                   for i in range(6)]
        assert sorted(v.host for v in volumes) == sorted(
            ["st1@bulk#bulk-disks", "st1@fast#fast", "st2@fast#fast"] * 2)
        for volume in volumes:
            host, backend = volume.host.split("#")[0].split("@")
            assert (tmp_path / host / "volumes" / backend / f"volume-{volume.id}").exists()

        bulk = conn.block_storage.create_type(name="bulk", extra_specs={"volume_backend_name": "bulk-disks"})
        on_bulk = wait_for(conn, conn.block_storage.create_volume(size=1, volume_type=bulk.id).id, "available")
        assert on_bulk.host == "st1@bulk#bulk-disks"

        # st1 stops: seen down, its pools are no longer chosen and its backend's type cannot be placed
        started.remove(hosts["st1"])
        assert hosts["st1"].stop(signal.SIGTERM) == 0, hosts["st1"].text
        deadline = time.monotonic() + 30
        while any(s.state == "up" for s in conn.block_storage.services() if s.host.startswith("st1@")):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        later = [wait_for(conn, conn.block_storage.create_volume(size=1).id, "available") for _ in range(3)]
        assert {v.host for v in later} == {"st2@fast#fast"}
        failed = wait_for(conn, conn.block_storage.create_volume(size=1, volume_type=bulk.id).id, "error")
        assert failed.host is None

        for volume in [v for v in [*volumes, *later] if v.host.startswith("st2@")] + [failed]:
            conn.block_storage.delete_volume(volume)
        deadline = time.monotonic() + 60
        while [v for v in conn.block_storage.volumes() if v.host is None or v.host.startswith("st2@")]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert not list((tmp_path / "st2" / "volumes" / "fast").iterdir())
    finally:
        for server in reversed(started):
            assert server.stop() == 0, server.text


@pytest.mark.postgresql
@pytest.mark.rabbitmq
def test_a_compute_host_attaches_a_volume_through_the_block_storage_api(tmp_path, pg_url, rabbit_vhost_url):
    """The host holds no database: it exports, plugs and completes the attachment over REST."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    common = (f"[DEFAULT]\nstate_path = {tmp_path}\n[messaging]\ntransport_url = {rabbit_vhost_url}\n"
              "[service]\nreport_interval = 1\nservice_down_time = 4\n")
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"{common}[database]\nconnection = {pg_url}\n[api]\nworkers = 2\nport = {port}\n")
    host_conf = tmp_path / "host.conf"
    host_conf.write_text(
        f"{common}[image_client]\nmode = rest\n[network_client]\nmode = rest\n[volume_client]\nmode = rest\n"
        f"[service_credentials]\nauth_type = password\nauth_url = {base}/identity\nusername = admin\n"
        "password = pw\nproject_name = admin\nuser_domain_name = Default\nproject_domain_name = Default\n")
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", base)):
        done = run("--config-file", str(conf), *command)
        assert done.returncode == 0, done.stderr
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"stratus": {
        "auth": {"auth_url": f"{base}/identity", "username": "admin", "password": "pw", "project_name": "admin",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "identity_api_version": 3}}}))
    started = []
    try:
        started.append(Server("--config-file", str(conf), "api"))
        for command in ("volume-scheduler", "volume", "scheduler", "conductor"):
            started.append(Server("--config-file", str(conf), command, ready=SERVING))
        started.append(Server("--config-file", str(host_conf), "compute", "--host", "cn1", ready=SERVING))
        conn = connect(str(tmp_path / "clouds.yaml"))
        image = conn.image.create_image(name="img", disk_format="raw", container_format="bare",
                                        data=b"\1" * 65536, visibility="public")
        net = conn.network.create_network(name="net")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.9.0.0/24")
        flavor = conn.compute.create_flavor(name="small", ram=128, vcpus=1, disk=1)
        server = conn.compute.wait_for_server(conn.compute.create_server(
            name="vm", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}]), wait=90, interval=0.3)
        volume = wait_for(conn, conn.block_storage.create_volume(size=1).id, "available")
        attachment = conn.compute.create_volume_attachment(server, volume_id=volume.id)
        volume = wait_for(conn, volume.id, "in-use")
        (attached,) = volume.attachments
        assert attached["server_id"] == server.id and attached["host_name"] == "cn1"
        assert attachment.device == "/dev/vdb"
        conn.compute.delete_volume_attachment(server, volume.id)
        wait_for(conn, volume.id, "available")
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        conn.block_storage.delete_volume(volume)
        assert not list(tmp_path.glob("*.sqlite"))  # nobody fell back to a database of its own
    finally:
        for server in reversed(started):
            assert server.stop() == 0, server.text
