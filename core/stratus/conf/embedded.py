"""Options of the ``[embedded]`` group: what ``stratus up`` makes for a new cloud."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "embedded"

opts = [
    cfg.BoolOpt("defaults", default=True,
                help="Whether `stratus up` makes the default networks and image when they are absent (the "
                "--no-defaults flag turns this off for one run)."),
    cfg.StrOpt("private_network_cidr", default="10.0.0.0/24",
               help="CIDR of the subnet of the default tenant network `private`."),
    cfg.StrOpt("public_network_cidr", default="172.24.4.0/24",
               help="CIDR of the subnet of the external network `public` (floating IPs and router gateways "
               "come from it); empty: no external network is made."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
