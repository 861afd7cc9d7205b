"""Domain XML from a server's spec, its disks, interfaces and the image's hardware properties.

Pure functions of their arguments (no libvirt connection), so the XML for kvm, qemu and xen
can be checked anywhere — against libvirt's schema with ``virt-xml-validate`` too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from stratus.exceptions import Invalid
from stratus.interfaces.hypervisor import InstanceSpec, NetworkInterface

#: the namespace of the ``<metadata>`` element that marks a domain as a Stratus server
NAMESPACE = "https://stratus.invalid/xmlns/libvirt/instance/1"

DISK_BUSES = ("virtio", "scsi", "sata", "ide", "usb", "xen")
VIF_MODELS = ("virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet", "netfront")
FIRMWARE = ("bios", "uefi")
PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd", "xen": "xvd"}
BUS_OF_PREFIX = {"vd": "virtio", "sd": "scsi", "hd": "ide", "xvd": "xen"}


@dataclass(frozen=True, slots=True)
class Disk:
    """One disk of the domain."""

    target: str
    bus: str
    source: str
    format: str = "qcow2"
    source_type: str = "file"  # file | block
    device: str = "disk"  # disk | cdrom
    cache: str = "writeback"
    serial: str | None = None
    readonly: bool = False
    boot_order: int | None = None


@dataclass(frozen=True, slots=True)
class Hardware:
    """The image's hardware choices (Nova's ``hw_*`` properties), checked."""

    disk_bus: str
    cdrom_bus: str
    vif_model: str
    machine_type: str | None
    firmware: str
    guest_mode: str = "hvm"  # hvm | xen (Xen paravirtual)
    extra: Mapping[str, str] = field(default_factory=dict)


def hardware(virt_type: str, properties: Mapping[str, str], default_machine: str = "") -> Hardware:
    """The image ``properties``' hardware choices for ``virt_type``, with Nova's defaults.

    :raises Invalid: a property names a bus, model or firmware this driver does not offer.
    """
    xen = virt_type == "xen"
    disk_bus = properties.get("hw_disk_bus") or ("xen" if xen else "virtio")
    machine = properties.get("hw_machine_type") or default_machine or None
    q35 = bool(machine and "q35" in machine)
    cdrom_bus = properties.get("hw_cdrom_bus") or ("sata" if q35 else "ide")
    vif_model = properties.get("hw_vif_model") or ("netfront" if xen else "virtio")
    firmware = properties.get("hw_firmware_type") or "bios"
    for name, value, allowed in (("hw_disk_bus", disk_bus, DISK_BUSES), ("hw_cdrom_bus", cdrom_bus, DISK_BUSES),
                                 ("hw_vif_model", vif_model, VIF_MODELS), ("hw_firmware_type", firmware, FIRMWARE)):
        if value not in allowed:
            raise Invalid(f"Image property {name}={value!r} is not supported by the libvirt driver; "
                          f"choose one of {', '.join(allowed)}.")
    if disk_bus == "xen" and not xen:
        raise Invalid("Image property hw_disk_bus=xen needs virt_type xen.")
    if q35 and "ide" in (disk_bus, cdrom_bus):
        raise Invalid(f"Machine type {machine} has no IDE bus; set hw_disk_bus/hw_cdrom_bus to sata, scsi or virtio.")
    guest_mode = "xen" if xen and properties.get("vm_mode") in ("xen", "pv") else "hvm"
    return Hardware(disk_bus, cdrom_bus, vif_model, machine, firmware, guest_mode)


def device_names(bus: str, count: int, taken: Iterable[str] = (), prefix: str = "") -> list[str]:
    """``count`` free device names on ``bus`` (vda, vdb, ...; sda...; hda...; xvda...)."""
    prefix = prefix or PREFIX[bus]
    used, names = set(taken), []
    for index in range(26 * 27):
        name = prefix + (chr(97 + index) if index < 26 else chr(96 + index // 26) + chr(97 + index % 26))
        if name not in used:
            names.append(name)
            if len(names) == count:
                return names
    raise Invalid(f"No free {prefix} device name left.")


def bus_of(target: str) -> str:
    """The bus a device name such as ``vdb`` or ``xvdc`` implies."""
    for prefix in ("xvd", "vd", "sd", "hd"):
        if target.startswith(prefix):
            return BUS_OF_PREFIX[prefix]
    raise Invalid(f"Device name {target!r} does not say its bus (vdX, sdX, hdX or xvdX).")


def tap_name(port_id: str) -> str:
    """The host's tap device of a port, as Nova names it (15 characters at most)."""
    return ("tap" + port_id)[:14]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def disk_element(disk: Disk, virt_type: str) -> ET.Element:
    element = ET.Element("disk", {"type": disk.source_type, "device": disk.device})
    driver = {"name": "qemu", "type": disk.format, "cache": disk.cache}
    if virt_type == "xen" and disk.format == "raw" and disk.source_type == "block":
        driver = {"name": "phy"}
    _sub(element, "driver", **driver)
    _sub(element, "source", **({"file": disk.source} if disk.source_type == "file" else {"dev": disk.source}))
    _sub(element, "target", dev=disk.target, bus=disk.bus)
    if disk.boot_order is not None:
        _sub(element, "boot", order=str(disk.boot_order))
    if disk.readonly:
        _sub(element, "readonly")
    if disk.serial:
        _sub(element, "serial", disk.serial[:20])
    return element


