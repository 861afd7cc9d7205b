"""Routers and floating IPs over HTTP with openstacksdk and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import member_of_new_project, neutron


@pytest.fixture(scope="module")
def public(conn):
    net = conn.network.create_network(name="l3-public", is_router_external=True)
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="198.51.100.0/24",
                                        enable_dhcp=False)
    yield net, subnet
    for fip in conn.network.ips(floating_network_id=net.id):
        conn.network.delete_ip(fip)
    conn.network.delete_network(net)



def tenant_network(conn, name, cidr):
    net = conn.network.create_network(name=name)
    return net, conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=cidr)


def test_router_gateway_interfaces_and_floating_ips(conn, cloud, public):
    external, external_subnet = public
    net, subnet = tenant_network(conn, "l3-private", "10.90.0.0/24")
    router = conn.network.create_router(name="r1", external_gateway_info={"network_id": external.id})
    gateway_ips = router.external_gateway_info["external_fixed_ips"]
    assert gateway_ips[0]["subnet_id"] == external_subnet.id
    info = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert info["subnet_id"] == subnet.id
    interface = conn.network.get_port(info["port_id"])
    assert interface.device_owner == "network:router_interface" and interface.fixed_ips[0]["ip_address"] == \
        "10.90.0.1"
    again = neutron(cloud, conn, "PUT", f"/routers/{router.id}/add_router_interface", json={"subnet_id": subnet.id})
    assert again.status_code == 400 and "already has a port" in again.text
    server_port = conn.network.create_port(network_id=net.id, device_owner="compute:nova", device_id="vm")
    fip = conn.network.create_ip(floating_network_id=external.id, port_id=server_port.id)
    assert fip.status == "ACTIVE" and fip.router_id == router.id
    assert fip.fixed_ip_address == server_port.fixed_ips[0]["ip_address"]
    assert fip.floating_ip_address.startswith("198.51.100.")
    second = conn.network.create_ip(floating_network_id=external.id)
    taken = neutron(cloud, conn, "PUT", f"/floatingips/{second.id}", json={"floatingip": {"port_id": server_port.id}})
    assert taken.status_code == 409 and taken.json()["NeutronError"]["type"] == "FloatingIPPortAlreadyAssociated"
    busy = neutron(cloud, conn, "PUT", f"/routers/{router.id}/remove_router_interface", json={"subnet_id": subnet.id})
    assert busy.status_code == 409 and busy.json()["NeutronError"]["type"] == "RouterInterfaceInUseByFloatingIP"
    assert neutron(cloud, conn, "DELETE", f"/ports/{interface.id}").status_code == 409  # a service port
    assert neutron(cloud, conn, "DELETE", f"/routers/{router.id}").status_code == 409  # has interfaces
    fip = conn.network.update_ip(fip, port_id=None)
    assert fip.status == "DOWN" and fip.port_id is None and fip.router_id is None
    conn.network.update_ip(second, port_id=server_port.id)
    conn.network.delete_port(server_port)  # deleting the port disassociates its floating IP
    assert conn.network.get_ip(second).port_id is None
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    with pytest.raises(sdk_exceptions.NotFoundException):
        conn.network.get_port(interface.id)
    conn.network.delete_router(router)
    for made in (fip, second):
        conn.network.delete_ip(made)
    conn.network.delete_network(net)
    assert not [p for p in conn.network.ports(network_id=external.id)]  # gateway and floating IP ports are gone


def test_l3_bad_input(conn, cloud, public):
    external, _ = public
    net, subnet = tenant_network(conn, "l3-bad", "10.91.0.0/24")
    overlapping, overlapping_subnet = tenant_network(conn, "l3-overlap", "10.91.0.0/25")
    router = conn.network.create_router(name="r-bad")
    not_external = neutron(cloud, conn, "PUT", f"/routers/{router.id}", json={"router": {
        "external_gateway_info": {"network_id": net.id}}})
    assert not_external.status_code == 400 and "not an external network" in not_external.text
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    overlap = neutron(cloud, conn, "PUT", f"/routers/{router.id}/add_router_interface",
                      json={"subnet_id": overlapping_subnet.id})
    assert overlap.status_code == 400 and "overlaps" in overlap.text
    port = conn.network.create_port(network_id=net.id)
    unreachable = neutron(cloud, conn, "POST", "/floatingips", json={"floatingip": {
        "floating_network_id": external.id, "port_id": port.id}})
    assert unreachable.status_code == 404 and "not reachable" in unreachable.text  # no gateway yet
    assert neutron(cloud, conn, "POST", "/floatingips", json={"floatingip": {
        "floating_network_id": net.id}}).status_code == 400  # not external
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_port(port)
    for made in (net, overlapping):
        conn.network.delete_network(made)


def test_a_tenant_uses_the_shared_external_network(conn, public):
    external, _ = public
    project, tenant = member_of_new_project(conn, "l3-tenant")
    net, subnet = tenant_network(tenant, "tenant-net", "10.92.0.0/24")
    router = tenant.network.create_router(name="tenant-router", external_gateway_info={"network_id": external.id})
    tenant.network.add_interface_to_router(router, subnet_id=subnet.id)
    port = tenant.network.create_port(network_id=net.id)
    fip = tenant.network.create_ip(floating_network_id=external.id, port_id=port.id)
    assert fip.project_id == project.id and fip.status == "ACTIVE"
    assert router.id not in {r.id for r in member_of_new_project(conn, "l3-nosy")[1].network.routers()}
    tenant.network.delete_ip(fip)
    tenant.network.delete_port(port)
    tenant.network.remove_interface_from_router(router, subnet_id=subnet.id)
    tenant.network.delete_router(router)
    tenant.network.delete_network(net)
    tenant.close()


def test_openstack_cli(conn, cloud_env, public):
    external, _ = public

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("network", "create", "cli-l3")
    cli("subnet", "create", "--network", "cli-l3", "--subnet-range", "10.93.0.0/24", "cli-l3-subnet")
    cli("router", "create", "cli-router")
    cli("router", "set", "--external-gateway", external.id, "cli-router")
    cli("router", "add", "subnet", "cli-router", "cli-l3-subnet")
    fip = json.loads(cli("floating", "ip", "create", external.id, "-f", "json"))
    assert fip["floating_ip_address"].startswith("198.51.100.")
    cli("floating", "ip", "delete", fip["id"])
    cli("router", "remove", "subnet", "cli-router", "cli-l3-subnet")
    cli("router", "delete", "cli-router")
    cli("network", "delete", "cli-l3")
