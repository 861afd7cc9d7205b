"""The integration bridge's whole OpenFlow table, computed from a host's state.

The bridge runs in secure fail mode and forwards only what these flows say: there is no
``NORMAL`` learning switch. The agent knows every port of the host, so L2 forwarding is a
lookup of the destination MAC within the packet's network, and isolation between
networks is that every lookup is keyed by the network's local id (``reg6``).

Security groups are enforced here, with Open vSwitch's connection tracker (the
``ct()`` action, which the userspace datapath implements too), not with iptables: with
OVS, bridged frames never pass through iptables unless every port gets an extra Linux
bridge and the kernel's br_netfilter (which hosts without modules lack), and flows keep
one enforcement point per port on every datapath. One conntrack zone per network (its
local id), as Neutron's ``openvswitch`` firewall driver does.

Tables::

    0   classify: in_port -> reg6 = network local id; secured ports to 10, others to 30
    10  egress anti-spoofing (port security): the port's MAC/IPs, allowed address pairs,
        DHCP requests, IPv6 neighbour discovery; DHCP server replies from a port dropped
    20  egress conntrack lookup (zone = reg6)
    21  egress security-group rules; established/related pass; +new committed if allowed
    30  L2 lookup in network reg6: unicast -> reg5 = destination ofport; broadcast and
        multicast flooded to the network's local ports
    40  ingress: unsecured destinations output at once; secured ones to conntrack
    41  ingress security-group rules, as 21
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CT_ZONE = "NXM_NX_REG6[0..15]"
TP_PROTOCOLS = {"tcp": ("tcp", "tcp6"), "udp": ("udp", "udp6"), "sctp": ("sctp", "sctp6"),
                "6": ("tcp", "tcp6"), "17": ("udp", "udp6"), "132": ("sctp", "sctp6")}
ICMP = {"icmp", "1", "icmpv6", "ipv6-icmp", "58"}
ND_TYPES = (130, 131, 132, 133, 134, 135, 136, 143)


@dataclass(frozen=True)
class LocalPort:
    """A Neutron port plugged into this host's bridge."""

    port: Mapping[str, Any]
    ofport: int
    lid: int

    @property
    def secured(self) -> bool:
        return bool(self.port.get("port_security_enabled")) and not str(self.port.get("device_owner", "")
                                                                          ).startswith("network:")


@dataclass(frozen=True)
class Tunnel:
    """Where a VXLAN network's ports on other hosts are: MAC -> their host's tunnel address,
    and every such host (broadcast and multicast are replicated to each)."""

    lid: int
    vni: int
    remote_macs: Mapping[str, str]
    remote_hosts: tuple[str, ...]


@dataclass
class FlowSet:
    flows: list[str] = field(default_factory=list)
    #: security-group flows per conntrack zone, to find zones whose rules shrank
    rules_by_zone: dict[int, set[str]] = field(default_factory=dict)

    def add(self, flow: str) -> None:
        self.flows.append(flow)

    def rule(self, zone: int, flow: str) -> None:
        self.flows.append(flow)
        self.rules_by_zone.setdefault(zone, set()).add(flow)


def port_masks(low: int, high: int) -> list[str]:
    """``low``..``high`` as the fewest value/mask pairs OpenFlow can match."""
    if low == 0 and high == 65535:
        return []
    result = []
    while low <= high:
        size = low & -low if low else 1 << 16
        while size > 1 and low + size - 1 > high:
            size >>= 1
        result.append(f"{low}" if size == 1 else f"0x{low:04x}/0x{(0xFFFF ^ (size - 1)):04x}")
        low += size
    return result


