"""The per-host agent: makes this host's Open vSwitch, namespaces and dnsmasq match what the
networking service says the host must carry.

It never applies events one at a time. Whenever the service announces a change (an RPC
fanout ``resync``), an interface appears or goes in OVSDB, or ``resync_interval`` passes,
it fetches the host's whole state (``sync_host``) and reconciles: OVS ports and
namespaces it owns, DHCP servers, routers, then the integration bridge's flow table
replaced in one bundle. Anything it made is marked in OVSDB (``stratus-owner``) or lives
under its state directory, so what it no longer needs it finds and removes, also after a
restart.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from stratus.exceptions import StratusError
from stratus.interfaces.network import HostAgent
from stratus.network.agents import AGENT_TOPIC, DHCP_OWNER, TOPIC
from stratus.rpc import RPCClient, RPCServer, transport_from_conf
from stratus_ovs import dhcp, flows, ovs, router
from stratus_ovs.opts import register_opts

LOG = logging.getLogger(__name__)
AGENT_TYPE = "Open vSwitch agent"
BINARY = "stratus-ovs-agent"
OWNER = "stratus-owner"
LIDS = "stratus-lids"
TUNNEL = "stratus-vxlan"


def service_device(port_id: str) -> tuple[str, str]:
    """(OVS-side name, namespace-side temporary name) of a port the agent plugs itself."""
    return f"qvs{port_id[:11]}", f"qvi{port_id[:11]}"


class _Endpoint:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def resync(self, context: Any) -> None:
        self.agent.wake()


class Agent(HostAgent):
    def __init__(self, conf: Any) -> None:
        register_opts(conf)
        self.conf = conf
        self.host: str = conf.host
        self.bridge: str = conf.ovs.integration_bridge
        self.vswitch = ovs.Vswitch(conf.ovs.ovsdb_connection, conf.ovs.ovs_rundir)
        self.cmd = ovs.Host(shlex.split(conf.ovs.root_helper))
        self.dir = os.path.join(conf.state_path, "ovs-agent")
        self.transport = transport_from_conf(conf)
        self.client = RPCClient(self.transport, TOPIC)
        self.server: RPCServer | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._monitor: subprocess.Popen | None = None
        self._rules: dict[int, set[str]] = {}
        self._reported: tuple[frozenset[str], frozenset[str]] | None = None
        self.syncs = 0
        self.last_error: str | None = None

    @property
    def configurations(self) -> dict[str, Any]:
        return {"dhcp": self.conf.ovs.enable_dhcp, "l3": self.conf.ovs.enable_l3,
                "tunnel_ip": self.conf.ovs.tunnel_ip, "integration_bridge": self.bridge,
                "datapath_type": self.conf.ovs.datapath_type, "firewall": "openflow-conntrack"}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the bridge, register, and start syncing in the background."""
        os.makedirs(self.dir, exist_ok=True)
        self.vswitch.ensure_bridge(self.bridge, self.conf.ovs.datapath_type)
        if self.conf.ovs.tunnel_ip:
            self.vswitch.vsctl("--may-exist", "add-port", self.bridge, TUNNEL, "--", "set", "Interface", TUNNEL,
                               "type=vxlan", "options:remote_ip=flow", "options:key=flow",
                               f"options:local_ip={self.conf.ovs.tunnel_ip}", f"external_ids:{OWNER}=tunnel")
        self.report(start=True)
        self.server = RPCServer(self.transport, AGENT_TOPIC, self.host, [_Endpoint(self)], workers=1)
        self.server.start()
        self._monitor = subprocess.Popen(
            ["ovsdb-client", "monitor", self.conf.ovs.ovsdb_connection, "Open_vSwitch", "Interface",
             "name,ofport,external_ids", "--format=csv"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        for target, name in ((self._sync_loop, "sync"), (self._report_loop, "report"),
                             (self._watch_ovsdb, "ovsdb-monitor")):
            thread = threading.Thread(target=target, name=f"ovs-agent-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.wake()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._monitor is not None:
            self._monitor.terminate()
            self._monitor.wait(10)
        for thread in self._threads:
            thread.join(5)  # a sync waiting on an RPC reply may take longer; the threads are daemons
        if self.server is not None:
            self.server.stop()
        self.client.close()

    def wake(self) -> None:
        self._wake.set()

    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.conf.ovs.resync_interval)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.sync()
            except (StratusError, OSError) as exc:
                self.last_error = str(exc)
                LOG.error("sync of host %s failed (retrying): %s", self.host, exc)
                self._stop.wait(1)
                self._wake.set()

    def _report_loop(self) -> None:
        while not self._stop.wait(self.conf.ovs.report_interval):
            try:
                self.report()
            except StratusError as exc:
                LOG.warning("state report failed: %s", exc)

    def _watch_ovsdb(self) -> None:
        assert self._monitor is not None and self._monitor.stdout is not None
        for _ in self._monitor.stdout:
            if self._stop.is_set():
                return
            self._wake.set()

    def report(self, start: bool = False) -> None:
        self.client.call(None, "report_state", host=self.host, agent_type=AGENT_TYPE, binary=BINARY,
                         topic=AGENT_TOPIC, configurations=self.configurations, start_flag=start)

    # -- reconciling ---------------------------------------------------------------------

    def sync(self) -> None:
        state = self.client.call(None, "sync_host", host=self.host)
        self.reconcile(state)
        self.syncs += 1
        self.last_error = None

    def reconcile(self, state: Mapping[str, Any], report: bool = True) -> None:
        networks = state["networks"]
        subnets = {s["id"]: s for n in networks.values() for s in n["subnets"]}
        lids = self._local_ids(networks)
        service_ports = self._service_ports(state)
        self._plug_service_ports(service_ports, networks)
        self._settle_dhcp(state, service_ports)
        self._settle_routers(state, subnets)
        self._program(state, lids, report)

    def _local_ids(self, networks: Mapping[str, Any]) -> dict[str, int]:
        """A small number per network present here: its key in the flows and its conntrack
        zone. Kept in the bridge's external_ids so a restart does not renumber zones."""
        stored = json.loads(self.vswitch.bridge_ids(self.bridge).get(LIDS, "{}"))
        lids = {n: lid for n, lid in stored.items() if n in networks}
        free = (i for i in range(1, 65536) if i not in set(lids.values()))
        for network_id in sorted(networks):
            if network_id not in lids:
                lids[network_id] = next(free)
        if lids != stored:
            self.vswitch.set_bridge_id(self.bridge, LIDS, ovs.as_json(lids))
        return lids

    def _service_ports(self, state: Mapping[str, Any]) -> dict[str, tuple[Mapping[str, Any], str, str]]:
        """port id -> (port, namespace, interface name) for the ports the agent plugs itself."""
        result: dict[str, tuple[Mapping[str, Any], str, str]] = {}
        if self.conf.ovs.enable_dhcp:
            for port in state["ports"]:
                if port["device_owner"] == DHCP_OWNER and port["network_id"] in state["networks"]:
                    result[port["id"]] = (port, dhcp.namespace(port["network_id"]), f"ns-{port['id'][:11]}")
        for r in state["routers"]:
            for port in r["interfaces"]:
                result[port["id"]] = (port, router.namespace(r["id"]), f"qr-{port['id'][:11]}")
            if r.get("gateway"):
                port = r["gateway"]
                result[port["id"]] = (port, router.namespace(r["id"]), f"qg-{port['id'][:11]}")
        return result

    def _plug_service_ports(self, wanted: Mapping[str, tuple[Mapping[str, Any], str, str]],
                            networks: Mapping[str, Any]) -> None:
        intact = set()
        for existing in self.vswitch.ports(self.bridge):
            if existing.external_ids.get(OWNER) != "agent":
                continue
            port_id = existing.external_ids.get("iface-id", "")
            spec = wanted.get(port_id)
            if spec and existing.external_ids.get("stratus-netns") == spec[1] \
                    and self.cmd.link_exists(spec[2], spec[1]):
                intact.add(port_id)
                continue
            self.vswitch.del_port(self.bridge, existing.name)
            self.cmd.run(["ip", "link", "del", existing.name], check=False)
        for port_id, (port, namespace, name) in wanted.items():
            if port_id in intact:
                continue
            outside, inside = service_device(port_id)
            self.cmd.ensure_namespace(namespace)
            self.cmd.run(["ip", "link", "del", name], check=False, netns=namespace)
            self.cmd.make_veth(outside, inside, port["mac_address"], networks[port["network_id"]]["mtu"])
            self.cmd.move_to_namespace(inside, namespace, name)
            self.cmd.run(["ip", "link", "set", name, "up"], netns=namespace)
            self.vswitch.add_port(self.bridge, outside, {"iface-id": port_id, "attached-mac": port["mac_address"],
                                                         OWNER: "agent", "stratus-netns": namespace})

    def _settle_dhcp(self, state: Mapping[str, Any], service_ports: Mapping[str, Any]) -> None:
        base = os.path.join(self.dir, "dhcp")
        os.makedirs(base, exist_ok=True)
        serving = set()
        for _port_id, (port, namespace, name) in service_ports.items():
            if port["device_owner"] != DHCP_OWNER:
                continue
            network = state["networks"][port["network_id"]]
            subnets = {s["id"]: s for s in network["subnets"]}
            router.configure_addresses(self.cmd, namespace, name, router.prefixes(port, subnets))
            server = dhcp.Dnsmasq(self.cmd, os.path.join(base, network["id"]), network, name,
                                  self.conf.ovs.dnsmasq_lease_duration)
            server.write(state["neighbours"].get(network["id"], []))
            server.ensure()
            serving.add(network["id"])
        for network_id in os.listdir(base):
            if network_id not in serving:
                server = dhcp.Dnsmasq(self.cmd, os.path.join(base, network_id), {"id": network_id, "subnets": []},
                                      "", "")
                pid = server.pid()
                if pid is not None:
                    dhcp.stop_pid(pid)
                self.cmd.delete_namespace(dhcp.namespace(network_id))
                shutil.rmtree(os.path.join(base, network_id), ignore_errors=True)

    def _settle_routers(self, state: Mapping[str, Any], subnets: Mapping[str, Any]) -> None:
        base = os.path.join(self.dir, "routers")
        os.makedirs(base, exist_ok=True)
        hosted = set()
        for r in state["routers"]:
            self.cmd.ensure_namespace(router.namespace(r["id"]))
            os.makedirs(os.path.join(base, r["id"]), exist_ok=True)
            router.configure(self.cmd, r, subnets)
            hosted.add(r["id"])
        for router_id in os.listdir(base):
            if router_id not in hosted:
                self.cmd.delete_namespace(router.namespace(router_id))
                os.rmdir(os.path.join(base, router_id))

    def _program(self, state: Mapping[str, Any], lids: Mapping[str, int], report: bool) -> None:
        present = self.vswitch.ports(self.bridge)
        ofports = {p.external_ids.get("iface-id"): p.ofport for p in present}
        tunnel_port = next((p.ofport for p in present if p.name == TUNNEL and p.ofport > 0), None)
        ports = list(state["ports"]) + [p for r in state["routers"] for p in
                                        [*r["interfaces"], *([r["gateway"]] if r.get("gateway") else [])]]
        local = [flows.LocalPort(p, ofports[p["id"]], lids[p["network_id"]]) for p in ports
                 if ofports.get(p["id"], -1) > 0 and p["network_id"] in lids]
        table = flows.build(local, state["security_groups"], state["group_members"], tunnel_port,
                            self._tunnels(state, lids))
        self.vswitch.replace_flows(self.bridge, table.flows)
        for zone, previous in self._rules.items():
            if previous - table.rules_by_zone.get(zone, set()):
                self.vswitch.flush_conntrack(zone)  # connections a removed rule allowed must not live on
        self._rules = table.rules_by_zone
        wired = {lp.port["id"] for lp in local if lp.port.get("admin_state_up", True)}
        bound = {p["id"] for p in state["ports"]}
        up, down = frozenset(bound & wired), frozenset(bound - wired)
        if report and (up, down) != self._reported:
            self.client.call(None, "update_port_status", host=self.host, up=sorted(up), down=sorted(down))
            self._reported = (up, down)

    def _tunnels(self, state: Mapping[str, Any], lids: Mapping[str, int]) -> list[flows.Tunnel]:
        """For each VXLAN network here, where its ports on other hosts are."""
        endpoints = {a["host"]: a["tunnel_ip"] for a in state.get("agents", [])
                     if a["agent_type"] == AGENT_TYPE and a.get("tunnel_ip") and a["host"] != self.host}
        result = []
        for network_id, network in state["networks"].items():
            if network["network_type"] != "vxlan" or network_id not in lids:
                continue
            macs = {n["mac_address"]: endpoints[n["host"]] for n in state["neighbours"].get(network_id, [])
                    if n["host"] in endpoints}
            result.append(flows.Tunnel(lids[network_id], network["segmentation_id"], macs,
                                       tuple(sorted(set(macs.values())))))
        return result

    def cleanup(self) -> None:
        """Remove everything the agent made on this host (namespaces, dnsmasq, its OVS ports)."""
        self.reconcile({"networks": {}, "ports": [], "routers": [], "neighbours": {}, "security_groups": {},
                        "group_members": {}}, report=False)
