"""DHCP for one network: dnsmasq in the network's namespace, serving fixed addresses only.

Every address is the port's own (``static`` ranges: a MAC the hosts file does not list gets
nothing), so DHCP can never hand out an address IPAM did not allocate. Host entries and
options are files dnsmasq re-reads on SIGHUP; the process restarts only when its
command line (subnets) changes.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stratus_ovs import ovs

LOG = logging.getLogger(__name__)


def namespace(network_id: str) -> str:
    return f"qdhcp-{network_id}"


def _tag(subnet_id: str) -> str:
    return "s" + subnet_id.replace("-", "")[:20]


class Dnsmasq:
    def __init__(self, host: ovs.Host, directory: str, network: Mapping[str, Any], interface: str,
                 lease: str) -> None:
        self.host = host
        self.dir, self.network, self.interface, self.lease = directory, network, interface, lease
        self.subnets = [s for s in network["subnets"] if s["enable_dhcp"] and s["ip_version"] == 4]

    @property
    def pid_file(self) -> str:
        return os.path.join(self.dir, "pid")

    def _argv(self) -> list[str]:
        argv = ["dnsmasq", "--no-hosts", "--no-resolv", "--port=0", "--no-ping", "--bind-interfaces",
                f"--interface={self.interface}", "--except-interface=lo", f"--pid-file={self.pid_file}",
                f"--dhcp-hostsfile={os.path.join(self.dir, 'host')}",
                f"--dhcp-optsfile={os.path.join(self.dir, 'opts')}",
                f"--dhcp-leasefile={os.path.join(self.dir, 'leases')}", "--dhcp-authoritative",
                "--conf-file=/dev/null", "--user=root", "--group=root",
                f"--dhcp-lease-max={2 ** 16}"]
        for subnet in self.subnets:
            net = ipaddress.ip_network(subnet["cidr"])
            argv.append(f"--dhcp-range=set:{_tag(subnet['id'])},{net.network_address},static,{net.netmask},"
                        f"{self.lease}")
        return argv

    def write(self, neighbours: list[Mapping[str, Any]]) -> None:
        """Host entries for every port of the network with an address in a DHCP subnet."""
        os.makedirs(self.dir, exist_ok=True)
        ids = {s["id"] for s in self.subnets}
        hosts, opts = [], []
        for port in sorted(neighbours, key=lambda p: p["mac_address"]):
            if port["device_owner"].startswith("network:") or not port.get("admin_state_up", True):
                continue
            for fixed in port["fixed_ips"]:
                if fixed["subnet_id"] in ids:
                    name = "host-" + fixed["ip_address"].replace(".", "-")
                    hosts.append(f"{port['mac_address']},{name},{fixed['ip_address']}")
        for subnet in self.subnets:
            tag = _tag(subnet["id"])
            opts.append(f"tag:{tag},option:router{',' + subnet['gateway_ip'] if subnet['gateway_ip'] else ''}")
            if subnet["dns_nameservers"]:
                opts.append(f"tag:{tag},option:dns-server,{','.join(subnet['dns_nameservers'])}")
            if subnet["host_routes"]:
                routes = [f"{r['destination']},{r['nexthop']}" for r in subnet["host_routes"]]
                if subnet["gateway_ip"]:
                    routes.append(f"0.0.0.0/0,{subnet['gateway_ip']}")
                opts.append(f"tag:{tag},option:classless-static-route,{','.join(routes)}")
            opts.append(f"tag:{tag},option:mtu,{self.network['mtu']}")
        self._replace("host", "\n".join(hosts) + "\n")
        self._replace("opts", "\n".join(opts) + "\n")
        self._replace("argv", "\0".join(self._argv()))

    def _replace(self, name: str, text: str) -> None:
        path = os.path.join(self.dir, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def pid(self) -> int | None:
        try:
            pid = int(Path(self.pid_file).read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
        except (OSError, ValueError):
            return None
        return pid if self.pid_file in cmdline else None

    def ensure(self) -> None:
        """Start dnsmasq, restart it if its command line changed, else make it re-read its files."""
        argv = self._argv()
        pid = self.pid()
        if pid is not None:
            current = Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")
            if current == argv:
                os.kill(pid, signal.SIGHUP)
                return
            stop_pid(pid)
        self.host.run(argv, netns=namespace(self.network["id"]))
        LOG.info("dnsmasq started for network %s", self.network["id"])


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: dnsmasq daemonises, so whoever reaps it is not us)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid: int) -> None:
    """SIGTERM, then SIGKILL after 2.5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not alive(pid):
                return
            time.sleep(0.05)
