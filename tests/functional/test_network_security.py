"""Security groups and rules over HTTP: the default group, Neutron's validation, ports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from openstack import exceptions as sdk_exceptions

from tests.functional.accounts import member_of_new_project, neutron


def default_group(conn):
    """The caller's project's default group (an administrator lists every project's groups)."""
    return next(g for g in conn.network.security_groups(project_id=conn.current_project_id) if g.name == "default")


def test_every_project_has_one_default_group_with_neutrons_rules(conn, cloud):
    group = default_group(conn)
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in group.security_group_rules}
    assert rules == {("egress", "IPv4", None), ("egress", "IPv6", None), ("ingress", "IPv4", group.id),
                     ("ingress", "IPv6", group.id)}
    assert [g.name for g in conn.network.security_groups(project_id=conn.current_project_id)].count("default") == 1
    renamed = neutron(cloud, conn, "PUT", f"/security-groups/{group.id}", json={"security_group": {"name": "x"}})
    assert renamed.status_code == 409 and renamed.json()["NeutronError"]["type"] == "SecurityGroupCannotUpdateDefault"
    other = conn.network.create_security_group(name="not-default")
    for name in ("default", "DEFAULT"):  # only the project's own default group has that name (409, as Neutron)
        taken = neutron(cloud, conn, "PUT", f"/security-groups/{other.id}", json={"security_group": {"name": name}})
        assert taken.status_code == 409 and taken.json()["NeutronError"]["type"] == "SecurityGroupDefaultAlreadyExists"
        made = neutron(cloud, conn, "POST", "/security-groups", json={"security_group": {"name": name}})
        assert made.status_code == 409 and made.json()["NeutronError"]["type"] == "SecurityGroupDefaultAlreadyExists"
    conn.network.delete_security_group(other)
    _, tenant = member_of_new_project(conn, "sg-tenant")
    with pytest.raises(sdk_exceptions.ConflictException):
        tenant.network.delete_security_group(default_group(tenant))
    assert default_group(tenant).id != group.id
    tenant.close()


def test_rules_and_their_validation(conn, cloud):
    group = conn.network.create_security_group(name="web", description="web servers")
    assert {(r["direction"], r["ethertype"]) for r in group.security_group_rules} == {("egress", "IPv4"),
                                                                                      ("egress", "IPv6")}
    rule = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", protocol="tcp",
                                                   port_range_min=80, port_range_max=443,
                                                   remote_ip_prefix="203.0.113.7/24")
    # kept as given, with its mask (Neutron); duplicates compare the network
    assert rule.remote_ip_prefix == "203.0.113.7/24" and rule.protocol == "tcp"
    assert neutron(cloud, conn, "GET", f"/security-group-rules/{rule.id}").json()["security_group_rule"][
        "normalized_cidr"] == "203.0.113.0/24"
    icmp = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                   protocol="icmp", port_range_min=8, port_range_max=0)
    assert (icmp.port_range_min, icmp.port_range_max) == (8, 0)
    duplicate = neutron(cloud, conn, "POST", "/security-group-rules", json={"security_group_rule": {
        "security_group_id": group.id, "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
        "port_range_max": 443, "remote_ip_prefix": "203.0.113.0/24"}})
    assert duplicate.status_code == 409 and duplicate.json()["NeutronError"]["type"] == "SecurityGroupRuleExists"
    for body, kind in (({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
                        "SecurityGroupInvalidPortRange"),
                       ({"protocol": "tcp", "port_range_min": 70000, "port_range_max": 70000},
                        "SecurityGroupInvalidPortValue"),
                       ({"protocol": "tcp", "port_range_max": 6}, "SecurityGroupInvalidPortRange"),
                       ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue"),
                       ({"protocol": "icmp", "port_range_max": 6}, "SecurityGroupMissingIcmpType"),
                       ({"port_range_min": 22, "port_range_max": 22}, "SecurityGroupProtocolRequiredWithPorts"),
                       ({"protocol": "tcp", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": group.id},
                        "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
                       ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, "Invalid"),
                       ({"protocol": "carrier-pigeon"}, "Invalid")):
        response = neutron(cloud, conn, "POST", "/security-group-rules", json={"security_group_rule": {
            "security_group_id": group.id, "direction": "ingress", **body}})
        assert response.status_code == 400 and response.json()["NeutronError"]["type"] == kind, (body, response.text)
    assert len(list(conn.network.security_group_rules(security_group_id=group.id))) == 4
    conn.network.delete_security_group_rule(rule)
    assert len(conn.network.get_security_group(group).security_group_rules) == 3
    conn.network.delete_security_group(group)


def test_ports_and_groups(conn, cloud):
    net = conn.network.create_network(name="sg-net")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.80.0.0/24")
    group = conn.network.create_security_group(name="db")
    port = conn.network.create_port(network_id=net.id)
    assert port.security_group_ids == [default_group(conn).id]
    port = conn.network.update_port(port, security_group_ids=[group.id])
    assert port.security_group_ids == [group.id]
    with pytest.raises(sdk_exceptions.ConflictException):
        conn.network.delete_security_group(group)  # in use
    refused = neutron(cloud, conn, "PUT", f"/ports/{port.id}", json={"port": {"port_security_enabled": False}})
    assert refused.status_code == 400 and "security group" in refused.text
    open_port = conn.network.update_port(port, port_security_enabled=False, security_group_ids=[])
    assert open_port.security_group_ids == [] and open_port.is_port_security_enabled is False
    unsecured = conn.network.create_port(network_id=net.id, port_security_enabled=False)
    assert unsecured.security_group_ids == []
    _, tenant = member_of_new_project(conn, "sg-other")
    assert group.id not in {g.id for g in tenant.network.security_groups()}
    shared = conn.network.create_network(name="sg-shared", shared=True)
    conn.network.create_subnet(network_id=shared.id, ip_version=4, cidr="10.81.0.0/24")
    with pytest.raises(sdk_exceptions.NotFoundException):
        tenant.network.create_port(network_id=shared.id, security_group_ids=[group.id])
    for made in (port, unsecured):
        conn.network.delete_port(made)
    for made in (net, shared):
        conn.network.delete_network(made)
    conn.network.delete_security_group(group)
    tenant.close()


def test_openstack_cli(cloud_env):
    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args, "-f", "json"],
                                env=cloud_env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    group = cli("security", "group", "create", "cli-ssh")
    rule = cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--ingress",
               "cli-ssh")
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    assert rule["id"] in [r["ID"] for r in cli("security", "group", "rule", "list", group["id"])]
    subprocess.run([sys.executable, "-m", "openstackclient.shell", "security", "group", "delete", "cli-ssh"],
                   env=cloud_env, check=True, timeout=120)
