"""Options of the ``[compute]`` group."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "compute"

opts = [
    cfg.IntOpt("quota_key_pairs", default=100, min=-1, help="Key pairs one user may hold (-1: unlimited)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
