"""Options of the ``[network]`` group: the plugin and the defaults of new resources."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "network"

opts = [
    cfg.Opt("plugin", default="logical", type=DriverName("stratus.network"),
               help="Network plugin (entry point in stratus.network): logical, or ovs with stratus-ovs."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="MAC addresses of new ports start with this prefix's first three octets."),
    cfg.StrOpt("tenant_network_type", default="vxlan", choices=["local", "vlan", "vxlan", "geneve"],
               help="Segment type of networks created without provider attributes."),
    cfg.ListOpt("vni_ranges", default=["1:65535"],
                help="VXLAN/Geneve ids (min:max, ...) tenant networks are given."),
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="physnet:min:max entries: VLAN ids tenant networks are given (tenant_network_type vlan)."),
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68, help="MTU of new networks."),
    cfg.IntOpt("pagination_max_limit", default=1000, min=1, help="Most items one list call returns."),
    cfg.IntOpt("agent_down_time", default=75, min=1,
               help="Seconds after an agent's last report that it counts as down (its DHCP and routers move)."),
    cfg.IntOpt("max_fixed_ips_per_port", default=5, min=1, help="Fixed IPs one port may have."),
    cfg.IntOpt("max_routes", default=30, min=0, help="Static routes (extraroute) one router may have."),
    *(cfg.IntOpt(f"quota_{resource}", default=default, min=-1,
                 help=f"Default {resource} quota of a project (-1: unlimited); /v2.0/quotas overrides it.")
      for resource, default in (("network", 100), ("subnet", 100), ("port", 500), ("router", 10),
                                ("floatingip", 50), ("security_group", 10), ("security_group_rule", 100))),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
