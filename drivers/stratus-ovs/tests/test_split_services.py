"""docs/split-services.md's shape with Open vSwitch: identity, image, network and compute each
in an API process of their own on PostgreSQL and RabbitMQ, reaching one another over their
REST APIs, a compute host process without database access and this package's agent in a
process of its own. The compute host plugs the guest's port with the ovs plugin after
binding it through the network API; the agent wires it; the network service tells compute
``network-vif-plugged`` through the compute API (os-server-external-events); only then does
the build go on. A missing event fails the build (``vif_plugging_is_fatal``), so ACTIVE
proves the REST path end to end."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import uuid

import pytest
from stratus_ovs.testing import wait

from tests.conftest import require

pytestmark = pytest.mark.ovs

PG_ADMIN_URL = os.environ.get("STRATUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672//")


@contextlib.contextmanager
def _database():
    from stratus.testing import throwaway_postgresql

    sa = pytest.importorskip("sqlalchemy")
    made = False
    try:
        with throwaway_postgresql(PG_ADMIN_URL, "stratus_ovs") as url:
            made = True
            yield url
    except sa.exc.OperationalError as exc:
        if made:  # the test's own failure, not a missing server
            raise
        require(f"no PostgreSQL at {PG_ADMIN_URL} ({exc})", "postgresql")


@contextlib.contextmanager
def _vhost():
    from stratus.testing import rabbitmq_vhost

    made = False
    try:
        with rabbitmq_vhost(RABBIT_URL, "stratus-ovs") as url:
            made = True
            yield url
    except (OSError, subprocess.SubprocessError) as exc:
        if made:
            raise
        require(f"no RabbitMQ to make a virtual host on ({exc})", "rabbitmq")


@contextlib.contextmanager
def _agent(config_files: list[str]):
    agent = subprocess.Popen([sys.executable, "-m", "stratus_ovs.cmd",
                              *(arg for path in config_files for arg in ("--config-file", path))],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(agent.stdout), daemon=True).start()
    try:
        assert wait(lambda: "serving host" in "".join(lines) or agent.poll() is not None, timeout=60)
        assert agent.poll() is None, "".join(lines)
        yield lines
    finally:
        agent.terminate()
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait(30)


def test_a_split_cloud_wires_a_server_through_the_rest_apis(switch, tmp_path):
    from stratus_ovs.agent import Agent
    from stratus_ovs.opts import register_opts
    from stratus_ovs.plugin import vm_devices

    from stratus import conf as config_module
    from stratus.testing import ProcessCloud
    from tests.conftest import connect

    host = f"ovs-split-{uuid.uuid4().hex[:6]}"
    ovs = ("[network]\nplugin = ovs\n[compute]\nvif_plugging_timeout = 60\nvif_plugging_is_fatal = true\n"
           + switch.config())
    agent_conf = tmp_path / "agent.conf"
    agent_conf.write_text(f"[DEFAULT]\nhost = {host}\n")
    with _database() as database, _vhost() as broker:
        cloud = ProcessCloud(tmp_path, database, broker, api_workers=1, compute_hosts=((host, 1),), extra=ovs,
                             split=True)
        try:
            with _agent([str(tmp_path / "compute-host.conf"), str(agent_conf)]) as agent_lines:
                conn = connect(cloud)
                try:
                    assert conn.network.get_endpoint().startswith(cloud.urls["network"])
                    assert conn.compute.get_endpoint().startswith(cloud.urls["compute"])
                    assert wait(lambda: host in {a.host for a in conn.network.agents() if a.is_alive}, timeout=60)
                    network = conn.network.create_network(name="split-net")
                    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.46.0.0/24")
                    image = conn.image.create_image(name="split-image", disk_format="raw", container_format="bare",
                                                    data=b"\0" * 4096)
                    flavor = conn.compute.create_flavor(name="split.nano", ram=64, vcpus=1, disk=1)
                    server = conn.compute.create_server(name="wired", image_id=image.id, flavor_id=flavor.id,
                                                        networks=[{"uuid": network.id}])
                    server = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=120,
                                                          interval=0.5)
                    (port,) = list(conn.network.ports(device_id=server.id))
                    assert port.status == "ACTIVE" and port.binding_host_id == host, port
                    outside, _ = vm_devices(port.id)
                    assert outside in switch.vsctl("list-ports", "br-int").split(), "the host did not plug it"
                    conn.compute.delete_server(server)
                    conn.compute.wait_for_delete(server, wait=60)
                    assert list(conn.network.ports(device_id=server.id)) == []
                    assert wait(lambda: outside not in switch.vsctl("list-ports", "br-int").split(), timeout=30)
                finally:
                    conn.close()
            assert "Traceback" not in "".join(agent_lines), "".join(agent_lines)
        finally:
            codes = cloud.stop()
            conf = config_module.build([str(tmp_path / "compute-host.conf"), str(agent_conf)])
            register_opts(conf)
            Agent(conf).cleanup()
        assert codes == [0] * len(codes), codes