def interface_element(nic: NetworkInterface, virt_type: str, model: str) -> ET.Element:
    """The ``<interface>`` of a bound port, by its ``vif_type``.

    ``ovs``: a tap on the port's bridge that libvirt plugs into Open vSwitch with the port's id as
    ``iface-id`` (the network agent wires it from there); ``bridge``: a tap on a Linux bridge;
    ``tap``/``ethernet``/``logical``: a bare tap device (``logical`` ports have no data path).
    """
    details = nic.vif_details
    if nic.vif_type == "ovs":
        element = ET.Element("interface", {"type": "bridge"})
        _sub(element, "source", bridge=str(details.get("bridge_name") or "br-int"))
        virtualport = _sub(element, "virtualport", type="openvswitch")
        _sub(virtualport, "parameters", interfaceid=nic.port_id)
    elif nic.vif_type == "bridge":
        element = ET.Element("interface", {"type": "bridge"})
        _sub(element, "source", bridge=str(details.get("bridge_name") or ""))
    elif nic.vif_type in ("tap", "ethernet", "logical"):
        element = ET.Element("interface", {"type": "ethernet"})
    else:
        raise Invalid(f"Port {nic.port_id} has vif_type {nic.vif_type!r}, which the libvirt driver cannot plug.")
    _sub(element, "mac", address=nic.mac_address)
    _sub(element, "target", dev=str(details.get("devname") or tap_name(nic.port_id)))
    if virt_type != "xen" or model != "netfront":
        _sub(element, "model", type=model)
    if nic.mtu and virt_type != "xen":
        _sub(element, "mtu", size=str(nic.mtu))
    return element


@dataclass(frozen=True, slots=True)
class CpuConfig:
    mode: str  # host-model | host-passthrough | custom | none
    models: tuple[str, ...] = ()
    extra_flags: tuple[str, ...] = ()


def cpu_element(cpu: CpuConfig, vcpus: int) -> ET.Element | None:
    if cpu.mode == "none" and not cpu.extra_flags:
        return None
    attrs = {"mode": cpu.mode} if cpu.mode != "none" else {}
    if cpu.mode == "custom":
        attrs["match"] = "exact"
    element = ET.Element("cpu", attrs)
    if cpu.mode == "custom":
        if not cpu.models:
            raise Invalid("[libvirt] cpu_mode = custom needs cpu_models.")
        _sub(element, "model", cpu.models[0], fallback="allow")
    for flag in cpu.extra_flags:
        _sub(element, "feature", policy="disable" if flag.startswith("-") else "require", name=flag.lstrip("-+"))
    _sub(element, "topology", sockets=str(vcpus), dies="1", cores="1", threads="1")
    return element


@dataclass(frozen=True, slots=True)
class Guest:
    """Everything a domain is made of."""

    virt_type: str
    host: str
    instance: InstanceSpec
    hardware: Hardware
    disks: tuple[Disk, ...]
    interfaces: tuple[NetworkInterface, ...]
    console_log: str
    cpu: CpuConfig
    xen_loader: str = "/usr/lib/xen/boot/hvmloader"
    #: a VNC server on this address (autoport), or none
    vnc_listen: str | None = None
    #: the serial console on a TCP port of the host (the console proxy connects to it), else a pty
    serial_tcp: tuple[str, int] | None = None


def domain_name(uuid: str) -> str:
    return f"stratus-{uuid}"


def metadata_values(guest: Guest) -> dict[str, object]:
    """What marks the domain as ours and what the driver reads back after a restart."""
    spec = guest.instance
    return {"host": guest.host, "name": spec.name, "flavor": spec.flavor_name or "", "image": spec.image_id or "",
            "sizes": {"vcpus": spec.vcpus, "memory_mb": spec.memory_mb, "root_gb": spec.root_gb,
                      "ephemeral_gb": spec.ephemeral_gb, "swap_mb": spec.swap_mb}}


