"""The flow table the agent computes, checked without a switch."""

from __future__ import annotations

import pytest
from stratus_ovs import flows


def _covered(masks: list[str]) -> set[int]:
    result = set()
    for m in masks:
        if "/" in m:
            value, mask = (int(x, 16) for x in m.split("/"))
            result |= {p for p in range(65536) if p & mask == value}
        else:
            result.add(int(m))
    return result


@pytest.mark.parametrize("low,high", [(22, 22), (1000, 1999), (1, 65535), (0, 65535), (8080, 8090), (5, 1024)])
def test_port_masks_cover_exactly_the_range(low, high):
    masks = flows.port_masks(low, high)
    if (low, high) == (0, 65535):
        assert masks == []
    else:
        assert _covered(masks) == set(range(low, high + 1))


def test_a_rule_becomes_matches_per_remote_member_and_version():
    rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_group_id": "g"}
    matches = flows.rule_matches(rule, {"g": ["10.0.0.5", "fd00::5", "10.0.0.6"]})
    assert matches == ["tcp,tp_dst=22,nw_src=10.0.0.5", "tcp,tp_dst=22,nw_src=10.0.0.6"]
    assert flows.rule_matches(rule, {"g": []}) == []  # an empty group admits nobody
    icmp = {"direction": "egress", "ethertype": "IPv6", "protocol": "ipv6-icmp", "port_range_min": 128,
            "port_range_max": 0, "remote_ip_prefix": "fd00::/64"}
    assert flows.rule_matches(icmp, {}) == ["icmp6,icmp_type=128,icmp_code=0,ipv6_dst=fd00::/64"]
    assert flows.rule_matches({"direction": "egress", "ethertype": "IPv4", "protocol": None}, {}) == ["ip"]


def _port(port_id: str, mac: str, ip: str, groups=(), secured=True, owner="compute:nova"):
    return {"id": port_id, "mac_address": mac, "fixed_ips": [{"subnet_id": "s", "ip_address": ip}],
            "allowed_address_pairs": [], "security_groups": list(groups), "port_security_enabled": secured,
            "device_owner": owner, "admin_state_up": True, "network_id": "n"}


def test_lookups_stay_within_a_network_and_rules_are_per_port():
    a = flows.LocalPort(_port("a", "fa:16:3e:00:00:01", "10.0.0.2", ["g"]), 1, 1)
    b = flows.LocalPort(_port("b", "fa:16:3e:00:00:02", "10.0.0.3", ["g"]), 2, 2)
    router = flows.LocalPort(_port("r", "fa:16:3e:00:00:03", "10.0.0.1", secured=False,
                                   owner="network:router_interface"), 3, 1)
    groups = {"g": {"rules": [{"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp"}]}}
    table = flows.build([a, b, router], groups, {})
    text = "\n".join(table.flows)
    assert "table=30,priority=100,reg6=1,dl_dst=fa:16:3e:00:00:01,actions=load:1->NXM_NX_REG5[]" in text
    assert "table=30,priority=100,reg6=2,dl_dst=fa:16:3e:00:00:02" in text
    assert "reg6=1,dl_dst=fa:16:3e:00:00:02" not in text  # b is not reachable from network 1
    assert "reg6=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:1,output:3" in text
    assert "in_port=3,actions=load:1->NXM_NX_REG6[],goto_table:30" in text  # router ports skip anti-spoofing
    assert "table=10,priority=100,ip,in_port=1,dl_src=fa:16:3e:00:00:01,nw_src=10.0.0.2,actions=goto_table:20" in text
    assert set(table.rules_by_zone) == {1, 2}
    assert table.rules_by_zone[1] == {"table=41,priority=100,ct_state=+new-est+trk,reg5=1,icmp,"
                                      "actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:1"}
