"""What this host offers: whether KVM can run guests, its CPU as libvirt describes it."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from typing import Any

from stratus_libvirt.domain import CpuConfig


def kvm_usable() -> tuple[bool, str]:
    """Whether hardware-accelerated guests can run here, and why not.

    ``/dev/kvm`` existing is not enough: some hosts (paravirtual KVM inside a VM) offer it
    without the CPU's virtualisation extensions, and ordinary guest kernels crash there.
    """
    if not os.path.exists("/dev/kvm"):
        return False, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not readable and writable by this user"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = {flag for line in cpuinfo if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError as exc:
        return False, f"cannot read /proc/cpuinfo: {exc}"
    if not flags & {"vmx", "svm"}:
        return False, "the CPU has no virtualisation extensions (vmx/svm), so /dev/kvm is not a usable KVM"
    return True, ""


def cpu_config(virt_type: str, options: Any) -> CpuConfig:
    """The guest CPU from ``[libvirt] cpu_mode``: host-model by default on kvm, the hypervisor's own
    CPU (none) on qemu and xen, as Nova's defaults."""
    mode = options.cpu_mode or ("host-model" if virt_type == "kvm" else "none")
    return CpuConfig(mode, tuple(options.cpu_models), tuple(options.cpu_model_extra_flags))


def cpu_info(capabilities_xml: str) -> dict[str, str]:
    """The host CPU from libvirt's capabilities: arch, model, vendor, topology and features (the
    last two as JSON, as Nova's ``cpu_info`` holds them)."""
    cpu = ET.fromstring(capabilities_xml).find("host/cpu")
    if cpu is None:
        return {}
    topology = cpu.find("topology")
    return {
        "arch": cpu.findtext("arch") or "",
        "model": cpu.findtext("model") or "",
        "vendor": cpu.findtext("vendor") or "",
        "topology": json.dumps({k: int(v) for k, v in (topology.attrib if topology is not None else {}).items()
                                if v.isdigit()}, sort_keys=True),
        "features": json.dumps(sorted(f.get("name", "") for f in cpu.findall("feature"))),
    }
