"""Options of the ``[database]`` group."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DatabaseURL

GROUP = "database"

opts = [
    cfg.Opt(
        "connection",
        type=DatabaseURL(),
        default="sqlite:///$state_path/stratus.sqlite",
        help="SQLAlchemy URL of the database every service uses unless service_connections "
        "names another for it. sqlite:///PATH, postgresql+psycopg://USER:PW@HOST/DB, "
        "mysql+pymysql://USER:PW@HOST/DB?charset=utf8mb4.",
        secret=True,
    ),
    cfg.DictOpt(
        "service_connections",
        default={},
        help="Per-service database URLs, e.g. identity:postgresql+psycopg://.../keystone. "
        "Each service owns its tables, so any of them can live in its own database.",
        secret=True,
    ),
    cfg.IntOpt("pool_size", default=5, min=1, help="Connections kept open per process (not SQLite)."),
    cfg.IntOpt("max_overflow", default=10, min=0, help="Connections opened beyond pool_size under load."),
    cfg.IntOpt("pool_timeout", default=30, min=1, help="Seconds to wait for a free pooled connection."),
    cfg.IntOpt(
        "connection_recycle_time",
        default=3600,
        min=1,
        help="Seconds after which a pooled connection is replaced (servers drop idle ones).",
    ),
    cfg.IntOpt(
        "sqlite_busy_timeout",
        default=30000,
        min=0,
        help="Milliseconds a SQLite writer waits for another writer's lock before failing.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
