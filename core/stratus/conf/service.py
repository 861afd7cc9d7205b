"""Options of the ``[service]`` group: liveness of the long-running services."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "service"

opts = [
    cfg.IntOpt("report_interval", default=10, min=1, help="Seconds between a service's heartbeats."),
    cfg.IntOpt(
        "service_down_time",
        default=60,
        min=1,
        help="A service whose last heartbeat is older than this many seconds counts as down "
        "(its builds are failed or rescheduled). Keep it several report_intervals long.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
