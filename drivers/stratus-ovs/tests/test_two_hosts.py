"""Two hosts: the embedded cloud's own (its agent, DHCP, the test's switch) and a second one
in a network namespace of its own (its own ovs-vswitchd and a stratus-ovs-agent process),
joined by VXLAN over an underlay veth. The cloud and the second agent talk over RabbitMQ."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from stratus_ovs.testing import NamespaceGuest as Guest
from stratus_ovs.testing import Switch, sh, wait

from tests.conftest import connect, ovs_cloud_running, require

pytestmark = pytest.mark.ovs
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
UNDERLAY = ("172.31.250.1", "172.31.250.2")


def _broker() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        return f"no RabbitMQ on 127.0.0.1:5672 ({exc})"
    return None


def _phy(switch: Switch, port: str, address: str, netns: str | None) -> None:
    """The host's underlay: a userspace bridge holding the wire, its address on the bridge's
    own port (OVS's userspace VXLAN sends and receives through it)."""
    inside = ["ip", "netns", "exec", netns] if netns else []
    switch.vsctl("add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev", "--",
                 "add-port", "br-phy", port)
    sh(*inside, "ip", "addr", "add", f"{address}/24", "dev", "br-phy")
    sh(*inside, "ip", "link", "set", "br-phy", "up")


@pytest.fixture(scope="module")
def hosts(switch, tmp_path_factory):
    require(_broker(), "rabbitmq")
    netns = f"hb{uuid.uuid4().hex[:6]}"
    wire = f"ul{netns}"
    sh("ip", "netns", "add", netns)
    sh("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up")
    second = Switch(tmp_path_factory.mktemp("ovs-b"), netns=netns)
    agent = None
    try:
        sh("ip", "link", "add", f"{wire}a", "type", "veth", "peer", "name", f"{wire}b", "netns", netns)
        for inside, name in (([], f"{wire}a"), (["ip", "netns", "exec", netns], f"{wire}b")):
            sh(*inside, "ethtool", "-K", name, "tx", "off")
            sh(*inside, "ip", "link", "set", name, "up")
        _phy(switch, f"{wire}a", UNDERLAY[0], None)
        _phy(second, f"{wire}b", UNDERLAY[1], netns)
        with ovs_cloud_running(switch, tmp_path_factory, f"[messaging]\ntransport_url = {BROKER}\n",
                               tunnel_ip=UNDERLAY[0]) as cloud:
            b_dir = tmp_path_factory.mktemp("host-b")
            b_host = f"{cloud.host}-b"
            (b_dir / "stratus.conf").write_text(
                f"[DEFAULT]\nhost = {b_host}\nstate_path = {b_dir}\n[messaging]\ntransport_url = {BROKER}\n"
                + second.config(tunnel_ip=UNDERLAY[1], enable_dhcp="false", enable_l3="false"))
            agent = subprocess.Popen([sys.executable, "-m", "stratus_ovs.cmd", "--config-file",
                                      str(b_dir / "stratus.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
            lines: list[str] = []
            threading.Thread(target=lambda: lines.extend(agent.stdout), daemon=True).start()
            assert wait(lambda: "serving host" in "".join(lines) or agent.poll() is not None, timeout=60)
            assert agent.poll() is None, "".join(lines)
            yield cloud, b_host, netns, str(b_dir / "stratus.conf")
            agent.terminate()  # before the cloud goes, or its last calls wait for replies
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                pytest.fail("the agent did not stop on SIGTERM:\n" + "".join(lines))
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(30)
        switch.vsctl("--if-exists", "del-br", "br-phy")
        sh("ip", "link", "del", f"{wire}a", check=False)
        second.stop()
        time.sleep(0.2)
        sh("ip", "netns", "delete", netns, check=False)


def test_a_vxlan_network_spans_two_hosts_and_stays_apart_from_another(hosts, tmp_path):
    from stratus_ovs.plugin import OvsPlugin

    from stratus import conf as config_module

    cloud, b_host, b_netns, b_config = hosts
    conn = connect(cloud)
    plugin_a = OvsPlugin(config_module.build([cloud.config_file]))
    plugin_b = OvsPlugin(config_module.build([b_config]))
    assert wait(lambda: {a.host for a in conn.network.agents() if a.is_alive} >= {cloud.host, b_host})
    made: list[Guest] = []

    def guest(network, host, plugin, netns=None, **port_args):
        port = conn.network.create_port(network_id=network.id, binding_host_id=host, **port_args)
        g = Guest(plugin, conn.network.get_port(port.id), f"g{uuid.uuid4().hex[:8]}", host_netns=netns)
        g.api_port = port
        made.append(g)
        assert wait(lambda: conn.network.get_port(port.id).status == "ACTIVE"), f"port on {host} never wired"
        return g

    try:
        red = conn.network.create_network(name="red")
        assert red.provider_network_type == "vxlan"
        red_subnet = conn.network.create_subnet(network_id=red.id, ip_version=4, cidr="10.60.0.0/24")
        blue = conn.network.create_network(name="blue")
        blue_subnet = conn.network.create_subnet(network_id=blue.id, ip_version=4, cidr="10.60.0.0/24",
                                                 enable_dhcp=False)
        on_a = guest(red, cloud.host, plugin_a)
        on_b = guest(red, b_host, plugin_b, b_netns)
        # host B serves no DHCP: its guest's lease comes from host A's dnsmasq through the tunnel
        assert wait(lambda: on_b.dhcp(tmp_path), timeout=40) == on_b.port.fixed_ips[0].ip_address
        on_a.address(red_subnet.cidr)
        assert on_b.pings(on_a.port.fixed_ips[0].ip_address, attempts=5)
        assert on_a.pings(on_b.port.fixed_ips[0].ip_address)
        intruder = guest(blue, b_host, plugin_b, b_netns,
                         fixed_ips=[{"subnet_id": blue_subnet.id, "ip_address": "10.60.0.200"}])
        intruder.address(blue_subnet.cidr)
        assert not intruder.pings(on_a.port.fixed_ips[0].ip_address, attempts=2)
        assert on_b.pings(on_a.port.fixed_ips[0].ip_address)  # and red still works meanwhile
    finally:
        for g in made:
            g.remove()
            conn.network.delete_port(g.api_port.id, ignore_missing=True)
        conn.close()
