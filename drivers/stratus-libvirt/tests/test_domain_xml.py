"""The domain XML for kvm, qemu and xen: valid by libvirt's schema (virt-xml-validate), accepted and
run by libvirt's test driver (``test:///default``), and shaped by the image's hardware properties.
No daemon needed: the Xen path is checked this way where no Xen host exists."""

from __future__ import annotations

import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest
from stratus_libvirt import domain
from stratus_libvirt.domain import CpuConfig, Disk, Guest

from stratus.exceptions import Invalid
from stratus.interfaces.hypervisor import InstanceSpec, NetworkInterface


def guest(virt_type: str, properties: dict[str, str] | None = None, nics=(), extra_disks=()) -> Guest:
    hardware = domain.hardware(virt_type, properties or {})
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="xml <test> & co", vcpus=2, memory_mb=256, root_gb=1,
                        image_properties=properties or {}, flavor_name="m1.small", image_id=str(uuid.uuid4()))
    root = domain.device_names(hardware.disk_bus, 1)[0]
    disks = (Disk(root, hardware.disk_bus, "/var/lib/stratus/instances/x/disk", boot_order=1), *extra_disks)
    cpu = CpuConfig("host-model" if virt_type == "kvm" else "none")
    return Guest(virt_type, "host-1", spec, hardware, disks, tuple(nics), "/var/lib/stratus/x/console.log", cpu,
                 vnc_listen="127.0.0.1")


def ovs_nic() -> NetworkInterface:
    return NetworkInterface(port_id=str(uuid.uuid4()), mac_address="fa:16:3e:12:34:56", vif_type="ovs",
                            vif_details={"bridge_name": "br-int"}, mtu=1450)


def cdrom(bus: str) -> Disk:
    return Disk(domain.device_names(bus, 1, ["vda", "xvda", "sda"])[0] if bus != "ide" else "hdc", bus,
                "/var/lib/stratus/instances/x/disk.config", "raw", device="cdrom", readonly=True)


