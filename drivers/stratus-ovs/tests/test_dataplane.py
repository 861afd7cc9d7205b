"""The data plane an OVS host carries, driven through the API with openstacksdk: guests are
network namespaces plugged into a real Open vSwitch (userspace datapath) by the plugin."""

from __future__ import annotations

import uuid

import pytest
from stratus_ovs.testing import NamespaceGuest as Guest
from stratus_ovs.testing import wait

pytestmark = pytest.mark.ovs


@pytest.fixture(scope="module")
def plugin(ovs_cloud):
    from stratus_ovs.plugin import OvsPlugin

    from stratus import conf as config_module

    return OvsPlugin(config_module.build([ovs_cloud.config_file]))


@pytest.fixture
def guests(plugin, conn, ovs_cloud):
    made: list[Guest] = []

    def make(network, subnet=None, name: str | None = None, **port_args) -> Guest:
        port = conn.network.create_port(network_id=network.id, binding_host_id=ovs_cloud.host, **port_args)
        guest = Guest(plugin, conn.network.get_port(port.id), name or f"g{uuid.uuid4().hex[:8]}")
        guest.api_port = port
        made.append(guest)
        assert wait(lambda: conn.network.get_port(port.id).status == "ACTIVE"), "the agent never wired the port"
        return guest

    yield make
    for guest in made:
        guest.remove()
        conn.network.delete_port(guest.api_port.id, ignore_missing=True)


def _network(conn, cidr: str, network=None, **subnet_args):
    network = network or conn.network.create_network(name=f"n-{uuid.uuid4().hex[:6]}")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr=cidr, **subnet_args)
    return network, subnet


def test_ports_of_one_network_reach_each_other_and_no_other(conn, guests):
    net_a, sub_a = _network(conn, "10.50.0.0/24", enable_dhcp=False)
    net_b, sub_b = _network(conn, "10.50.0.0/24", enable_dhcp=False)
    a1, a2 = guests(net_a), guests(net_a)
    b1 = guests(net_b, fixed_ips=[{"subnet_id": sub_b.id, "ip_address": "10.50.0.200"}])
    a1.address(sub_a.cidr), a2.address(sub_a.cidr)
    b1.address(sub_b.cidr)
    assert a1.pings(a2.port.fixed_ips[0].ip_address, attempts=5)
    assert a2.pings(a1.port.fixed_ips[0].ip_address)
    # b1 sits in the same address range but on another network: nothing crosses
    assert not b1.pings(a1.port.fixed_ips[0].ip_address, attempts=2)
    assert not a1.pings(b1.port.fixed_ips[0].ip_address, attempts=2)


def test_a_security_group_rule_opens_and_closes_traffic(conn, guests):
    network, subnet = _network(conn, "10.51.0.0/24", enable_dhcp=False)
    closed = conn.network.create_security_group(name=f"closed-{uuid.uuid4().hex[:6]}")
    client = guests(network)
    server = guests(network, security_group_ids=[closed.id])
    client.address(subnet.cidr), server.address(subnet.cidr)
    target = server.port.fixed_ips[0].ip_address
    assert not client.pings(target, attempts=2)
    rule = conn.network.create_security_group_rule(security_group_id=closed.id, direction="ingress",
                                                   ethertype="IPv4", protocol="icmp",
                                                   remote_ip_prefix=subnet.cidr)
    assert wait(lambda: client.pings(target), timeout=20)
    conn.network.delete_security_group_rule(rule)
    assert wait(lambda: not client.pings(target), timeout=20)
    conn.network.delete_port(server.api_port.id)


def test_dhcp_hands_out_the_ports_address(conn, guests, tmp_path):
    network, _subnet = _network(conn, "10.52.0.0/24", gateway_ip="10.52.0.1")
    guest = guests(network)
    assert wait(lambda: guest.dhcp(tmp_path), timeout=40) == guest.port.fixed_ips[0].ip_address
    routes = guest.run("ip", "route").stdout
    assert "default via 10.52.0.1" in routes
    dhcp_ports = list(conn.network.ports(network_id=network.id, device_owner="network:dhcp"))
    assert len(dhcp_ports) == 1 and dhcp_ports[0].status == "ACTIVE"


