"""A router: a network namespace with an interface per subnet, forwarding, static routes
(extraroute), and NAT.

Interfaces are ``qr-<port>`` (one per router interface port, the subnet's gateway
address) and ``qg-<port>`` (the gateway port on the external network, plus each floating
IP as a /32). iptables' nat table (the kernel's NAT, replaced whole with
``iptables-restore`` so it is never half-written) does the rest: each floating IP is a
DNAT to its fixed address and an SNAT back, and with ``enable_snat`` every other address
of the internal subnets leaves as the gateway address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from stratus_ovs import ovs


def namespace(router_id: str) -> str:
    return f"qrouter-{router_id}"


def prefixes(port: Mapping[str, Any], subnets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    result = []
    for fixed in port["fixed_ips"]:
        subnet = subnets.get(fixed["subnet_id"])
        if subnet is not None:
            result.append(f"{fixed['ip_address']}/{ipaddress.ip_network(subnet['cidr']).prefixlen}")
    return result


def addresses(router: Mapping[str, Any], subnets: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Interface name -> the addresses it must carry."""
    wanted: dict[str, list[str]] = {}
    for port in router["interfaces"]:
        wanted[f"qr-{port['id'][:11]}"] = prefixes(port, subnets)
    gateway = router.get("gateway")
    if gateway:
        gw_addresses = prefixes(gateway, subnets)
        gw_addresses += [f"{f['floating_ip_address']}/32" for f in router["floating_ips"]
                         if f"{f['floating_ip_address']}/32" not in gw_addresses]
        wanted[f"qg-{gateway['id'][:11]}"] = gw_addresses
    return wanted


def configure_addresses(host: ovs.Host, ns: str, device: str, wanted: list[str]) -> None:
    """Make ``wanted`` (address/prefix) the global addresses of ``device`` in ``ns``, and bring it up."""
    present = set()
    for line in host.run(["ip", "-o", "addr", "show", "dev", device], netns=ns).splitlines():
        parts = line.split()
        if parts[2] in ("inet", "inet6") and not parts[3].startswith("fe80:"):
            present.add(parts[3])
    for address in present - set(wanted):
        host.run(["ip", "addr", "del", address, "dev", device], netns=ns, check=False)
    for address in [a for a in wanted if a not in present]:
        host.run(["ip", "addr", "add", address, "dev", device], netns=ns)
    host.run(["ip", "link", "set", device, "up"], netns=ns)


def nat_rules(router: Mapping[str, Any], subnets: Mapping[str, Mapping[str, Any]]) -> str:
    """The router's whole nat table, in iptables-restore's format."""
    pre, post = [], []
    gateway = router.get("gateway")
    if gateway:
        device = f"qg-{gateway['id'][:11]}"
        for fip in sorted(router["floating_ips"], key=lambda f: f["floating_ip_address"]):
            pre.append(f"-A PREROUTING -d {fip['floating_ip_address']}/32 -j DNAT "
                       f"--to-destination {fip['fixed_ip_address']}")
            post.append(f"-A POSTROUTING -s {fip['fixed_ip_address']}/32 -o {device} -j SNAT "
                        f"--to-source {fip['floating_ip_address']}")
        gw_v4 = [f["ip_address"] for f in gateway["fixed_ips"] if ipaddress.ip_address(f["ip_address"]).version == 4]
        if router["enable_snat"] and gw_v4:
            for port in router["interfaces"]:
                for fixed in port["fixed_ips"]:
                    subnet = subnets.get(fixed["subnet_id"])
                    if subnet and subnet["ip_version"] == 4:
                        post.append(f"-A POSTROUTING -s {subnet['cidr']} -o {device} -j SNAT "
                                    f"--to-source {gw_v4[0]}")
    return "\n".join(["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                      ":POSTROUTING ACCEPT [0:0]", *pre, *post, "COMMIT", ""])


def configure(host: ovs.Host, router: Mapping[str, Any], subnets: Mapping[str, Mapping[str, Any]]) -> None:
    """Bring the namespace's addresses, default route and NAT to ``router`` (interfaces are
    already plugged)."""
    ns = namespace(router["id"])
    host.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], netns=ns)
    host.run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"], netns=ns, check=False)
    for device, wanted in addresses(router, subnets).items():
        if host.link_exists(device, ns):
            configure_addresses(host, ns, device, wanted)
    gateway = router.get("gateway")
    default = None
    if gateway:
        for fixed in gateway["fixed_ips"]:
            subnet = subnets.get(fixed["subnet_id"])
            if subnet and subnet["ip_version"] == 4 and subnet["gateway_ip"]:
                default = (subnet["gateway_ip"], f"qg-{gateway['id'][:11]}")
    if default:
        host.run(["ip", "route", "replace", "default", "via", default[0], "dev", default[1]], netns=ns)
    else:
        host.run(["ip", "route", "del", "default"], netns=ns, check=False)
    configure_routes(host, ns, router.get("routes", []))
    host.run(["iptables-restore"], input=nat_rules(router, subnets), netns=ns)


def configure_routes(host: ovs.Host, ns: str, routes: list[Mapping[str, str]]) -> None:
    """Make ``routes`` (extraroute) the namespace's static routes: every route through a
    next hop but the default one is ours, so one not wanted any more is removed."""
    wanted = {(r["destination"], r["nexthop"]) for r in routes}
    present = set()
    for family in ("-4", "-6"):
        for line in host.run(["ip", family, "-o", "route", "show"], netns=ns).splitlines():
            parts = line.split()
            if parts and parts[0] != "default" and "via" in parts:
                destination = parts[0]
                if "/" not in destination:  # ip shows a host route without its prefix length
                    destination = str(ipaddress.ip_network(destination))
                present.add((destination, parts[parts.index("via") + 1]))
    for destination, nexthop in present - wanted:
        host.run(["ip", "route", "del", destination, "via", nexthop], netns=ns, check=False)
    for destination, nexthop in sorted(wanted - present):
        host.run(["ip", "route", "replace", destination, "via", nexthop], netns=ns)
