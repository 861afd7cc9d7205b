"""Options of the ``[compute]`` group."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "compute"

opts = [
    cfg.FloatOpt("cpu_allocation_ratio", default=4.0, min=0.0,
                 help="vCPUs a host may promise per physical vCPU it reports."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.0, min=0.0, help="RAM a host may promise per MiB it reports."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0, help="Disk a host may promise per GiB it reports."),
    cfg.Opt("hypervisor", default="fake", type=DriverName("stratus.hypervisor"),
            help="Hypervisor driver (entry point in stratus.hypervisor)."),
    cfg.IntOpt("simulated_hosts", default=1, min=1,
               help="Compute hosts this process runs (each with its own driver instance; for the fake "
               "hypervisor's scale runs). Above 1 they are named HOST-0001, HOST-0002..."),
    cfg.FloatOpt("resource_update_interval", default=10.0, min=0.1,
                 help="Seconds between a compute host's resource reports and heartbeats."),
    cfg.IntOpt("conductor_state_workers", default=16, min=1,
               help="Threads each conductor answers compute hosts' reads and writes of compute's state with "
               "(each holds a database connection while it works)."),
    cfg.BoolOpt("allow_resize_to_same_host", default=True,
                help="Whether a resize may keep the server on its host (the scheduler may still choose "
                     "another). Nova defaults to False; a one-host cloud (stratus up) could never resize then."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="The availability zone of compute hosts that no aggregate puts in one."),
    cfg.StrOpt("internal_service_availability_zone", default="internal",
               help="The availability zone shown for services other than compute (the conductor, the scheduler)."),
    cfg.StrOpt("default_schedule_zone",
               help="The availability zone a server goes to when its request names none (unset: any)."),
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most servers one list call returns (Nova's [api] max_limit); a longer list is paged with "
               "servers_links."),
    cfg.IntOpt("block_device_allocate_retries", default=60, min=0,
               help="How many times a build checks whether a volume being made for the server is available "
               "before it gives up (the build is then rescheduled or fails)."),
    cfg.FloatOpt("block_device_allocate_retries_interval", default=3.0, min=0.1,
                 help="Seconds between those checks."),
    cfg.IntOpt("max_local_block_devices", default=3, min=-1,
               help="Local disks (root from an image, ephemeral, swap) a server's block device mapping may ask for "
               "(-1: any number)."),
    cfg.BoolOpt("force_config_drive", default=False,
                help="Give every server a config drive, whether its request asks for one or not."),
    cfg.IntOpt("vif_plugging_timeout", default=300, min=0,
               help="Seconds a build waits for the network agent to wire its ports (network-vif-plugged), with "
               "network plugins that have host agents; 0 does not wait."),
    cfg.BoolOpt("vif_plugging_is_fatal", default=True,
                help="Whether a build whose ports were not wired in vif_plugging_timeout fails (and is "
                "rescheduled) or goes on with them."),
    cfg.IntOpt("shutdown_timeout", default=60, min=0,
               help="Seconds a stop (and a soft delete) lets the guest shut down cleanly (ACPI) before the hypervisor "
               "powers it off; 0 powers it off at once. Nova's default."),
    cfg.StrOpt("image_cache_path", default="$state_path/image-cache",
               help="Directory of each compute host's image cache (<path>/<host>/<image id>): every image a host "
               "boots from is fetched there once. Put it on the file system of the hypervisor's instances "
               "(libvirt's instances_path) so guests' disks can share the cached data by hard link."),
    cfg.IntOpt("image_cache_max_unused", default=86400, min=0,
                help="Seconds a cached image no server on the host uses is kept after its last use (0: removed at "
                "the next pass)."),
    cfg.IntOpt("image_cache_interval", default=2400, min=-1,
               help="Seconds between passes removing unused cached images (-1: never remove them)."),
    cfg.IntOpt("running_deleted_instance_poll_interval", default=1800, min=-1,
               help="Seconds between passes in which each host destroys guests whose servers are deleted (one "
               "deleted while its host was down, or while it moved between hosts) and drops disks parked for "
               "moves of deleted servers (-1: never; Nova's running_deleted_instance_action=reap)."),
    cfg.IntOpt("sync_power_state_interval", default=600, min=-1,
               help="Seconds between passes in which each host brings its servers' power states in line with "
               "its hypervisor (a guest that shut itself down is SHUTOFF, one the hypervisor no longer has is "
               "ERROR with a fault); the same pass runs when the host starts (-1: only then). Nova's option."),
    cfg.IntOpt("reclaim_instance_interval", default=0, min=0,
               help="Seconds a deleted server is kept (SOFT_DELETED, powered off, restorable with the restore "
               "action) before its host deletes it; also how often hosts look for such servers. 0: servers are "
               "deleted at once (Nova's default)."),
    cfg.StrOpt("default_floating_pool",
               help="The external network (name or id) os-floating-ips allocates from when no pool is given "
               "(unset: the cloud's only external network, if it has exactly one)."),
    cfg.BoolOpt("instance_usage_audit", default=False,
                help="Whether each host audits, once per instance_usage_audit_period, the servers that ran on it "
                "in the last period: a compute.instance.exists notification for each (the stratus_notify hook) "
                "and a line in os-instance_usage_audit_log."),
    cfg.StrOpt("instance_usage_audit_period", default="month", choices=["hour", "day", "month", "year"],
               help="The period the instance usage audit covers; reports cover the last completed one."),
    cfg.IntOpt("quota_instances", default=10, min=-1, help="Servers a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_cores", default=20, min=-1, help="vCPUs a project's servers may have (-1: unlimited)."),
    cfg.IntOpt("quota_ram", default=51200, min=-1, help="MiB of RAM a project's servers may have (-1: unlimited)."),
    cfg.IntOpt("quota_key_pairs", default=100, min=-1, help="Key pairs one user may hold (-1: unlimited)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
