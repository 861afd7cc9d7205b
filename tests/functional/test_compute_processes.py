"""The many-hosts shape: ``stratus api`` (gunicorn workers), two ``stratus scheduler``, a
``stratus conductor`` and two ``stratus compute`` processes meeting over RabbitMQ and
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


def test_services_outside_the_embedded_cloud_need_a_broker(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    for command in ("conductor", "scheduler", "compute"):
        refused = run("--config-file", str(conf), command)
        assert refused.returncode == 2 and "set [messaging] transport_url" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


@pytest.mark.postgresql
@pytest.mark.rabbitmq
def test_servers_boot_across_separate_compute_processes(tmp_path, pg_url, rabbit_vhost_url):
    port = free_port()
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[database]\nconnection = {pg_url}\n"
                    f"[messaging]\ntransport_url = {rabbit_vhost_url}\nrpc_response_timeout = 5\n"
                    f"[api]\nworkers = 2\nport = {port}\n"
                    "[service]\nreport_interval = 1\nservice_down_time = 4\n"
                    "[compute]\nresource_update_interval = 1\n")
    stale = run("--config-file", str(conf), "conductor")
    assert stale.returncode == 2 and "run `stratus manage db sync` first" in stale.stderr, stale.stderr
    base = f"http://127.0.0.1:{port}"
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", base)):
        done = run("--config-file", str(conf), *command)
        assert done.returncode == 0, done.stderr
    # compute hosts hold no database credentials: compute's state through the conductor, images
    # and ports through the image and network APIs as a service user (the admin, here)
    host_conf = tmp_path / "host.conf"
    host_conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[messaging]\ntransport_url = {rabbit_vhost_url}\n"
                         "rpc_response_timeout = 5\n[service]\nreport_interval = 1\nservice_down_time = 4\n"
                         "[compute]\nresource_update_interval = 1\n[image_client]\nmode = rest\n"
                         "[network_client]\nmode = rest\n[service_credentials]\nauth_type = password\n"
                         f"auth_url = {base}/identity\nusername = admin\npassword = pw\nproject_name = admin\n"
                         "user_domain_name = Default\nproject_domain_name = Default\n")
    refused = run("--config-file", str(conf), "compute", "--host", "cn1")
    assert refused.returncode == 2 and "remove [database] connection" in refused.stderr, refused.stderr
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"stratus": {
        "auth": {"auth_url": f"{base}/identity", "username": "admin", "password": "pw", "project_name": "admin",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "identity_api_version": 3}}}))
    started = []
    try:
        started.append(Server("--config-file", str(conf), "api"))
        schedulers = [Server("--config-file", str(conf), "scheduler", "--host", name, ready=SERVING)
                      for name in ("sched1", "sched2")]
        started.extend(schedulers)
        started.append(Server("--config-file", str(conf), "conductor", ready=SERVING))
        for host in ("cn1", "cn2"):
            started.append(Server("--config-file", str(host_conf), "compute", "--host", host, ready=SERVING))
        conn = connect(str(tmp_path / "clouds.yaml"))
        services = conn.compute.services()
        assert sorted((s.binary, s.availability_zone, s.state) for s in services) == [
            ("nova-compute", "nova", "up"), ("nova-compute", "nova", "up"),
            ("nova-conductor", "internal", "up"), ("nova-scheduler", "internal", "up"),
            ("nova-scheduler", "internal", "up")]
        image = conn.image.create_image(name="img", disk_format="raw", container_format="bare",
                                        data=b"\1" * 65536, visibility="public")
        net = conn.network.create_network(name="net")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.9.0.0/24")
        flavor = conn.compute.create_flavor(name="small", ram=128, vcpus=1, disk=1)
        servers = [conn.compute.create_server(name=f"vm{i}", image_id=image.id, flavor_id=flavor.id,
                                              networks=[{"uuid": net.id}]) for i in range(6)]
        servers = [conn.compute.wait_for_server(s, wait=90, interval=0.3) for s in servers]
        assert {s.compute_host for s in servers} == {"cn1", "cn2"}  # spread by the weighers
        assert all(s.addresses["net"][0]["addr"].startswith("10.9.0.") for s in servers)
        assert {h.name for h in conn.compute.hypervisors()} == {"cn1", "cn2"}
        # a compute process stops cleanly on SIGTERM, and is then seen down
        assert started.pop().stop(signal.SIGTERM) == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and next(
                s for s in conn.compute.services() if s.host == "cn2").state != "down":
            time.sleep(0.5)
        assert next(s for s in conn.compute.services() if s.host == "cn2").state == "down"
        for server in servers:
            if server.compute_host == "cn1":
                conn.compute.delete_server(server)
                conn.compute.wait_for_delete(server, wait=60)
        assert [p for p in conn.network.ports(network_id=net.id) if p.device_owner == "compute:nova"] == [
            p for p in conn.network.ports(network_id=net.id)
            if p.device_id in {s.id for s in servers if s.compute_host == "cn2"}]
        # both schedulers gone: a boot is not left in BUILD, the conductor says why
        for scheduler in schedulers:
            started.remove(scheduler)
            assert scheduler.stop(signal.SIGTERM) == 0, scheduler.text
        lost = conn.compute.create_server(name="unplaced", image_id=image.id, flavor_id=flavor.id,
                                          networks=[{"uuid": net.id}])
        lost = conn.compute.wait_for_server(lost, status="ERROR", failures=["ACTIVE"], wait=60, interval=0.5)
        assert "The scheduler did not answer" in lost.fault["details"], lost.fault
        # the compute hosts opened no database of their own (their state_path has none)
        assert not list(tmp_path.glob("*.sqlite")), list(tmp_path.glob("*.sqlite"))
        assert lost.compute_host is None
    finally:
        for server in reversed(started):
            assert server.stop() == 0, server.text
