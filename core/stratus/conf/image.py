"""Options of the ``[image]`` group: image stores and limits."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import StoreSpec

GROUP = "image"

opts = [
    cfg.ListOpt(
        "enabled_stores",
        item_type=StoreSpec(),
        default=["local:file"],
        help="Image stores as name:driver, e.g. fast:file,cheap:swift. Each store reads its own "
        "options from the group named after it ([fast] datadir = ...).",
    ),
    cfg.StrOpt("default_store", default="local", help="Store new images go to unless the request names one."),
    cfg.IntOpt("image_size_cap", default=1099511627776, min=1,
               help="Largest image in bytes; a bigger upload is cut off with 413 and nothing kept."),
    cfg.IntOpt("chunk_size", default=65536, min=4096, help="Bytes per read and write when streaming image data."),
    cfg.IntOpt("limit_param_default", default=25, min=1, help="Images per page when a list gives no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1, help="Most images one list call returns."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
