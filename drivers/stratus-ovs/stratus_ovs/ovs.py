"""Open vSwitch through its own tools (ovs-vsctl, ovs-ofctl, ovs-appctl), and host commands.

Every command has a timeout and raises :class:`CommandFailed` naming the command and what
it printed, so an agent's log says exactly which step failed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.exceptions import BackendUnavailable

LOG = logging.getLogger(__name__)
TIMEOUT = 30


class CommandFailed(BackendUnavailable):
    pass


def run(argv: Sequence[str], *, check: bool = True, input: str | None = None, env: dict[str, str] | None = None
        ) -> str:
    """Run ``argv`` and return its stdout (:meth:`Host.run` adds the namespace and root helper)."""
    command = list(argv)
    try:
        done = subprocess.run(command, input=input, capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, **(env or {})})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandFailed(f"{' '.join(command)}: {exc}") from None
    if check and done.returncode != 0:
        raise CommandFailed(f"{' '.join(command)} exited {done.returncode}: {(done.stderr or done.stdout).strip()}")
    return done.stdout


@dataclass(frozen=True)
class OvsPort:
    name: str
    ofport: int
    external_ids: dict[str, str]


class Vswitch:
    """One Open vSwitch instance: its database and its daemon's run directory."""

    def __init__(self, db: str, rundir: str) -> None:
        self.db, self.rundir = db, rundir
        self.env = {"OVS_RUNDIR": rundir}

    def vsctl(self, *args: str) -> str:
        return run(["ovs-vsctl", f"--db={self.db}", f"--timeout={TIMEOUT}", *args], env=self.env)

    def ofctl(self, *args: str, input: str | None = None) -> str:
        return run(["ovs-ofctl", "-O", "OpenFlow14", *args], input=input, env=self.env)

    def appctl(self, *args: str) -> str:
        pid = Path(os.path.join(self.rundir, "ovs-vswitchd.pid")).read_text().strip()
        return run(["ovs-appctl", "-t", os.path.join(self.rundir, f"ovs-vswitchd.{pid}.ctl"), *args], env=self.env)

    def ensure_bridge(self, bridge: str, datapath_type: str) -> None:
        """Create ``bridge`` in secure fail mode (no flows: no traffic) if absent, and check
        that the datapath took it (``add-br`` succeeds even when the datapath refuses)."""
        self.vsctl("--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
                   f"datapath_type={datapath_type}", "fail_mode=secure",
                   "protocols=OpenFlow10,OpenFlow13,OpenFlow14")
        error = self.vsctl("get", "Interface", bridge, "error").strip()
        if error not in ("[]", ""):
            raise CommandFailed(f"bridge {bridge} ({datapath_type} datapath) does not work: {error}")

    def bridge_ids(self, bridge: str) -> dict[str, str]:
        return self._map(self.vsctl("--format=json", "--columns=external_ids", "list", "Bridge", bridge))

    def set_bridge_id(self, bridge: str, key: str, value: str) -> None:
        self.vsctl("br-set-external-id", bridge, key, value)

    @staticmethod
    def _map(listing: str) -> dict[str, str]:
        data = json.loads(listing)["data"]
        return dict(data[0][0][1]) if data else {}

    def ports(self, bridge: str) -> list[OvsPort]:
        """The interfaces of ``bridge`` other than its own, with ofport and external ids."""
        names = set(self.vsctl("list-ifaces", bridge).split())
        if not names:
            return []
        listing = json.loads(self.vsctl("--format=json", "--columns=name,ofport,external_ids", "list", "Interface",
                                        *sorted(names)))
        result = []
        for name, ofport, ids in listing["data"]:
            ofport = ofport if isinstance(ofport, int) else -1
            result.append(OvsPort(name, ofport, dict(ids[1])))
        return result

    def add_port(self, bridge: str, name: str, external_ids: dict[str, str]) -> None:
        settings = [f"external_ids:{k}={json.dumps(v)}" for k, v in external_ids.items()]
        self.vsctl("--may-exist", "add-port", bridge, name, "--", "set", "Interface", name, *settings)

    def del_port(self, bridge: str, name: str) -> None:
        self.vsctl("--if-exists", "del-port", bridge, name)

    def replace_flows(self, bridge: str, flows: list[str]) -> None:
        """Make ``flows`` the bridge's whole table in one bundle (no moment without rules)."""
        self.ofctl("--bundle", "replace-flows", bridge, "-", input="\n".join(flows) + "\n")

    def flush_conntrack(self, zone: int) -> None:
        self.appctl("dpctl/flush-conntrack", f"zone={zone}")


class Host:
    """Commands on this host's network stack, each prefixed with ``root_helper`` (``sudo``,
    or ``ip netns exec NS`` where the host's switch lives in a namespace)."""

    def __init__(self, root_helper: Sequence[str] = ()) -> None:
        self.prefix = list(root_helper)

    def run(self, argv: Sequence[str], *, check: bool = True, input: str | None = None,
            netns: str | None = None) -> str:
        inside = ["ip", "netns", "exec", netns] if netns else []
        return run([*self.prefix, *inside, *argv], check=check, input=input)

    def link_exists(self, name: str, netns: str | None = None) -> bool:
        return bool(self.run(["ip", "-o", "link", "show", name], check=False, netns=netns).strip())

    def namespaces(self) -> set[str]:
        return {line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line.strip()}

    def ensure_namespace(self, name: str) -> None:
        if name not in self.namespaces():
            run(["ip", "netns", "add", name])
        self.run(["ip", "link", "set", "lo", "up"], netns=name)

    def delete_namespace(self, name: str) -> None:
        if name in self.namespaces():
            for pid in run(["ip", "netns", "pids", name], check=False).split():
                run(["kill", "-9", pid], check=False)
            run(["ip", "netns", "delete", name], check=False)

    def make_veth(self, outside: str, inside: str, mac: str | None = None, mtu: int | None = None) -> None:
        """A veth pair; checksum offload off on both ends (the userspace datapath forwards
        frames with unfilled checksums otherwise, and DHCP replies get dropped)."""
        if self.link_exists(outside):
            self.run(["ip", "link", "del", outside], check=False)
        self.run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside])
        if mac:
            self.run(["ip", "link", "set", inside, "address", mac])
        for name in (outside, inside):
            if mtu:
                self.run(["ip", "link", "set", name, "mtu", str(mtu)])
            self.run(["ethtool", "-K", name, "tx", "off"], check=False)
        self.run(["ip", "link", "set", outside, "up"])

    def move_to_namespace(self, device: str, netns: str, name: str | None = None) -> str:
        self.run(["ip", "link", "set", device, "netns", netns])
        if name and name != device:
            self.run(["ip", "link", "set", device, "name", name], netns=netns)
        return name or device


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
