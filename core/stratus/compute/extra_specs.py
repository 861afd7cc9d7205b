"""Flavor extra specs Nova knows (microversion 2.86 validates them).

A key in a known namespace must be one Nova defines, with a value of its kind; keys in
other namespaces, and keys without one, are the operator's own and pass. The table
holds Nova's key names and value rules; ``resources*:`` and ``trait*:`` accept any
well-formed resource class or trait name (Nova checks standard names against its
os-resource-classes and os-traits lists; there is no Placement here to use them).
"""

from __future__ import annotations

import re

from stratus.exceptions import Invalid

_GROUP = r"([a-zA-Z0-9_-]{1,64})?"
_CPUSET = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"
_SHARES = ("custom", "high", "normal", "low")
_CAPABILITIES = (
    "id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
    "local_gb_used", "hypervisor_type", "hypervisor_version", "hypervisor_hostname", "free_ram_mb", "free_disk_gb",
    "current_workload", "running_vms", "disk_available_least", "host_ip", "mapped", "cpu_allocation_ratio",
    "ram_allocation_ratio", "disk_allocation_ratio", "total_usable_ram_mb", "total_usable_disk_gb", "disk_mb_used",
    "free_disk_mb", "vcpus_total", "num_instances", "num_io_ops", "failed_builds", "aggregates", "cell_uuid",
    "updated",
)
_NESTED_CAPABILITIES = (
    "cpu_info", "metrics", "stats", "numa_topology", "supported_hv_specs", "pci_device_pools", "nodename",
    "pci_stats", "supported_instances", "limits", "instances",
)

