"""For tests and benches of Stratus with Open vSwitch (this package's and other packages', e.g. real
guests of stratus-libvirt on a switch): a private Open vSwitch (ovsdb-server + ovs-vswitchd, all
state in one directory) and guests made of network namespaces, plugged the way a compute host plugs
a guest (the plugin's ``plug``), addressed statically or by DHCP."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from stratus.interfaces.network import FixedIP, Port, PortBinding
from stratus_ovs.dhcp import alive

NEEDED = ("ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl", "ovs-ofctl", "dnsmasq", "ip", "ethtool",
          "iptables-restore", "busybox")
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def missing() -> str | None:
    """Why the data-plane tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs)"
    absent = [name for name in NEEDED if shutil.which(name) is None and not os.path.exists(f"/usr/sbin/{name}")]
    if absent:
        return (f"missing {', '.join(absent)} "
                "(Debian: openvswitch-switch dnsmasq-base iproute2 ethtool iptables busybox)")
    if not os.path.exists(SCHEMA):
        return f"no OVSDB schema at {SCHEMA}"
    return None


class Switch:
    """``ovsdb-server`` and ``ovs-vswitchd`` started in ``directory``; :meth:`stop` ends both."""

    def __init__(self, directory: Path, netns: str | None = None) -> None:
        self.dir, self.netns = directory, netns
        inside = ["ip", "netns", "exec", netns] if netns else []
        self.db_sock = f"unix:{directory}/db.sock"
        env = {**os.environ, "OVS_RUNDIR": str(directory), "OVS_LOGDIR": str(directory),
               "OVS_DBDIR": str(directory), "OVS_SYSCONFDIR": str(directory)}
        self.env = env
        subprocess.run(["ovsdb-tool", "create", f"{directory}/conf.db", SCHEMA], check=True, env=env)
        subprocess.run(["ovsdb-server", f"{directory}/conf.db", f"--remote=punix:{directory}/db.sock",
                        f"--pidfile={directory}/ovsdb-server.pid", f"--log-file={directory}/ovsdb-server.log",
                        "-vconsole:off", "--detach", "--no-chdir"], check=True, env=env)
        subprocess.run(["ovs-vsctl", f"--db={self.db_sock}", "--no-wait", "init"], check=True, env=env)
        subprocess.run([*inside, "ovs-vswitchd", self.db_sock, f"--pidfile={directory}/ovs-vswitchd.pid",
                        f"--log-file={directory}/ovs-vswitchd.log", "-vconsole:off", "--detach", "--no-chdir"],
                       check=True, env=env)
        subprocess.run(["ovs-vsctl", f"--db={self.db_sock}", "--timeout=10", "wait-until", "Open_vSwitch", ".",
                        "cur_cfg>=0"], check=False, env=env, capture_output=True)

    def vsctl(self, *args: str) -> str:
        return subprocess.run(["ovs-vsctl", f"--db={self.db_sock}", "--timeout=10", *args], check=True,
                              env=self.env, capture_output=True, text=True).stdout

    def config(self, **extra: str) -> str:
        lines = [f"{k} = {v}" for k, v in extra.items()]
        if self.netns:
            lines.append(f"root_helper = ip netns exec {self.netns}")
        return (f"[ovs]\ndatapath_type = netdev\novsdb_connection = {self.db_sock}\n"
                f"ovs_rundir = {self.dir}\nreport_interval = 2\nresync_interval = 5\n" + "\n".join(lines) + "\n")

    def _pid(self, name: str) -> int | None:
        """The daemon's pid from its pidfile, or None: the file goes away as the daemon exits
        (so it is read once, never checked and then read)."""
        try:
            return int((self.dir / f"{name}.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self) -> None:
        """Remove every bridge and the datapath (their tap devices outlive a plain SIGTERM),
        then stop both daemons, whatever moment of their exit each is at."""
        pids = {name: self._pid(name) for name in ("ovs-vswitchd", "ovsdb-server")}
        switch = pids["ovs-vswitchd"]
        if switch is not None and alive(switch):
            subprocess.run(["ovs-vsctl", f"--db={self.db_sock}", "--timeout=10", "--", "--if-exists", "del-br",
                            "br-int", "--", "--if-exists", "del-br", "br-phy"], env=self.env, capture_output=True)
            subprocess.run(["ovs-appctl", "-t", str(self.dir / f"ovs-vswitchd.{switch}.ctl"), "exit", "--cleanup"],
                           env=self.env, capture_output=True, timeout=30)
        for pid in pids.values():
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(200):
                if not alive(pid):
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)

FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode(), end='')"
SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
exit 0
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


class NamespaceGuest:
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
                                        "--bind", "0.0.0.0", "--directory", str(root)],  # noqa: S104 - in its namespace
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
