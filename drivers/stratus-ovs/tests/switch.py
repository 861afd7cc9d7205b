"""A private Open vSwitch (ovsdb-server + ovs-vswitchd) for the tests, all state in one directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

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
