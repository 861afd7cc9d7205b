"""Guests for the data-plane tests: a network namespace per port, plugged the way a compute
host plugs a guest (the plugin's ``plug``), addressed statically or by DHCP."""

from __future__ import annotations

import ipaddress
import subprocess
import time
from pathlib import Path

from stratus.interfaces.network import FixedIP, Port, PortBinding

FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode(), end='')"
SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
exit 0
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


class Guest:
    """Namespace ``name`` holding ``port``'s guest-side device."""

    def __init__(self, plugin, port, name: str, host_netns: str | None = None) -> None:
        self.plugin, self.name = plugin, name
        self.port = Port(id=port.id, network_id=port.network_id, project_id=port.project_id,
                         mac_address=port.mac_address,
                         fixed_ips=tuple(FixedIP(f["subnet_id"], f["ip_address"]) for f in port.fixed_ips))
        self.binding = PortBinding(port.binding_vif_type, port.binding_vif_details)
        sh("ip", "netns", "add", name)
        self.device = plugin.plug(self.port, self.binding, f"instance-{name}")
        inside = ["ip", "netns", "exec", host_netns] if host_netns else []
        sh(*inside, "ip", "link", "set", self.device, "netns", name)
        self.run("ip", "link", "set", "lo", "up")
        self.run("ip", "link", "set", self.device, "up")

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.name, *argv, check=check)

    def address(self, cidr: str, gateway: str | None = None) -> str:
        """Configure the port's fixed IP statically (prefix from ``cidr``)."""
        ip = self.port.fixed_ips[0].ip_address
        self.run("ip", "addr", "add", f"{ip}/{ipaddress.ip_network(cidr).prefixlen}", "dev", self.device)
        if gateway:
            self.run("ip", "route", "replace", "default", "via", gateway)
        return ip

    def dhcp(self, workdir: Path) -> str | None:
        """Ask DHCP for an address (busybox udhcpc); return the one configured, if any."""
        script = workdir / "udhcpc.sh"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        self.run("busybox", "udhcpc", "-i", self.device, "-n", "-q", "-t", "5", "-T", "1", "-s", str(script),
                 check=False)
        out = self.run("ip", "-4", "-o", "addr", "show", "dev", self.device).stdout.split()
        return out[out.index("inet") + 1].split("/")[0] if "inet" in out else None

    def pings(self, address: str, attempts: int = 1) -> bool:
        for _ in range(attempts):
            if self.run("busybox", "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0:
                return True
        return False

    def serve(self, workdir: Path, port: int = 8080) -> subprocess.Popen:
        """An HTTP server in the guest whose /name answers the guest's name."""
        root = workdir / self.name
        root.mkdir()
        (root / "name").write_text(self.name)
        self.server = subprocess.Popen(["ip", "netns", "exec", self.name, "python3", "-m", "http.server", str(port),
                                        "--bind", "0.0.0.0", "--directory", str(root)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.server

    def fetch(self, url: str) -> str | None:
        done = self.run("python3", "-c", FETCH, url, check=False)
        return done.stdout if done.returncode == 0 else None

    def remove(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.kill()
            server.wait()
        sh("ip", "netns", "delete", self.name, check=False)
        self.plugin.unplug(self.port, self.binding, f"instance-{self.name}")


def wait(predicate, timeout: float = 30, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
