"""Options of the ``[scheduler]`` group: which filters and weighers choose hosts, and how."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "scheduler"

DEFAULT_FILTERS = ["ComputeFilter", "AvailabilityZoneFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter",
                   "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter", "RamFilter", "CoreFilter",
                   "DiskFilter", "SameHostFilter", "DifferentHostFilter"]

opts = [
    cfg.ListOpt("enabled_filters", default=DEFAULT_FILTERS, item_type=DriverName("stratus.scheduler.filters"),
                help="Filters (entry points in stratus.scheduler.filters) every host must pass, in this order; "
                "cheap and selective ones first."),
    cfg.ListOpt("weighers", default=["RAMWeigher", "CPUWeigher", "DiskWeigher", "IoOpsWeigher",
                                     "ServerGroupSoftAffinityWeigher", "ServerGroupSoftAntiAffinityWeigher"],
                item_type=DriverName("stratus.scheduler.weighers"),
                help="Weighers (entry points in stratus.scheduler.weighers) whose normalised scores, times their "
                "multipliers, rank the hosts that passed."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="Positive spreads servers over hosts by free RAM; negative stacks them."),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0,
                 help="Positive spreads servers over hosts by free vCPUs; negative stacks them."),
    cfg.FloatOpt("disk_weight_multiplier", default=1.0,
                 help="Positive spreads servers over hosts by free disk; negative stacks them."),
    cfg.FloatOpt("io_ops_weight_multiplier", default=-1.0,
                 help="Negative prefers hosts with fewer builds, resizes and snapshots under way."),
    cfg.FloatOpt("soft_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly soft-affinity group members prefer their group's hosts."),
    cfg.FloatOpt("soft_anti_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly soft-anti-affinity group members avoid their group's hosts."),
    cfg.IntOpt("max_instances_per_host", default=50, min=1, help="NumInstancesFilter's limit."),
    cfg.IntOpt("max_io_ops_per_host", default=8, min=1, help="IoOpsFilter's limit of concurrent I/O-heavy tasks."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Hosts a build is tried on (the first and its reschedules) before the server goes to ERROR."),
    cfg.FloatOpt("host_state_max_age", default=1.0, min=0.0,
                 help="Seconds a scheduler keeps its view of every node before reading it again (0: read it for "
                 "each request). Claims stay exact whatever the age: a node that filled up meanwhile refuses the "
                 "claim and the view is read again; disabled services and aggregate changes apply at once."),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="Pick at random among this many best hosts (more than 1 lessens races between schedulers)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
