"""Options of the ``[plugins]`` group: which pluggy plugins run."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "plugins"

opts = [
    cfg.ListOpt(
        "enabled",
        default=[],
        help="Names of the installed `stratus.plugins` to run. Empty runs every installed plugin.",
    ),
    cfg.ListOpt(
        "disabled",
        default=[],
        help="Names of plugins not to run, including the core's default ones (e.g. log-notifier).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