#: (key pattern, kind, rule): kind "str" (rule: a value pattern, a tuple of values, or None for any),
#: "int" (rule: (minimum, maximum), None where open) or "bool"
RULES: list[tuple[str, str, object]] = [
    ("accel:device_profile", "str", None),
    ("aggregate_instance_extra_specs:.+", "str", None),
    *((f"capabilities:{name}", "str", None) for name in _CAPABILITIES),
    *((f"capabilities:{name}(:\\w+)*", "str", None) for name in _NESTED_CAPABILITIES),
    ("hw_rng:allowed", "bool", None),
    ("hw_rng:rate_bytes", "int", (0, None)),
    ("hw_rng:rate_period", "int", (0, None)),
    ("hw_video:ram_max_mb", "int", (0, None)),
    ("hide_hypervisor_id", "bool", None),
    ("group_policy", "str", ("isolate", "none")),
    ("os:secure_boot", "str", ("disabled", "required")),
    ("pci_passthrough:alias", "str", r"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*"),
    *(
        (f"quota:{area}_{what}", kind, rule)
        for area in ("cpu", "memory", "disk_io", "vif")
        for what, kind, rule in (
            ("limit", "int", (0, None)),
            ("reservation", "int", (None, None)),
            ("shares_level", "str", _SHARES),
            ("shares_share", "int", (0, None)),
        )
    ),
    ("quota:cpu_shares", "int", (0, None)),
    ("quota:cpu_period", "int", (0, None)),
    ("quota:cpu_quota", "int", (None, None)),
    *(
        (f"quota:disk_{what}_{unit}_sec", "int", (0, None))
        for what in ("read", "write", "total")
        for unit in ("bytes", "iops")
    ),
    *(
        (f"quota:vif_{way}_{what}", "int", (0, None))
        for way in ("inbound", "outbound")
        for what in ("average", "peak", "burst")
    ),
    ("vmware:hw_version", "str", None),
    ("vmware:storage_policy", "str", None),
    (f"resources{_GROUP}:[A-Z0-9_]+", "int", (None, None)),
    (f"trait{_GROUP}:[A-Z0-9_]+", "str", ("required", "forbidden")),
    ("hw:cpu_realtime", "bool", None),
    ("hw:cpu_realtime_mask", "str", r"(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"),
    ("hw:hide_hypervisor_id", "bool", None),
    ("hw:cpu_policy", "str", ("dedicated", "shared", "mixed")),
    ("hw:cpu_thread_policy", "str", ("prefer", "isolate", "require")),
    ("hw:emulator_threads_policy", "str", ("isolate", "share")),
    ("hw:cpu_dedicated_mask", "str", _CPUSET),
    ("hw:mem_page_size", "str", r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"),
    ("hw:locked_memory", "bool", None),
    ("hw:numa_nodes", "int", (1, None)),
    (r"hw:numa_cpus\.\d+", "str", _CPUSET),
    (r"hw:numa_mem\.\d+", "int", (1, None)),
    ("hw:pci_numa_affinity_policy", "str", ("required", "preferred", "legacy", "socket")),
    *(
        (f"hw:cpu_{limit}{part}", "int", (1, None))
        for limit in ("", "max_")
        for part in ("sockets", "cores", "threads")
    ),
    ("hw:boot_menu", "bool", None),
    ("hw:vif_multiqueue_enabled", "bool", None),
    ("hw:mem_encryption", "bool", None),
    ("hw:mem_encryption_model", "str", ("amd-sev", "amd-sev-es", "amd-sev-snp")),
    ("hw:pmem", "str", r"([a-zA-Z0-9_]+(,)?)+"),
    ("hw:pmu", "bool", None),
    ("hw:serial_port_count", "int", (0, None)),
    ("hw:tpm_model", "str", ("tpm-tis", "tpm-crb")),
    ("hw:tpm_version", "str", ("1.2", "2.0")),
    ("hw:tpm_secret_security", "str", ("user", "host", "deployment")),
    ("hw:watchdog_action", "str", ("none", "pause", "poweroff", "reset", "disabled")),
    ("hw:viommu_model", "str", ("intel", "smmuv3", "virtio", "auto")),
    ("hw:virtio_packed_ring", "bool", None),
    ("hw:sound_model", "str", ("sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio")),
    ("hw:usb_model", "str", ("none", "nec-xhci", "qemu-xhci")),
    ("hw:redirected_usb_ports", "int", (0, 15)),
    ("hw:ephemeral_encryption", "bool", None),
    ("hw:ephemeral_encryption_format", "str", ("plain", "luks", "luksv2")),
]
_COMPILED = [(re.compile(pattern), kind, rule) for pattern, kind, rule in RULES]
#: the namespaces the table covers: a key in one of them must be in the table
NAMESPACES = [
    re.compile(n)
    for n in (
        "accel",
        "aggregate_instance_extra_specs",
        "capabilities",
        "hw_rng",
        "hw_video",
        "os",
        "pci_passthrough",
        "quota",
        "vmware",
        f"resources{_GROUP}",
        f"trait{_GROUP}",
        "hw",
    )
]
_BOOLEAN = {"1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no"}


def validate(key: str, value: str) -> None:
    """:raises Invalid: ``key`` is in a known namespace but unknown, or ``value`` breaks its rule."""
    for pattern, kind, rule in _COMPILED:
        if pattern.fullmatch(key):
            _check(key, value, kind, rule)
            return
    namespace, found, _ = key.partition(":")
    if found and any(n.fullmatch(namespace) for n in NAMESPACES):
        raise Invalid(f"Validation failed; extra spec '{key}' does not appear to be a valid extra spec.")


def _check(key: str, value: str, kind: str, rule: object) -> None:
    if kind == "bool":
        if value.strip().lower() not in _BOOLEAN:
            raise Invalid(f"Validation failed; '{value}' is not a valid boolean-like value (extra spec {key}).")
    elif kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise Invalid(f"Validation failed; '{value}' is not a valid integer value (extra spec {key}).") from None
        low, high = rule  # type: ignore[misc]
        if high is not None and number > high:
            raise Invalid(f"Validation failed; '{value}' is greater than the max value of '{high}' (extra spec {key}).")
        if low is not None and number < low:
            raise Invalid(f"Validation failed; '{value}' is less than the min value of '{low}' (extra spec {key}).")
    elif isinstance(rule, tuple):
        if value not in rule:
            raise Invalid(f"Validation failed; '{value}' is not one of: {', '.join(rule)} (extra spec {key}).")
    elif isinstance(rule, str) and not re.fullmatch(rule, value):
        raise Invalid(f"Validation failed; '{value}' is not of the format '{rule}' (extra spec {key}).")