CASES = {
    "kvm": guest("kvm", nics=[ovs_nic()], extra_disks=[cdrom("ide")]),
    "qemu": guest("qemu", {"hw_disk_bus": "scsi", "hw_vif_model": "e1000", "hw_machine_type": "q35",
                           "hw_firmware_type": "uefi"}, nics=[ovs_nic()], extra_disks=[cdrom("sata")]),
    "xen": guest("xen", nics=[ovs_nic()], extra_disks=[cdrom("ide")]),
    "xen-pv": guest("xen", {"vm_mode": "xen"}, nics=[ovs_nic()]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_xml_is_valid_by_libvirts_schema(case, tmp_path):
    if shutil.which("virt-xml-validate") is None or shutil.which("xmllint") is None:
        pytest.skip("virt-xml-validate needs Debian's libvirt-clients and libxml2-utils")
    path = tmp_path / "domain.xml"
    path.write_text(domain.domain_xml(CASES[case]))
    done = subprocess.run(["virt-xml-validate", str(path), "domain"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_libvirts_test_driver_defines_and_runs_it(case):
    conn = libvirt.open("test:///default")
    try:
        dom = conn.defineXML(domain.domain_xml(CASES[case]))
        dom.create()
        assert dom.isActive() and dom.UUIDString() == CASES[case].instance.uuid
        metadata = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, domain.NAMESPACE, 0)
        values = domain.parse_metadata(metadata)
        assert values["host"] == "host-1" and values["sizes"]["vcpus"] == 2
        dom.destroy()
        dom.undefine()
    finally:
        conn.close()


def test_xen_guests_get_xen_devices_and_the_hvm_loader():
    root = ET.fromstring(domain.domain_xml(CASES["xen"]))
    assert root.get("type") == "xen"
    assert root.find("os/type").text == "hvm" and root.find("os/type").get("machine") == "xenfv"
    assert root.find("os/loader").text == "/usr/lib/xen/boot/hvmloader"
    assert root.find("devices/disk/target").attrib == {"dev": "xvda", "bus": "xen"}
    assert root.find("devices/interface/model") is None  # netfront: Xen's own, no emulated model
    assert root.find("cpu") is None and root.find("devices/memballoon") is None
    pv = ET.fromstring(domain.domain_xml(CASES["xen-pv"]))
    assert pv.find("os/type").text == "xen" and pv.findtext("bootloader").endswith("pygrub")
    assert pv.find("devices/console/target").get("type") == "xen"


def test_image_properties_choose_buses_models_machine_and_firmware():
    root = ET.fromstring(domain.domain_xml(CASES["qemu"]))
    assert root.find("os").get("firmware") == "efi" and root.find("os/type").get("machine") == "q35"
    assert root.find("devices/disk/target").attrib == {"dev": "sda", "bus": "scsi"}
    assert root.find("devices/controller[@type='scsi']").get("model") == "virtio-scsi"
    assert root.find("devices/interface/model").get("type") == "e1000"
    kvm = ET.fromstring(domain.domain_xml(CASES["kvm"]))
    assert kvm.find("cpu").get("mode") == "host-model"
    assert kvm.find("devices/disk/target").attrib == {"dev": "vda", "bus": "virtio"}
    assert kvm.find("devices/disk/boot").get("order") == "1"
    assert kvm.find("devices/serial/log").get("file").endswith("console.log")
    assert kvm.find("title").text == "xml <test> & co"  # escaped on the way out, intact on the way in


def test_ovs_ports_are_plugged_by_libvirt_with_the_port_id():
    nic = ovs_nic()
    element = domain.interface_element(nic, "kvm", "virtio")
    assert element.get("type") == "bridge" and element.find("source").get("bridge") == "br-int"
    assert element.find("virtualport").get("type") == "openvswitch"
    assert element.find("virtualport/parameters").get("interfaceid") == nic.port_id
    assert element.find("target").get("dev") == ("tap" + nic.port_id)[:14]
    assert element.find("mtu").get("size") == "1450"
    bridge = domain.interface_element(NetworkInterface(port_id="p", mac_address="fa:16:3e:00:00:01",
                                                       vif_type="bridge", vif_details={"bridge_name": "brq1"}),
                                      "qemu", "virtio")
    assert bridge.find("source").get("bridge") == "brq1" and bridge.find("virtualport") is None


@pytest.mark.parametrize(("properties", "named"), [
    ({"hw_disk_bus": "floppy"}, "hw_disk_bus"),
    ({"hw_vif_model": "tulip"}, "hw_vif_model"),
    ({"hw_firmware_type": "coreboot"}, "hw_firmware_type"),
    ({"hw_machine_type": "q35", "hw_disk_bus": "ide"}, "hw_disk_bus"),
    ({"hw_disk_bus": "xen"}, "hw_disk_bus"),
])
def test_unsupported_hardware_properties_are_refused_by_name(properties, named):
    with pytest.raises(Invalid, match=named):
        domain.hardware("kvm", properties)


def test_unknown_vif_types_are_refused():
    nic = NetworkInterface(port_id="p", mac_address="fa:16:3e:00:00:01", vif_type="vhostuser")
    with pytest.raises(Invalid, match="vhostuser"):
        domain.interface_element(nic, "kvm", "virtio")


def test_device_names_skip_taken_ones_and_go_past_z():
    assert domain.device_names("virtio", 2, ["vda", "vdc"]) == ["vdb", "vdd"]
    assert domain.device_names("scsi", 1, [f"sd{chr(c)}" for c in range(97, 123)]) == ["sdaa"]
    assert domain.bus_of("xvdb") == "xen" and domain.bus_of("vdc") == "virtio" and domain.bus_of("hdc") == "ide"
    with pytest.raises(Invalid):
        domain.bus_of("nvme0n1")
