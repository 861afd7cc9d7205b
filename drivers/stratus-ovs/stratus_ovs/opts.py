"""Options of the ``[ovs]`` group, read by the plugin (API side) and the agent (host side)."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

GROUP = "ovs"

opts = [
    cfg.StrOpt("integration_bridge", default="br-int", help="The bridge every port of this host is plugged into."),
    cfg.StrOpt("datapath_type", default="system", choices=["system", "netdev"],
               help="system: the kernel datapath; netdev: Open vSwitch's userspace datapath (hosts without "
               "the openvswitch kernel module)."),
    cfg.StrOpt("ovsdb_connection", default="unix:/var/run/openvswitch/db.sock",
               help="Where ovsdb-server listens (unix:PATH or tcp:IP:PORT)."),
    cfg.StrOpt("ovs_rundir", default="/var/run/openvswitch",
               help="ovs-vswitchd's run directory (bridge management sockets, its control socket)."),
    cfg.StrOpt("root_helper", default="",
               help="Prefix of every command on the host's network stack: empty when the agent runs as root, "
               "'sudo' otherwise, 'ip netns exec NS' when this host's switch lives in namespace NS."),
    cfg.BoolOpt("enable_dhcp", default=True, help="Serve DHCP on this host (dnsmasq per network namespace)."),
    cfg.BoolOpt("enable_l3", default=True, help="Host routers on this host (a namespace per router, NAT)."),
    cfg.StrOpt("tunnel_ip", default=None, help="This host's VXLAN endpoint address (reported to the other agents)."),
    cfg.FloatOpt("report_interval", default=30.0, min=0.5, help="Seconds between the agent's state reports."),
    cfg.FloatOpt("resync_interval", default=60.0, min=0.5,
                 help="Seconds between full syncs when nothing has announced a change."),
    cfg.StrOpt("dnsmasq_lease_duration", default="86400", help="DHCP lease time in seconds (or 'infinite')."),
]


def register_opts(conf: Any) -> None:
    if GROUP not in conf or "integration_bridge" not in conf[GROUP]:
        conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