def _version(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def rule_matches(rule: Mapping[str, Any], members: Mapping[str, list[str]]) -> list[str]:
    """The OpenFlow matches (without ports or ct_state) of one security-group rule."""
    v6 = rule["ethertype"] == "IPv6"
    protocol = (rule.get("protocol") or "").lower()
    if protocol in ("", "any"):
        base = ["ipv6" if v6 else "ip"]
    elif protocol in TP_PROTOCOLS:
        name = TP_PROTOCOLS[protocol][v6]
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        masks = port_masks(low, high if high is not None else low) if low is not None else []
        base = [f"{name},tp_dst={m}" for m in masks] or [name]
    elif protocol in ICMP:
        match = "icmp6" if v6 else "icmp"
        if rule.get("port_range_min") is not None:
            match += f",icmp_type={rule['port_range_min']}"
            if rule.get("port_range_max") is not None:
                match += f",icmp_code={rule['port_range_max']}"
        base = [match]
    else:
        base = [f"{'ipv6' if v6 else 'ip'},nw_proto={int(protocol)}"]
    ingress = rule["direction"] == "ingress"
    field_name = ("ipv6_src" if v6 else "nw_src") if ingress else ("ipv6_dst" if v6 else "nw_dst")
    remotes: list[str | None]
    if rule.get("remote_group_id"):
        remotes = [a for a in members.get(rule["remote_group_id"], []) if _version(a) == (6 if v6 else 4)]
        if not remotes:
            return []
    elif rule.get("remote_ip_prefix"):
        remotes = [str(ipaddress.ip_network(rule["remote_ip_prefix"], strict=False))]
    else:
        remotes = [None]
    return [f"{b},{field_name}={r}" if r else b for b in base for r in remotes]


def _allowed(port: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(MAC, address or CIDR) pairs the port may send from."""
    mac = port["mac_address"]
    pairs = [(mac, f["ip_address"]) for f in port.get("fixed_ips", [])]
    pairs += [(p.get("mac_address") or mac, p["ip_address"]) for p in port.get("allowed_address_pairs", [])]
    return pairs


def _link_local(mac: str) -> str:
    octets = [int(b, 16) for b in mac.split(":")]
    octets[0] ^= 2
    eui = [*octets[:3], 255, 254, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def build(ports: Iterable[LocalPort], groups: Mapping[str, Mapping[str, Any]],
          members: Mapping[str, list[str]], tunnel_port: int | None = None,
          tunnels: Iterable[Tunnel] = ()) -> FlowSet:
    """Every flow of the integration bridge for ``ports`` (security groups from ``groups``,
    remote-group addresses from ``members``), and VXLAN to other hosts through
    ``tunnel_port`` (a ``remote_ip=flow key=flow`` port) for ``tunnels``.

    Frames from the tunnel carry ``reg7=1``: they are delivered to local ports only (never
    flooded back into the tunnel), after the ingress rules of their destination; egress rules
    ran on the sending host."""
    out = FlowSet()
    ports = [p for p in ports if p.ofport > 0]
    by_network: dict[int, list[LocalPort]] = {}
    for lp in ports:
        by_network.setdefault(lp.lid, []).append(lp)
    out.add("table=0,priority=0,actions=drop")
    for table in (10, 21, 30, 40, 41):
        out.add(f"table={table},priority=0,actions=drop")
    for lp in ports:
        if not lp.port.get("admin_state_up", True):
            continue
        nxt = 10 if lp.secured else 30
        out.add(f"table=0,priority=100,in_port={lp.ofport},actions=load:{lp.lid}->NXM_NX_REG6[],goto_table:{nxt}")
        if lp.secured:
            _egress(out, lp, groups, members)
            _ingress(out, lp, groups, members)
        else:
            out.add(f"table=40,priority=100,reg5={lp.ofport},actions=output:{lp.ofport}")
        macs = {lp.port["mac_address"]} | {p.get("mac_address") or lp.port["mac_address"]
                                            for p in lp.port.get("allowed_address_pairs", [])}
        for mac in sorted(macs):
            out.add(f"table=30,priority=100,reg6={lp.lid},dl_dst={mac},"
                    f"actions=load:{lp.ofport}->NXM_NX_REG5[],goto_table:40")
    remote = {t.lid: t for t in tunnels} if tunnel_port else {}
    multicast = "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"
    for lid, members_here in sorted(by_network.items()):
        outputs = ",".join(f"output:{p.ofport}" for p in sorted(members_here, key=lambda p: p.ofport)
                           if p.port.get("admin_state_up", True)) or "drop"
        tunnel = remote.get(lid)
        if tunnel is None:
            out.add(f"table=30,priority=50,reg6={lid},{multicast},actions={outputs}")
            continue
        out.add(f"table=0,priority=100,in_port={tunnel_port},tun_id={tunnel.vni},"
                f"actions=load:{lid}->NXM_NX_REG6[],load:1->NXM_NX_REG7[],goto_table:30")
        out.add(f"table=30,priority=60,reg6={lid},reg7=1,{multicast},actions={outputs}")
        replicas = "".join(f",set_field:{ip}->tun_dst,output:{tunnel_port}" for ip in tunnel.remote_hosts)
        flood = f"{outputs + ',' if outputs != 'drop' else ''}set_field:{tunnel.vni}->tun_id{replicas}"
        out.add(f"table=30,priority=50,reg6={lid},{multicast},actions={flood}")
        for mac, ip in sorted(tunnel.remote_macs.items()):
            out.add(f"table=30,priority=90,reg6={lid},reg7=0,dl_dst={mac},"
                    f"actions=set_field:{tunnel.vni}->tun_id,set_field:{ip}->tun_dst,output:{tunnel_port}")
    for ip in ("ip", "ipv6"):
        out.add(f"table=20,priority=100,{ip},actions=ct(table=21,zone={CT_ZONE})")
    for table, then in ((21, "goto_table:30"), (41, "output:NXM_NX_REG5[]")):
        out.add(f"table={table},priority=200,ct_state=+est-rel-inv+trk,actions={then}")
        out.add(f"table={table},priority=200,ct_state=-new+rel-inv+trk,actions={then}")
        out.add(f"table={table},priority=190,ct_state=+inv+trk,actions=drop")
    return out


def _egress(out: FlowSet, lp: LocalPort, groups: Mapping[str, Mapping[str, Any]],
            members: Mapping[str, list[str]]) -> None:
    p, mac = lp.ofport, lp.port["mac_address"]
    out.add(f"table=10,priority=120,udp,in_port={p},tp_src=67,actions=drop")
    out.add(f"table=10,priority=120,udp6,in_port={p},tp_src=547,actions=drop")
    out.add(f"table=10,priority=110,udp,in_port={p},dl_src={mac},tp_src=68,tp_dst=67,actions=goto_table:30")
    out.add(f"table=10,priority=110,udp6,in_port={p},dl_src={mac},tp_src=546,tp_dst=547,actions=goto_table:30")
    for icmp_type in ND_TYPES:
        out.add(f"table=10,priority=110,icmp6,in_port={p},dl_src={mac},icmp_type={icmp_type},actions=goto_table:30")
    pairs = [*_allowed(lp.port), (mac, _link_local(mac))]
    for src_mac, address in pairs:
        if _version(address) == 4:
            out.add(f"table=10,priority=100,arp,in_port={p},dl_src={src_mac},arp_sha={src_mac},arp_spa={address},"
                    "actions=goto_table:30")
            out.add(f"table=10,priority=100,ip,in_port={p},dl_src={src_mac},nw_src={address},actions=goto_table:20")
        else:
            out.add(f"table=10,priority=100,ipv6,in_port={p},dl_src={src_mac},ipv6_src={address},"
                    "actions=goto_table:20")
    _rules(out, lp, groups, members, "egress", f"in_port={p}", "goto_table:30")


def _ingress(out: FlowSet, lp: LocalPort, groups: Mapping[str, Mapping[str, Any]],
             members: Mapping[str, list[str]]) -> None:
    p = lp.ofport
    out.add(f"table=40,priority=100,arp,reg5={p},actions=output:{p}")
    out.add(f"table=40,priority=100,udp,reg5={p},tp_src=67,tp_dst=68,actions=output:{p}")
    out.add(f"table=40,priority=100,udp6,reg5={p},tp_src=547,tp_dst=546,actions=output:{p}")
    for icmp_type in ND_TYPES:
        out.add(f"table=40,priority=100,icmp6,reg5={p},icmp_type={icmp_type},actions=output:{p}")
    for ip in ("ip", "ipv6"):
        out.add(f"table=40,priority=90,{ip},reg5={p},actions=ct(table=41,zone={CT_ZONE})")
    _rules(out, lp, groups, members, "ingress", f"reg5={p}", f"output:{p}")


def _rules(out: FlowSet, lp: LocalPort, groups: Mapping[str, Mapping[str, Any]], members: Mapping[str, list[str]],
           direction: str, port_match: str, then: str) -> None:
    table = 21 if direction == "egress" else 41
    seen: set[str] = set()
    for group_id in lp.port.get("security_groups", []):
        for rule in groups.get(group_id, {}).get("rules", []):
            if rule["direction"] != direction:
                continue
            for match in rule_matches(rule, members):
                if match in seen:
                    continue
                seen.add(match)
                out.rule(lp.lid, f"table={table},priority=100,ct_state=+new-est+trk,{port_match},{match},"
                                 f"actions=ct(commit,zone={CT_ZONE}),{then}")
