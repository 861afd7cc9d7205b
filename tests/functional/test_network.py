"""The networking API (networks, subnets, ports, IPAM) over HTTP with openstacksdk, the
`openstack` CLI and raw requests, against the logical plugin."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import subprocess
import sys

import pytest
import requests
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import member_of_new_project, neutron


@pytest.fixture(scope="module")
def other(conn):
    project, connection = member_of_new_project(conn, "net-tenant")
    yield project, connection
    connection.close()



def test_discovery_and_extensions(conn, cloud):
    assert requests.get(f"{cloud.base_url}/network", timeout=30).json()["versions"][0]["id"] == "v2.0"
    aliases = {e.alias for e in conn.network.extensions()}
    assert {"provider", "external-net", "binding", "allowed-address-pairs", "port-security",
            "security-group"} <= aliases
    assert "qos" not in aliases and "dns-integration" not in aliases  # only what is implemented is listed


def test_network_subnet_port_lifecycle(conn):
    net = conn.network.create_network(name="life", mtu=1450)
    assert net.mtu == 1450 and net.status == "ACTIVE" and net.is_shared is False
    v4 = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="192.168.10.0/24", name="v4",
                                    dns_nameservers=["192.0.2.53"],
                                    host_routes=[{"destination": "10.9.0.0/16", "nexthop": "192.168.10.254"}],
                                    allocation_pools=[{"start": "192.168.10.100", "end": "192.168.10.199"}])
    assert v4.gateway_ip == "192.168.10.1" and v4.dns_nameservers == ["192.0.2.53"]
    v6 = conn.network.create_subnet(network_id=net.id, ip_version=6, cidr="2001:db8:1::/64",
                                    ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    port = conn.network.create_port(network_id=net.id, name="vm-port", device_id="vm-1", device_owner="compute:nova")
    addresses = {a["subnet_id"]: a["ip_address"] for a in port.fixed_ips}
    assert addresses[v4.id] == "192.168.10.100"
    mac = port.mac_address
    assert mac.startswith("fa:16:3e:")
    eui = ipaddress.ip_network("2001:db8:1::/64").network_address + int.from_bytes(
        bytes([int(mac[:2], 16) ^ 2, *(int(x, 16) for x in mac.split(":")[1:3]), 0xFF, 0xFE,
               *(int(x, 16) for x in mac.split(":")[3:])]), "big")
    assert addresses[v6.id] == str(eui)
    assert conn.network.get_network(net).subnet_ids == [v4.id, v6.id]
    moved = conn.network.update_port(port, fixed_ips=[{"subnet_id": v4.id, "ip_address": "192.168.10.150"}])
    assert moved.fixed_ips == [{"subnet_id": v4.id, "ip_address": "192.168.10.150"}]
    again = conn.network.create_port(network_id=net.id)
    assert {a["ip_address"] for a in again.fixed_ips if a["subnet_id"] == v4.id} == {"192.168.10.100"}  # freed
    with pytest.raises(sdk_exceptions.ConflictException):
        conn.network.delete_subnet(v4)  # ports still have addresses there
    with pytest.raises(sdk_exceptions.ConflictException):
        conn.network.delete_network(net)
    for made in (port, again):
        conn.network.delete_port(made)
    conn.network.delete_network(net)  # takes its subnets with it
    with pytest.raises(sdk_exceptions.NotFoundException):
        conn.network.get_subnet(v6.id)


def test_a_full_pool_and_duplicate_addresses(conn, cloud):
    net = conn.network.create_network(name="tiny")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.20.0.0/29",
                                        allocation_pools=[{"start": "10.20.0.2", "end": "10.20.0.3"}])
    first = conn.network.create_port(network_id=net.id)
    conn.network.create_port(network_id=net.id)
    full = neutron(cloud, conn, "POST", "/ports", json={"port": {"network_id": net.id}})
    assert full.status_code == 409 and full.json()["NeutronError"]["type"] == "IpAddressGenerationFailure"
    taken = neutron(cloud, conn, "POST", "/ports", json={"port": {"network_id": net.id, "fixed_ips": [
        {"ip_address": first.fixed_ips[0]["ip_address"]}]}})
    assert taken.status_code == 409 and taken.json()["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
    outside_pool = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": subnet.id,
                                                                           "ip_address": "10.20.0.6"}])
    assert outside_pool.fixed_ips[0]["ip_address"] == "10.20.0.6"  # pools only bound automatic choices
    for port in conn.network.ports(network_id=net.id):
        conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_parallel_port_creates_get_distinct_addresses(conn):
    net = conn.network.create_network(name="busy")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.30.0.0/28")  # 13 usable addresses
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _create_port(conn, net.id), range(16)))
    addresses = [o for o in outcomes if isinstance(o, str)]
    assert len(addresses) == 13 and len(set(addresses)) == 13
    assert sorted(o for o in outcomes if not isinstance(o, str)) == [409, 409, 409]
    for port in conn.network.ports(network_id=net.id):
        conn.network.delete_port(port)
    conn.network.delete_network(net)


def _create_port(conn, network_id):
    try:
        return conn.network.create_port(network_id=network_id).fixed_ips[0]["ip_address"]
    except sdk_exceptions.HttpException as exc:
        return exc.status_code


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/subnets", {"cidr": "10.0.0.0/33", "ip_version": 4}, 400, "cidr"),
    ("/subnets", {"cidr": "not-a-cidr"}, 400, "not-a-cidr"),
    ("/subnets", {"cidr": "10.0.0.0"}, 400, "cidr"),
    ("/subnets", {"cidr": "10.0.0.0/24", "gateway_ip": "10.1.0.1"}, 400, "Gateway"),
    ("/subnets", {"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.1.1", "end": "10.0.1.9"}]}, 400,
     "allocation pool"),
    ("/subnets", {"cidr": "10.0.0.0/24", "ip_version": 6}, 400, "IPv6"),
    ("/ports", {"fixed_ips": [{"ip_address": "10.99.0.5"}]}, 400, "not a valid IP"),
    ("/ports", {"mac_address": "01:00:5e:00:00:01"}, 400, "mac_address"),
])
def test_bad_input(conn, cloud, path, body, status, words):
    net = conn.network.create_network(name="bad-input")
    kind = path.strip("/")[:-1]
    response = neutron(cloud, conn, "POST", path, json={kind: {"network_id": net.id, **body}})
    assert response.status_code == status and words in response.json()["NeutronError"]["message"], response.text
    conn.network.delete_network(net)


def test_overlapping_subnets_on_one_network(conn, cloud):
    net = conn.network.create_network(name="overlap")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.40.0.0/16")
    response = neutron(cloud, conn, "POST", "/subnets", json={"subnet": {"network_id": net.id,
                                                                        "cidr": "10.40.5.0/24"}})
    assert response.status_code == 400 and "overlaps" in response.text
    conn.network.delete_network(net)


def test_tenant_isolation(conn, cloud, other):
    project, tenant = other
    private = conn.network.create_network(name="admin-private")
    conn.network.create_subnet(network_id=private.id, ip_version=4, cidr="10.50.0.0/24")
    shared = conn.network.create_network(name="admin-shared", shared=True)
    conn.network.create_subnet(network_id=shared.id, ip_version=4, cidr="10.51.0.0/24")
    visible = {n.id for n in tenant.network.networks()}
    assert shared.id in visible and private.id not in visible
    with pytest.raises(sdk_exceptions.NotFoundException):
        tenant.network.get_network(private.id)
    with pytest.raises(sdk_exceptions.NotFoundException):
        tenant.network.create_port(network_id=private.id)
    own = tenant.network.create_port(network_id=shared.id)
    assert own.project_id == project.id
    admin_port = conn.network.create_port(network_id=shared.id)
    assert admin_port.id not in {p.id for p in tenant.network.ports()}
    with pytest.raises(sdk_exceptions.ForbiddenException):
        tenant.network.create_network(name="sneaky", shared=True)
    with pytest.raises(sdk_exceptions.HttpException):
        tenant.network.update_network(shared, name="renamed")
    assert "provider:network_type" not in neutron(cloud, tenant, "GET", f"/networks/{shared.id}").json()["network"]
    for port in (own, admin_port):
        conn.network.delete_port(port)
    conn.network.delete_network(private)
    conn.network.delete_network(shared)


def test_filters_fields_sorting_and_pages(conn, cloud):
    made = [conn.network.create_network(name=f"page-{i}", mtu=1400 + i) for i in range(5)]
    names = [n.name for n in conn.network.networks(sort_key="name", sort_dir="desc") if n.name.startswith("page-")]
    assert names == [f"page-{i}" for i in reversed(range(5))]
    assert [n.name for n in conn.network.networks(mtu=1402)] == ["page-2"]
    either = neutron(cloud, conn, "GET", "/networks?name=page-1&name=page-3&fields=name&fields=id").json()
    assert sorted(n["name"] for n in either["networks"]) == ["page-1", "page-3"]
    assert set(either["networks"][0]) == {"name", "id"}
    first = neutron(cloud, conn, "GET", "/networks?limit=2&sort_key=name&sort_dir=asc").json()
    assert len(first["networks"]) == 2 and first["networks_links"][0]["rel"] == "next"
    second = requests.get(first["networks_links"][0]["href"],
                          headers={"X-Auth-Token": conn.session.get_token()}, timeout=30).json()
    assert second["networks"][0]["name"] > first["networks"][1]["name"]
    assert {link["rel"] for link in second["networks_links"]} >= {"previous"}
    assert len(list(conn.network.networks(limit=2))) >= 5  # the SDK follows the links
    bad = neutron(cloud, conn, "GET", "/networks?colour=blue")
    assert bad.status_code == 400 and "colour" in bad.text
    for network in made:
        conn.network.delete_network(network)


def test_port_binding_and_address_pairs(conn):
    net = conn.network.create_network(name="bound")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.60.0.0/24")
    port = conn.network.create_port(network_id=net.id, allowed_address_pairs=[{"ip_address": "10.60.0.200"}])
    assert port.status == "DOWN" and port.binding_vif_type == "unbound"
    assert port.allowed_address_pairs == [{"ip_address": "10.60.0.200", "mac_address": port.mac_address}]
    bound = conn.network.update_port(port, binding_host_id="compute-1")
    assert bound.binding_vif_type == "logical" and bound.status == "ACTIVE" and bound.binding_host_id == "compute-1"
    conn.network.delete_port(port)
    conn.network.delete_network(net)


def test_openstack_cli(cloud_env):
    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args, "-f", "json"],
                                env=cloud_env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    net = cli("network", "create", "cli-net")
    subnet = cli("subnet", "create", "--network", "cli-net", "--subnet-range", "10.70.0.0/24", "cli-subnet")
    assert subnet["gateway_ip"] == "10.70.0.1"
    port = cli("port", "create", "--network", "cli-net", "--fixed-ip", "subnet=cli-subnet,ip-address=10.70.0.50",
               "cli-port")
    assert "10.70.0.50" in json.dumps(port["fixed_ips"])
    assert "cli-port" in [p["Name"] for p in cli("port", "list", "--network", net["id"])]
    subprocess.run([sys.executable, "-m", "openstackclient.shell", "port", "delete", "cli-port"], env=cloud_env,
                   check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "openstackclient.shell", "network", "delete", "cli-net"], env=cloud_env,
                   check=True, timeout=120)


def test_segments_for_tenant_and_provider_networks(conn, cloud):
    first, second = conn.network.create_network(name="seg-1"), conn.network.create_network(name="seg-2")
    assert first.provider_network_type == "vxlan" and first.mtu == 1450
    assert first.provider_segmentation_id != second.provider_segmentation_id
    vlan = conn.network.create_network(name="vlan-100", provider_network_type="vlan",
                                       provider_physical_network="physnet1", provider_segmentation_id=100)
    assert (vlan.provider_segmentation_id, vlan.mtu) == (100, 1500)
    again = neutron(cloud, conn, "POST", "/networks", json={"network": {
        "provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 100}})
    assert again.status_code == 409 and again.json()["NeutronError"]["type"] == "SegmentationIdInUse"
    big = neutron(cloud, conn, "POST", "/networks", json={"network": {"mtu": 9000}})
    assert big.status_code == 400 and "maximum is 1450" in big.text
    for network in (first, second, vlan):
        conn.network.delete_network(network)
    reused = conn.network.create_network(name="vlan-100-again", provider_network_type="vlan",
                                         provider_physical_network="physnet1", provider_segmentation_id=100)
    conn.network.delete_network(reused)


def test_availability_zones_and_agents(conn, cloud, other):
    _, member = other
    zones = {(z.name, z.resource, z.state) for z in conn.network.availability_zones()}
    assert zones == {("nova", "network", "available"), ("nova", "router", "available")}
    network = conn.network.create_network(name="zoned", availability_zone_hints=["nova"])
    assert network.availability_zones == ["nova"]
    conn.network.delete_network(network)
    answer = neutron(cloud, conn, "POST", "/networks", json={"network": {"name": "x",
                                                                         "availability_zone_hints": ["mars"]}})
    assert answer.status_code == 404 and answer.json()["NeutronError"]["type"] == "AvailabilityZoneNotFound"
    answer = neutron(cloud, conn, "POST", "/routers", json={"router": {"availability_zone_hints": ["mars"]}})
    assert answer.status_code == 404
    assert not [n for n in conn.network.networks(name="x")]  # nothing half-made
    assert {"agent", "availability_zone"} <= {e.alias for e in conn.network.extensions()}
    # the logical plugin has no host agents; others than administrators see none (Neutron's answer)
    assert list(conn.network.agents()) == []
    listed = neutron(cloud, member, "GET", "/agents")
    assert listed.status_code == 200 and listed.json()["agents"] == []
    assert neutron(cloud, conn, "GET", "/agents/nope").status_code == 404
