"""Options of the ``[DEFAULT]`` group: where this node is and keeps its files."""

from __future__ import annotations

import socket

import platformdirs
from oslo_config import cfg

GROUP = "DEFAULT"

opts = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this node; per-host RPC topics (compute.<host>) and service records use it.",
    ),
    cfg.StrOpt(
        "state_path",
        default=platformdirs.user_data_dir("stratus"),
        sample_default="<the user's data directory>/stratus",
        help="Directory for state: the SQLite database, keys, caches. Created if absent.",
    ),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
