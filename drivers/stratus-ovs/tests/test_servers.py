"""Servers on an OVS host: a build waits until the agent has wired its ports
(network-vif-plugged), and fails (rescheduled, then ERROR) when no agent wires them."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import connect, ovs_cloud_running

pytestmark = pytest.mark.ovs


def _boot(conn, network_id, name):
    image = conn.image.find_image("tiny")
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=conn.compute.find_flavor("m1.nano").id,
                                        networks=[{"uuid": network_id}])
    return conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=120, interval=0.5)


def test_a_server_goes_active_once_the_agent_has_wired_its_port(conn, ovs_cloud):
    network = conn.network.create_network(name=f"srv-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.44.0.0/24")
    server = _boot(conn, network.id, "wired")
    try:
        (port,) = list(conn.network.ports(device_id=server.id))
        assert port.status == "ACTIVE" and port.binding_host_id == ovs_cloud.host
        assert server.compute_host == ovs_cloud.host
        events = [e["event"] for a in conn.compute.server_actions(server) for e in
                  conn.compute.get_server_action(a.request_id, server).events or []]
        assert "compute_build_and_run_instance" in events
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)


def test_a_build_whose_ports_nobody_wires_fails_and_gives_them_back(switch, tmp_path_factory):
    # two simulated compute hosts named after the cloud's host: its agent wires neither
    extra = "[compute]\nsimulated_hosts = 2\nvif_plugging_timeout = 2\n[scheduler]\nmax_attempts = 2\n"
    with ovs_cloud_running(switch, tmp_path_factory, extra) as cloud:
        conn = connect(cloud)
        try:
            network = conn.network.find_network("private")
            server = conn.compute.create_server(name="unwired", image_id=conn.image.find_image("tiny").id,
                                                flavor_id=conn.compute.find_flavor("m1.nano").id,
                                                networks=[{"uuid": network.id}])
            failed = conn.compute.wait_for_server(server, status="ERROR", wait=120, interval=0.5)
            assert "Exhausted all hosts" in failed.fault["message"]
            assert "Virtual Interface creation failed" in failed.fault.get("details", "")
            assert list(conn.network.ports(device_id=server.id)) == []
            conn.compute.delete_server(server)
        finally:
            conn.close()
