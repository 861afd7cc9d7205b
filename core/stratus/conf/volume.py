"""Options of the ``[volume]`` group (block storage) and of each volume backend's group.

As in Cinder, ``[volume] enabled_backends`` names sections; each is one backend, served
by its own volume service, with the options every backend has (:data:`BACKEND_OPTS`) and
its driver's own (``VolumeBackend.backend_opts``)::

    [volume]
    enabled_backends = fast,bulk
    [fast]
    volume_driver = file
    datadir = /srv/fast
"""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "volume"
#: the backend the default configuration enables (the sample shows its group)
DEFAULT_BACKEND = "files"
#: groups list_opts shows for the sample; each backend registers its own when enabled
SAMPLE_ONLY_GROUPS = frozenset({DEFAULT_BACKEND})
#: listed for the sample, registered by the file backup target when it loads
SAMPLE_ONLY_OPTS = {"backup": {"file_dir"}}
#: the volume type every deployment has, as Cinder creates it
DEFAULT_TYPE = "__DEFAULT__"

opts = [
    cfg.ListOpt("enabled_backends", default=[DEFAULT_BACKEND],
                item_type=cfg.types.String(regex=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
                help="Sections naming the volume backends this cloud serves, one volume service each "
                "(volume_driver and the driver's options in each section)."),
    cfg.StrOpt("default_volume_type", default=DEFAULT_TYPE,
               help="Volume type of volumes created without one."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="Availability zone of volumes created without one, and of backends that name none."),
    cfg.BoolOpt("allow_availability_zone_fallback", default=False,
                help="Create a volume in the default zone when the zone asked for does not exist, instead of "
                "refusing it."),
    cfg.IntOpt("stats_interval", default=60, min=1,
               help="Seconds between a volume service's capacity reports to the scheduler (claims between "
               "reports are counted as they are made)."),
    cfg.IntOpt("quota_volumes", default=10, min=-1, help="Volumes a project may have; -1 is unlimited."),
    cfg.IntOpt("quota_snapshots", default=10, min=-1, help="Snapshots a project may have; -1 is unlimited."),
    cfg.IntOpt("quota_gigabytes", default=1000, min=-1,
               help="GiB a project's volumes and snapshots may hold in all; -1 is unlimited."),
    cfg.IntOpt("quota_backups", default=10, min=-1, help="Backups a project may have; -1 is unlimited."),
    cfg.IntOpt("quota_backup_gigabytes", default=1000, min=-1,
               help="GiB a project's backups may hold; -1 is unlimited."),
    cfg.IntOpt("quota_groups", default=10, min=-1,
               help="Volume groups a project may have; -1 is unlimited (there are no volume groups yet)."),
    cfg.IntOpt("per_volume_size_limit", default=-1, min=-1, help="Largest volume in GiB; -1 is unlimited."),
    cfg.IntOpt("osapi_max_limit", default=1000, min=1, help="Most items one list call returns."),
]

#: ``[backup]``: where volume backups go and how they are cut
BACKUP_OPTS = [
    cfg.Opt("backup_driver", default="file", type=DriverName("stratus.backup_target"),
            help="The backup target (an entry point in stratus.backup_target); its options are in [backup] too."),
    cfg.IntOpt("chunk_size_mb", default=32, min=1, max=1024,
               help="MiB per backup chunk: an incremental backup keeps only the chunks that changed."),
]

#: options every backend's group has, whatever its driver
BACKEND_OPTS = [
    cfg.Opt("volume_driver", default="file", type=DriverName("stratus.volume"),
            help="The backend's driver (an entry point in stratus.volume)."),
    cfg.StrOpt("volume_backend_name",
               help="The name volume types select this backend by (their volume_backend_name extra spec); "
               "default: the section's name."),
    cfg.StrOpt("backend_availability_zone",
               help="Availability zone of this backend's volumes; default: [volume] default_availability_zone."),
    cfg.FloatOpt("max_over_subscription_ratio", default=20.0, min=1.0,
                 help="On a thin-provisioning backend, how many times its capacity volumes may promise in all."),
    cfg.IntOpt("reserved_percentage", default=0, min=0, max=100,
               help="Share of the backend's capacity kept free: no volume is placed in it."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)
    conf.register_opts(BACKUP_OPTS, group="backup")


def backend_groups(conf: cfg.ConfigOpts) -> list[str]:
    """The enabled backends' sections, each registered with :data:`BACKEND_OPTS`."""
    for name in conf.volume.enabled_backends:
        conf.register_opts(BACKEND_OPTS, group=name)
    return list(conf.volume.enabled_backends)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    from stratus.volume.drivers.backup_file import OPTS as BACKUP_FILE_OPTS
    from stratus.volume.drivers.file import OPTS as FILE_OPTS

    files = cfg.OptGroup(DEFAULT_BACKEND, help="The backend named 'files' in [volume] enabled_backends (driver "
                         "file). A backend named N reads these options, and its driver's, from [N].")
    return [(GROUP, opts), (files, [*BACKEND_OPTS, *FILE_OPTS]), ("backup", [*BACKUP_OPTS, *BACKUP_FILE_OPTS])]
