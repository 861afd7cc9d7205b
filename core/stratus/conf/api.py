"""Options of the ``[api]`` group: how the WSGI apps are served."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "api"

opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the API server binds to."),
    cfg.PortOpt("port", default=8770, help="Port the API server listens on (every service, by path)."),
    cfg.IntOpt("workers", default=2, min=1, help="gunicorn worker processes for `stratus api`."),
    cfg.IntOpt("threads", default=8, min=1, help="Threads per gunicorn worker (gthread worker class)."),
    cfg.URIOpt(
        "public_endpoint",
        schemes=["http", "https"],
        help="Base URL clients use to reach the APIs (e.g. behind a proxy). Version documents "
        "and the catalog are built from it; when unset, from the request's Host.",
    ),
    cfg.ListOpt(
        "services",
        item_type=cfg.types.String(choices=["identity", "compute", "image", "volume", "network", "object_store"]),
        default=["identity", "compute", "image", "volume", "network", "object_store"],
        help="The services whose APIs this process serves (`stratus api`, stratus.wsgi). One per "
        "process gives each its own database and hosts; the others are then reached as their "
        "[<service>_client] mode says.",
    ),
    cfg.IntOpt(
        "policy_reload_interval",
        default=10,
        min=0,
        help="Seconds between looks at the policy file and directories ([oslo_policy]) for changes; "
        "the checks in between use the rules in memory. 0: look on every check (oslo.policy's own way).",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=114688,
        min=1,
        help="Largest request body in bytes for ordinary API calls (uploads of image and "
        "object data are limited by quotas instead). Larger bodies get 413.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
