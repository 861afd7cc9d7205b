"""Real guests on Open vSwitch: the embedded cloud with ``[network] plugin = ovs`` (its agent in the
cloud's process, a private ovs-vswitchd with the userspace datapath) and the libvirt driver, which
plugs each guest's tap into the integration bridge itself. The guests get their addresses by DHCP,
reach each other, are refused by a security group, and reach an outside namespace through their
router with a floating IP — seen from inside the guests, through the serial console proxy."""

from __future__ import annotations

import fcntl
import os
import re
import time
import uuid

import pytest
from stratus_libvirt import testing
from stratus_libvirt.testing import MARKER

from tests.conftest import require

try:
    from stratus_ovs import testing as ovs_testing
except ImportError:  # stratus-ovs is a separate package
    ovs_testing = None

pytestmark = pytest.mark.libvirt
#: the Open vSwitch package's tests take it too: the userspace datapath's bridges live in this
#: host's network namespace
OVS_LOCK = "/run/lock/stratus-ovs-tests.lock"


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    require("stratus-ovs is not installed" if ovs_testing is None else ovs_testing.missing(), "ovs")
    os.makedirs(os.path.dirname(OVS_LOCK), exist_ok=True)
    with open(OVS_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = ovs_testing.Switch(tmp_path_factory.mktemp("ovs"))
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture(scope="module")
def ovs_libvirtd(switch, tmp_path_factory):
    """A libvirtd of its own whose ovs-vsctl reaches the test switch."""
    require(testing.Libvirtd.missing())
    daemon = testing.Libvirtd(str(tmp_path_factory.mktemp("libvirtd-ovs")), ovs_rundir=str(switch.dir)).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def cloud(switch, ovs_libvirtd, virt_type, tmp_path_factory):
    from stratus_ovs.agent import Agent
    from stratus_ovs.opts import register_opts

    from stratus import conf as config_module
    from stratus.testing import EmbeddedCloud

    host = f"lv-ovs-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("cloud")
    config = (f"[DEFAULT]\nhost = {host}\n[network]\nplugin = ovs\n[compute]\nhypervisor = {virt_type}\n"
              f"shutdown_timeout = 10\nvif_plugging_timeout = 120\n[libvirt]\nconnection_uri = {ovs_libvirtd.uri}\n"
              f"{switch.config()}")
    started = EmbeddedCloud(data_dir, config, timeout=120)
    started.host = host
    try:
        yield started
    finally:
        started.stop()
        print("".join(started.lines[-200:]))  # shown when a test of the module failed
        conf = config_module.build([str(data_dir / "stratus.conf")],
                                   overrides={"DEFAULT": {"state_path": str(data_dir)}})
        register_opts(conf)
        Agent(conf).cleanup()


@pytest.fixture(scope="module")
def conn(cloud):
    connection = cloud.connect()
    yield connection
    connection.close()


class Shell:
    """The guest's shell on its serial port, through the console proxy."""

    def __init__(self, conn, server) -> None:
        from websockets.sync.client import connect

        self.socket = connect(conn.compute.create_console(server, console_type="serial")["url"], open_timeout=10)
        self.count = 0

    def run(self, command: str, timeout: float = 60) -> tuple[int, str]:
        """``command``'s exit status and output."""
        self.count += 1
        end = f"END-{self.count}-"
        self.socket.send(f"{command}; echo {end}$?\n".encode())
        seen, deadline = "", time.monotonic() + timeout
        while not (found := re.search(re.escape(end) + r"(\d+)", seen)):
            assert time.monotonic() < deadline, f"{command!r} did not finish: {seen[-800:]!r}"
            data = self.socket.recv(timeout=max(1.0, deadline - time.monotonic()))
            seen += data.decode(errors="replace") if isinstance(data, bytes) else data
        return int(found.group(1)), seen

    def close(self) -> None:
        self.socket.close()


def test_real_guests_on_open_vswitch(conn, cloud, guest_image):
    suffix = uuid.uuid4().hex[:6]
    flavor = conn.compute.create_flavor(name=f"ovs-{suffix}", ram=128, vcpus=1, disk=1)
    image = conn.image.create_image(name=f"guest-{suffix}", filename=guest_image, disk_format="raw",
                                    container_format="bare", wait=True)
    network = conn.network.create_network(name=f"guests-{suffix}")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.61.0.0/24",
                                        gateway_ip="10.61.0.1")
    pingable = conn.network.create_security_group(name=f"icmp-{suffix}")
    conn.network.create_security_group_rule(security_group_id=pingable.id, direction="ingress", ethertype="IPv4",
                                            protocol="icmp", remote_ip_prefix="0.0.0.0/0")
    closed = conn.network.create_security_group(name=f"closed-{suffix}")  # egress only
    public = conn.network.create_network(name=f"outside-{suffix}", is_router_external=True)
    public_subnet = conn.network.create_subnet(network_id=public.id, ip_version=4, cidr="172.24.9.0/24",
                                               enable_dhcp=False, gateway_ip="172.24.9.1")
    router = conn.network.create_router(name=f"r-{suffix}", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    servers, shells, outside, fip = [], [], None, None
    try:
        for name, groups in (("a", ["default", pingable.name]), ("b", ["default"]), ("c", [closed.name])):
            made = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                              networks=[{"uuid": network.id}],
                                              security_groups=[{"name": g} for g in groups])
            servers.append(made)
        for index, made in enumerate(servers):
            servers[index] = _settled(conn, made)
            assert servers[index].status == "ACTIVE", servers[index].fault
        addresses = {}
        for server in servers:
            (port,) = list(conn.network.ports(device_id=server.id))
            assert port.status == "ACTIVE" and port.binding_vif_type == "ovs"
            addresses[server.name] = port.fixed_ips[0]["ip_address"]
            deadline = time.monotonic() + 120
            while f"STRATUS-GUEST-NET eth0 {addresses[server.name]}" not in (
                    output := conn.compute.get_server_console_output(server)["output"]):
                assert time.monotonic() < deadline, f"{server.name} got no address by DHCP:\n{output}"
                time.sleep(1)
            assert MARKER in output
        a = servers[0]
        shell = Shell(conn, a)
        shells.append(shell)
        status, output = shell.run(f"ping -c 3 -W 2 {addresses['b']}")
        assert status == 0, f"a cannot reach b on their network:\n{output}"
        status, output = shell.run(f"ping -c 2 -W 2 {addresses['c']}")
        assert status != 0, f"c's security group lets a's ping in:\n{output}"

        # the outside world: a namespace on the external network, and a floating IP for a
        from stratus_ovs.plugin import OvsPlugin

        from stratus import conf as config_module

        plugin = OvsPlugin(config_module.build([str(cloud.data_dir / "stratus.conf")]))
        port = conn.network.create_port(network_id=public.id, binding_host_id=cloud.host, port_security_enabled=False)
        outside = ovs_testing.NamespaceGuest(plugin, conn.network.get_port(port.id), f"out-{suffix}")
        outside.api_port = port
        outside_ip = outside.address(public_subnet.cidr)
        a_port = next(iter(conn.network.ports(device_id=a.id)))
        fip = conn.network.create_ip(floating_network_id=public.id, port_id=a_port.id)
        assert ovs_testing.wait(lambda: outside.pings(fip.floating_ip_address), timeout=60), \
            "the floating IP does not reach a"
        # outside has no route to the guests' subnet: a's answers come back only through SNAT/DNAT
        status, output = shell.run(f"ping -c 3 -W 2 {outside_ip}")
        assert status == 0, f"a cannot reach outside through its router:\n{output}"
    finally:
        for shell in shells:
            shell.close()
        if fip is not None:
            conn.network.delete_ip(fip)
        if outside is not None:
            outside.remove()
            conn.network.delete_port(outside.api_port.id, ignore_missing=True)
        for server in servers:
            conn.compute.delete_server(server)
        for server in servers:
            conn.compute.wait_for_delete(server, wait=120)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.update_router(router, external_gateway_info={})
        conn.network.delete_router(router)
        conn.network.delete_network(network)
        conn.network.delete_network(public)
        conn.image.delete_image(image)
        conn.compute.delete_flavor(flavor)
    # no tap of a deleted guest is left on the integration bridge
    leftovers = [name for name in cloud_ports(cloud) if name.startswith("tap")]
    assert leftovers == [], leftovers


def _settled(conn, server, timeout: float = 240):
    """The server once ACTIVE or ERROR (its fault then shows in the assertion)."""
    deadline = time.monotonic() + timeout
    while (current := conn.compute.get_server(server.id)).status not in ("ACTIVE", "ERROR"):
        assert time.monotonic() < deadline, f"{server.name} is still {current.status}"
        time.sleep(0.5)
    return current


def cloud_ports(cloud) -> list[str]:
    import subprocess

    config = (cloud.data_dir / "stratus.conf").read_text()
    db = re.search(r"ovsdb_connection = (\S+)", config).group(1)
    done = subprocess.run(["ovs-vsctl", f"--db={db}", "--timeout=10", "list-ports", "br-int"], capture_output=True,
                          text=True, check=True)
    return done.stdout.split()
