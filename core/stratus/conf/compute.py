"""Options of the ``[compute]`` group."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "compute"

opts = [
    cfg.FloatOpt("cpu_allocation_ratio", default=4.0, min=0.0,
                 help="vCPUs a host may promise per physical vCPU it reports."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.0, min=0.0, help="RAM a host may promise per MiB it reports."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0, help="Disk a host may promise per GiB it reports."),
    cfg.IntOpt("quota_key_pairs", default=100, min=-1, help="Key pairs one user may hold (-1: unlimited)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
