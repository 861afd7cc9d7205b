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
    cfg.BoolOpt("show_image_direct_url", default=False,
                help="Show each image's `direct_url` (where its data is in a store), so compute hosts with "
                "that store configured read it from there ([image_client] direct_url_schemes). As Glance: "
                "it tells every reader of the image where its data lives; enable it only when that is fine."),
    cfg.StrOpt("default_store", default="local", help="Store new images go to unless the request names one."),
    cfg.IntOpt("image_size_cap", default=1099511627776, min=1,
               help="Largest image in bytes; a bigger upload is cut off with 413 and nothing kept."),
    cfg.IntOpt("chunk_size", default=1048576, min=4096,
               help="Bytes per read and write when streaming image data (bench/image_throughput.py measures it)."),
    cfg.IntOpt("limit_param_default", default=25, min=1, help="Images per page when a list gives no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1, help="Most images one list call returns."),
    cfg.IntOpt("quota_images", default=-1, min=-1,
               help="Images a project may have (any status but deleted); -1 is unlimited. Over it, creating "
               "an image answers 413."),
    cfg.IntOpt("quota_image_bytes", default=-1, min=-1,
               help="Bytes a project's images (and staged data) may occupy; -1 is unlimited. An upload that "
               "would exceed it is cut off with 413 and nothing is kept."),
    cfg.IntOpt("image_member_quota", default=128, min=-1, help="Members one image may have; -1 is unlimited."),
    cfg.IntOpt("image_tag_quota", default=128, min=-1, help="Tags one image may have; -1 is unlimited."),
    cfg.IntOpt("image_property_quota", default=128, min=-1,
               help="Extra properties one image may have; -1 is unlimited."),
    cfg.ListOpt("enabled_import_methods", default=["glance-direct", "web-download", "copy-image"],
                item_type=cfg.types.String(choices=["glance-direct", "web-download", "copy-image"]),
                help="Interoperable image import methods offered (GET /v2/info/import)."),
    cfg.IntOpt("import_workers", default=2, min=1, help="Imports one API process runs at a time."),
    cfg.IntOpt("task_time_to_live", default=48, min=1,
               help="Hours an ended image task (an import's record) is kept before it expires."),
    cfg.ListOpt("import_allowed_schemes", default=["http", "https"],
                help="URL schemes web-download may fetch from."),
    cfg.ListOpt("import_allowed_hosts", default=[],
                help="If set, the only hosts (names or addresses) web-download may fetch from."),
    cfg.ListOpt("import_disallowed_hosts", default=[], help="Hosts web-download must not fetch from."),
    cfg.ListOpt("import_allowed_ports", default=[80, 443], item_type=cfg.types.Integer(min=1, max=65535),
                help="Ports web-download may fetch from (empty: any port not disallowed)."),
    cfg.ListOpt("import_disallowed_ports", default=[], item_type=cfg.types.Integer(min=1, max=65535),
                help="Ports web-download must not fetch from."),
]


#: options every store's group has, whatever its driver
STORE_OPTS = [cfg.StrOpt("description", help="What GET /v2/info/stores says about this store.")]
#: the import flow's staging area is a file store of this name, as in Glance
STAGING_STORE = "os_glance_staging_store"
#: groups list_opts shows for the sample; the stores register them themselves when loaded
SAMPLE_ONLY_GROUPS = frozenset({"local", STAGING_STORE})


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def store_groups(conf: cfg.ConfigOpts) -> set[str]:
    """The groups stores read their options from: one per enabled store, and the staging area."""
    return {spec.partition(":")[0] for spec in conf.image.enabled_stores} | {STAGING_STORE}


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    from stratus.image.drivers.file import OPTS as FILE_OPTS

    # Store groups are named by the operator; the sample shows the default configuration's
    # (a store named "local" of driver "file") and the staging area's.
    local = cfg.OptGroup("local", help="The store named 'local' in [image] enabled_stores (driver file). A store "
                         "named N of driver D reads D's options, and description, from [N].")
    staging = cfg.OptGroup(STAGING_STORE, help="The import flow's staging area (a file store).")
    return [(GROUP, opts), (local, [*STORE_OPTS, *FILE_OPTS]), (staging, FILE_OPTS)]