def metadata_element(values: dict[str, object]) -> ET.Element:
    """The ``<stratus:instance>`` element of :func:`metadata_values`."""
    # prefixed names with the declaration on the element itself: libvirt keeps a metadata element
    # only with its own namespace declaration
    element = ET.Element("stratus:instance", {"xmlns:stratus": NAMESPACE})
    for tag, value in values.items():
        _sub(element, f"stratus:{tag}", json.dumps(value, sort_keys=True) if tag == "sizes" else str(value))
    return element


def domain_xml(guest: Guest) -> str:
    """The domain's XML."""
    spec, hw = guest.instance, guest.hardware
    xen = guest.virt_type == "xen"
    domain = ET.Element("domain", {"type": guest.virt_type})
    _sub(domain, "name", domain_name(spec.uuid))
    _sub(domain, "uuid", spec.uuid)
    _sub(domain, "title", spec.name[:255] if spec.name else spec.uuid)
    _sub(domain, "metadata").append(metadata_element(metadata_values(guest)))
    _sub(domain, "memory", str(spec.memory_mb), unit="MiB")
    _sub(domain, "currentMemory", str(spec.memory_mb), unit="MiB")
    _sub(domain, "vcpu", str(spec.vcpus))
    if not xen:
        sysinfo = _sub(domain, "sysinfo", type="smbios")
        system = _sub(sysinfo, "system")
        for name, value in (("manufacturer", "Stratus"), ("product", "OpenStack Compute"),
                            ("serial", spec.uuid), ("uuid", spec.uuid), ("family", "Virtual Machine")):
            _sub(system, "entry", value, name=name)
    if xen and hw.guest_mode == "xen":
        _sub(domain, "bootloader", "/usr/lib/xen/bin/pygrub")  # before <os>: libvirt's schema orders them
    os_element = _sub(domain, "os", **({"firmware": "efi"} if hw.firmware == "uefi" else {}))
    if xen and hw.guest_mode == "xen":
        _sub(os_element, "type", "xen", arch="x86_64", machine="xenpv")
    elif xen:
        _sub(os_element, "type", "hvm", arch="x86_64", machine="xenfv")
        if hw.firmware == "bios":
            _sub(os_element, "loader", guest.xen_loader)
    else:
        _sub(os_element, "type", "hvm", arch="x86_64", **({"machine": hw.machine_type} if hw.machine_type else {}))
        _sub(os_element, "smbios", mode="sysinfo")
    if not (xen and hw.guest_mode == "xen"):
        features = _sub(domain, "features")
        _sub(features, "acpi")
        _sub(features, "apic")
        if xen:
            _sub(features, "pae")
    cpu = cpu_element(guest.cpu, spec.vcpus) if not xen else None
    if cpu is not None:
        domain.append(cpu)
    _sub(domain, "clock", offset="utc")
    _sub(domain, "on_poweroff", "destroy")
    _sub(domain, "on_reboot", "restart")
    _sub(domain, "on_crash", "destroy")
    devices = _sub(domain, "devices")
    if any(disk.bus == "scsi" for disk in guest.disks) and not xen:
        _sub(devices, "controller", type="scsi", model="virtio-scsi", index="0")
    for disk in guest.disks:
        devices.append(disk_element(disk, guest.virt_type))
    for nic in guest.interfaces:
        devices.append(interface_element(nic, guest.virt_type, hw.vif_model))
    chardev = "tcp" if guest.serial_tcp else "pty"
    for tag in ("serial", "console"):
        element = _sub(devices, tag, type=chardev)
        if guest.serial_tcp:
            address, port = guest.serial_tcp
            _sub(element, "source", mode="bind", host=address, service=str(port))
            _sub(element, "protocol", type="raw")
        if tag == "serial":
            _sub(element, "log", file=guest.console_log, append="on")
            _sub(element, "target", port="0")
        else:
            _sub(element, "target", type="xen" if xen and hw.guest_mode == "xen" else "serial", port="0")
    if guest.vnc_listen is not None:
        _sub(devices, "graphics", type="vnc", autoport="yes", listen=guest.vnc_listen)
        _sub(_sub(devices, "video"), "model", type="vga" if not xen else "cirrus")
    if not xen:
        _sub(devices, "memballoon", model="virtio")
        rng = _sub(devices, "rng", model="virtio")
        _sub(rng, "backend", "/dev/urandom", model="random")
    ET.indent(domain)
    return ET.tostring(domain, encoding="unicode")


def parse_metadata(element_xml: str) -> dict[str, object] | None:
    """What :func:`metadata_element` wrote, from the element libvirt gives back for our namespace
    (libvirt returns it without the namespace); None for anything else."""
    element = ET.fromstring(element_xml)
    if element.tag.split("}", 1)[-1] != "instance":
        return None
    found: dict[str, object] = {}
    for child in element:
        tag = child.tag.split("}", 1)[-1]
        found[tag] = json.loads(child.text or "{}") if tag == "sizes" else (child.text or "")
    return found