def test_a_floating_ip_reaches_a_port_through_a_router(conn, guests, tmp_path):
    public = conn.network.create_network(name=f"public-{uuid.uuid4().hex[:6]}", is_router_external=True)
    public_subnet = conn.network.create_subnet(network_id=public.id, ip_version=4, cidr="172.24.8.0/24",
                                               enable_dhcp=False, gateway_ip="172.24.8.1")
    private, private_subnet = _network(conn, "10.53.0.0/24", enable_dhcp=False)
    router = conn.network.create_router(name=f"r-{uuid.uuid4().hex[:6]}",
                                        external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=private_subnet.id)
    group = conn.network.create_security_group(name=f"web-{uuid.uuid4().hex[:6]}")
    conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4",
                                            protocol="icmp", remote_ip_prefix="0.0.0.0/0")
    conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4",
                                            protocol="tcp", port_range_min=8080, port_range_max=8080,
                                            remote_ip_prefix="0.0.0.0/0")
    vm = guests(private, security_group_ids=[group.id])
    vm.address(private_subnet.cidr, gateway=private_subnet.gateway_ip)
    outside = guests(public, port_security_enabled=False)
    outside.address(public_subnet.cidr)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=vm.api_port.id)
    vm.serve(tmp_path)
    url = f"http://{fip.floating_ip_address}:8080/name"
    try:
        # the answer comes from the guest itself (the router holds the address, DNAT passes it on)
        assert wait(lambda: outside.fetch(url), timeout=40) == vm.name
        assert outside.pings(fip.floating_ip_address, attempts=3)
        # the guest reaches outside, which has no route back to the private subnet: SNAT to the floating IP
        assert vm.pings(outside.port.fixed_ips[0].ip_address, attempts=3)
        conn.network.update_ip(fip, port_id=None)
        assert wait(lambda: outside.fetch(url) is None and not outside.pings(fip.floating_ip_address), timeout=20)
    finally:
        conn.network.delete_ip(fip)
        conn.network.remove_interface_from_router(router, subnet_id=private_subnet.id)
        conn.network.update_router(router, external_gateway_info={})
        conn.network.delete_router(router)


def test_a_routers_static_route_carries_traffic_to_a_next_hop(conn, guests):
    inner, inner_subnet = _network(conn, "10.54.0.0/24", enable_dhcp=False)
    outer, outer_subnet = _network(conn, "10.55.0.0/24", enable_dhcp=False)
    router = conn.network.create_router(name=f"r-{uuid.uuid4().hex[:6]}")
    conn.network.add_interface_to_router(router, subnet_id=inner_subnet.id)
    conn.network.add_interface_to_router(router, subnet_id=outer_subnet.id)
    # the next hop answers for 192.168.54.1, which no subnet holds (its port may not filter that address)
    hop = guests(inner, port_security_enabled=False)
    hop.address(inner_subnet.cidr, gateway=inner_subnet.gateway_ip)
    hop.run("ip", "addr", "add", "192.168.54.1/32", "dev", "lo")
    client = guests(outer)
    client.address(outer_subnet.cidr, gateway=outer_subnet.gateway_ip)
    try:
        assert not client.pings("192.168.54.1", attempts=2)
        route = {"destination": "192.168.54.0/24", "nexthop": hop.port.fixed_ips[0].ip_address}
        conn.network.add_extra_routes_to_router(router, body={"router": {"routes": [route]}})
        assert wait(lambda: client.pings("192.168.54.1"), timeout=30)
        conn.network.remove_extra_routes_from_router(router, body={"router": {"routes": [route]}})
        assert wait(lambda: not client.pings("192.168.54.1"), timeout=30)
    finally:
        conn.network.update_router(router, routes=[])
        for subnet in (inner_subnet, outer_subnet):
            conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)


def test_the_agent_removes_what_it_no_longer_needs(conn, ovs_cloud):
    import subprocess

    network, subnet = _network(conn, "10.54.0.0/24")
    namespace = f"qdhcp-{network.id}"
    listed = lambda: subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout  # noqa: E731
    assert wait(lambda: namespace in listed(), timeout=30)
    conn.network.delete_subnet(subnet)  # the DHCP port's address does not hold the subnet
    assert wait(lambda: namespace not in listed(), timeout=30)
    assert list(conn.network.ports(network_id=network.id)) == []
    _network(conn, "10.55.0.0/24", network=network)
    assert wait(lambda: namespace in listed(), timeout=30)
    conn.network.delete_network(network)
    assert wait(lambda: namespace not in listed(), timeout=30)


def test_the_agent_reports_itself(conn, ovs_cloud):
    agents = [a for a in conn.network.agents() if a.host == ovs_cloud.host]
    assert len(agents) == 1
    agent = agents[0]
    assert agent.is_alive and agent.agent_type == "Open vSwitch agent" and agent.is_admin_state_up
    assert agent.configuration["datapath_type"] == "netdev"
    assert agent.configuration["firewall"] == "openflow-conntrack"
