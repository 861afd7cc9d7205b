"""Options of the ``[libvirt]`` group."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

GROUP = "libvirt"

opts = [
    cfg.StrOpt("virt_type", choices=["kvm", "qemu", "xen"],
               help="Domain type of the guests. Unset: the hypervisor's entry point name ([compute] hypervisor = "
               "kvm, qemu or xen). qemu is full emulation (TCG): slow, but it runs where KVM cannot."),
    cfg.StrOpt("connection_uri", default="",
               help="libvirt URI of this host's daemon. Empty: qemu:///system for kvm and qemu, xen:///system for "
               "xen. A daemon listening on its own socket: qemu:///system?socket=/path/libvirt-sock."),
    cfg.StrOpt("instances_path", default="$state_path/instances",
               help="Directory holding each guest's files: <instances_path>/<server id>/ has its root disk (a qcow2 "
               "overlay on the cached image), local disks, config drive and console log."),
    cfg.StrOpt("console_log_directory", default="",
               help="Directory of the guests' serial console logs (<server id>.log). Empty: each guest's own "
               "directory under instances_path (console.log)."),
    cfg.IntOpt("console_log_max_bytes", default=100 * 1024, min=1024,
               help="Most bytes of a console log os-getConsoleOutput reads (its end)."),
    cfg.StrOpt("cpu_mode", choices=["host-model", "host-passthrough", "custom", "none"],
               help="Guest CPU: host-model (kvm's default), host-passthrough, custom (cpu_models), or none "
               "(the hypervisor's default CPU; the default for qemu and xen)."),
    cfg.ListOpt("cpu_models", default=[], help="With cpu_mode = custom: the CPU model(s) to offer, first usable one."),
    cfg.ListOpt("cpu_model_extra_flags", default=[],
                help="CPU features to add (name) or remove (-name) on top of the CPU mode."),
    cfg.ListOpt("disk_cachemodes", default=[],
                help="Cache mode per disk source type, as Nova's: file=none, block=none, network=writeback. "
                "Unset types use writeback when the instances directory refuses O_DIRECT, none otherwise."),
    cfg.StrOpt("disk_prefix", default="",
               help="Device name prefix of local disks (vd, sd, xvd, hd). Empty: from the disk bus."),
    cfg.StrOpt("hw_machine_type", default="",
               help="Machine type of guests whose image has no hw_machine_type (pc, q35, ...). Empty: libvirt's "
               "default."),
    cfg.IntOpt("soft_reboot_wait", default=120, min=0,
               help="Seconds a soft reboot waits for the guest to shut down before it resets it (as a hard "
               "reboot)."),
    cfg.IntOpt("detach_wait", default=30, min=1,
               help="Seconds to wait for the guest to release a hot-unplugged disk or interface."),
    cfg.BoolOpt("snapshot_compression", default=False,
                help="Compress qcow2 snapshots uploaded to the image service (smaller, slower)."),
    cfg.StrOpt("xen_hvmloader_path", default="/usr/lib/xen/boot/hvmloader",
               help="Xen's HVM firmware loader (virt_type = xen)."),
]


def register_opts(conf: Any) -> None:
    if GROUP not in conf or "virt_type" not in conf[GROUP]:
        conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
