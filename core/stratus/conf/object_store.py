"""Options of the ``[object_store]`` group (the Swift-compatible object service) and of the
``disk`` backend's ``[object_disk]``.

The limits are Swift's ``[swift-constraints]`` with Swift's defaults, published by
``GET /object-store/info``; the roles are those Swift's keystoneauth middleware reads.
"""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "object_store"
#: listed for the sample, registered by the disk backend when it loads
SAMPLE_ONLY_GROUPS = frozenset({"object_disk"})

opts = [
    cfg.Opt("backend", default="disk", type=DriverName("stratus.object_backend"),
            help="Where object bytes go (an entry point in stratus.object_backend); accounts, containers "
            "and listings stay in the object service's database."),
    cfg.ListOpt("operator_roles", default=["admin", "member"],
                help="Roles that own their project's account: they create containers, write objects and set "
                "ACLs (Swift's keystoneauth operator_roles)."),
    cfg.ListOpt("reader_roles", default=["reader"],
                help="Roles that may read (list, GET, HEAD) their project's account but not change it."),
    cfg.StrOpt("reseller_admin_role", default="ResellerAdmin",
               help="Role that may act on every account and set account quotas."),
    cfg.IntOpt("max_file_size", default=5368709122, min=1,
               help="Largest object a single PUT stores, in bytes; bigger ones are segmented (SLO/DLO)."),
    cfg.IntOpt("max_meta_name_length", default=128, min=1, help="Longest metadata name, in bytes."),
    cfg.IntOpt("max_meta_value_length", default=256, min=1, help="Longest metadata value, in bytes."),
    cfg.IntOpt("max_meta_count", default=90, min=1, help="Most metadata items on one account, container or object."),
    cfg.IntOpt("max_meta_overall_size", default=4096, min=1,
               help="Most bytes of names and values of one account's, container's or object's metadata."),
    cfg.IntOpt("max_header_size", default=8192, min=1, help="Longest request header, in bytes."),
    cfg.IntOpt("max_object_name_length", default=1024, min=1, help="Longest object name, in bytes of UTF-8."),
    cfg.IntOpt("max_container_name_length", default=256, min=1, help="Longest container name, in bytes of UTF-8."),
    cfg.IntOpt("max_account_name_length", default=256, min=1, help="Longest account name, in bytes of UTF-8."),
    cfg.IntOpt("container_listing_limit", default=10000, min=1, help="Most objects one container listing returns."),
    cfg.IntOpt("account_listing_limit", default=10000, min=1, help="Most containers one account listing returns."),
    cfg.IntOpt("expirer_interval", default=60, min=1,
               help="Seconds between sweeps deleting objects whose X-Delete-At has passed (expired objects "
               "are 404 at once; the sweep frees their space)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    from stratus.object_store.drivers.disk import GROUP as DISK_GROUP
    from stratus.object_store.drivers.disk import OPTS as DISK_OPTS

    return [(GROUP, opts), (DISK_GROUP, DISK_OPTS)]
