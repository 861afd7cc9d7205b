"""What host agents get from the networking service (``stratus.network.agents``)."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from stratus.network import models
from stratus.network.agents import DHCP_OWNER, AgentEndpoint
from stratus.network.api.common import now
from stratus.network.service import NetworkService


def _service(conf, db):
    service = NetworkService(conf, db)
    notices = []
    return AgentEndpoint(service, lambda: notices.append(1)), notices


def _report(endpoint, host, **configurations):
    return endpoint.report_state(None, host=host, agent_type="test agent", binary="b", topic="t",
                                 configurations=configurations)


def _topology(db):
    t = now()
    with db.transaction() as session:
        session.add(models.Network(id="net", project_id="p", name="n", created_at=t, updated_at=t))
        session.add(models.Subnet(id="sub", project_id="p", network_id="net", ip_version=4, cidr="10.0.0.0/24",
                                  gateway_ip="10.0.0.1", enable_dhcp=True, created_at=t, updated_at=t,
                                  pools=[models.AllocationPool(position=0, first_ip="10.0.0.2", last_ip="10.0.0.9")]))
        session.add(models.SecurityGroup(id="sg", project_id="p", name="sg", created_at=t, updated_at=t, rules=[
            models.SecurityGroupRule(id="r1", project_id="p", direction="ingress", ethertype="IPv4", protocol="tcp",
                                     port_range_min=22, port_range_max=22, remote_group_id="sg",
                                     created_at=t, updated_at=t)]))
        session.flush()
        for n, host in ((1, "h1"), (2, "h2")):
            session.add(models.Port(id=f"vm{n}", project_id="p", network_id="net", mac_address=f"fa:16:3e:00:00:0{n}",
                                    binding_host_id=host, created_at=t, updated_at=t,
                                    fixed_ips=[models.IpAllocation(subnet_id="sub", ip_address=f"10.0.0.{4 + n}",
                                                                   network_id="net")],
                                    security_groups=[models.PortSecurityGroup(security_group_id="sg")]))
        session.add(models.Port(id="rp", project_id="p", network_id="net", mac_address="fa:16:3e:00:00:aa",
                                device_owner="network:router_interface", device_id="router", created_at=t,
                                updated_at=t, fixed_ips=[models.IpAllocation(subnet_id="sub", ip_address="10.0.0.1",
                                                                             network_id="net")]))
        session.flush()
        session.add(models.Router(id="router", project_id="p", name="r", created_at=t, updated_at=t,
                                  interfaces=[models.RouterPort(port_id="rp")]))


def test_a_host_gets_its_ports_their_network_groups_and_a_dhcp_port(conf, network_db):
    endpoint, notices = _service(conf, network_db)
    _topology(network_db)
    assert _report(endpoint, "h1", dhcp=True, l3=True)["agent_id"]
    assert notices == [1]  # a new agent makes every agent resync
    _report(endpoint, "h1", dhcp=True, l3=True)
    assert notices == [1]  # a heartbeat does not
    state = endpoint.sync_host(None, host="h1")
    ports = {p["id"]: p for p in state["ports"]}
    dhcp = [p for p in ports.values() if p["device_owner"] == DHCP_OWNER]
    assert set(ports) == {"vm1", dhcp[0]["id"]}
    assert dhcp[0]["fixed_ips"][0]["subnet_id"] == "sub"
    assert set(state["networks"]) == {"net"} and state["networks"]["net"]["subnets"][0]["cidr"] == "10.0.0.0/24"
    assert state["security_groups"]["sg"]["rules"][0]["port_range_min"] == 22
    assert sorted(state["group_members"]["sg"]) == ["10.0.0.5", "10.0.0.6"]
    assert [r["id"] for r in state["routers"]] == ["router"]
    assert {n["port_id"]: n["host"] for n in state["neighbours"]["net"]}["vm2"] == "h2"
    again = endpoint.sync_host(None, host="h1")
    assert [p["id"] for p in again["ports"] if p["device_owner"] == DHCP_OWNER] == [dhcp[0]["id"]]
    with network_db.transaction() as session:
        session.get(models.Subnet, "sub").enable_dhcp = False
    assert not [p for p in endpoint.sync_host(None, host="h1")["ports"] if p["device_owner"] == DHCP_OWNER]
    with network_db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).where(models.Port.device_owner == DHCP_OWNER)) == 0


def test_routers_and_dhcp_only_on_live_agents_that_offer_them(conf, network_db):
    endpoint, _ = _service(conf, network_db)
    _topology(network_db)
    _report(endpoint, "h1", dhcp=False, l3=False)
    _report(endpoint, "h2", dhcp=False, l3=True)
    assert endpoint.sync_host(None, host="h1")["routers"] == []
    assert [r["id"] for r in endpoint.sync_host(None, host="h2")["routers"]] == ["router"]
    assert not [p for p in endpoint.sync_host(None, host="h1")["ports"] if p["device_owner"] == DHCP_OWNER]
    with network_db.transaction() as session:
        session.execute(sa.update(models.Agent).where(models.Agent.host == "h2")
                        .values(heartbeat_at=now() - datetime.timedelta(hours=1)))
    assert endpoint.sync_host(None, host="h2")["routers"] == []  # a silent agent hosts nothing


def test_port_status_follows_the_agent_of_its_host(conf, network_db):
    endpoint, _ = _service(conf, network_db)
    _topology(network_db)
    endpoint.update_port_status(None, host="h1", up=["vm1", "vm2"], down=[])
    with network_db.transaction() as session:
        assert session.get(models.Port, "vm1").status == "ACTIVE"
        assert session.get(models.Port, "vm2").status == "DOWN"  # not h1's to report
    endpoint.update_port_status(None, host="h1", up=[], down=["vm1"])
    with network_db.transaction() as session:
        assert session.get(models.Port, "vm1").status == "DOWN"
