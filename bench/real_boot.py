"""Real guests: seconds from ``POST /servers`` to the guest's marker on its console, beside the
floor — libvirt alone creating the same domain (the driver's own XML) from the same disk (a qcow2
overlay on the same image) until the same marker, in the same run — and what Stratus adds.

    python bench/real_boot.py              # 5 boots each way (root: it starts a private libvirtd)
    python bench/real_boot.py --boots 10

Needs drivers/stratus-libvirt installed and what its tests need (libvirtd, QEMU, the tools that
build the guest image). Uses KVM where KVM can run guests, QEMU's emulation otherwise. The first
boot through Stratus also fetches the image into the host's cache: it is shown apart. The API
side polls the console output every 0.1 s, the floor reads the log every 0.1 s too. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import libvirt
from stratus_libvirt import domain, host, testing

from stratus.interfaces.hypervisor import InstanceSpec
from stratus.testing import EmbeddedCloud

POLL = 0.1


def floor(uri: str, virt_type: str, image: str, directory: str, boots: int) -> list[float]:
    """Seconds from defining the domain to the marker, libvirt alone."""
    conn = libvirt.open(uri)
    hardware = domain.hardware(virt_type, {})
    cpu = domain.CpuConfig("host-model" if virt_type == "kvm" else "none")  # the driver's default
    times = []
    try:
        for _ in range(boots):
            spec = InstanceSpec(uuid=str(uuid.uuid4()), name="floor", vcpus=1, memory_mb=128, root_gb=1)
            disk, log = os.path.join(directory, f"{spec.uuid}.qcow2"), os.path.join(directory, f"{spec.uuid}.log")
            begin = time.perf_counter()
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image, disk, "1G"],
                           check=True)
            root = domain.Disk("vda", "virtio", disk, boot_order=1)
            with socket.socket() as probe:  # the driver's default consoles: VNC, the serial port on TCP
                probe.bind(("127.0.0.1", 0))
                serial_port = probe.getsockname()[1]
            guest = domain.Guest(virt_type, "bench", spec, hardware, (root,), (), log, cpu, vnc_listen="127.0.0.1",
                                 serial_tcp=("127.0.0.1", serial_port))
            dom = conn.defineXML(domain.domain_xml(guest))
            dom.create()
            while not (os.path.exists(log) and testing.MARKER.encode() in Path(log).read_bytes()):
                time.sleep(POLL)
            times.append(time.perf_counter() - begin)
            dom.destroy()
            dom.undefine()
            os.unlink(disk)
    finally:
        conn.close()
    return times


def through_stratus(uri: str, virt_type: str, image: str, directory: str, boots: int) -> list[float]:
    """Seconds from POST /servers to the marker in os-getConsoleOutput."""
    config = (f"[compute]\nhypervisor = {virt_type}\nshutdown_timeout = 0\n"
              f"[libvirt]\nconnection_uri = {uri}\n")
    cloud = EmbeddedCloud(Path(directory), config, timeout=120)
    times = []
    try:
        conn = cloud.connect()
        flavor = conn.compute.create_flavor(name="bench", ram=128, vcpus=1, disk=1)
        made = conn.image.create_image(name="guest", filename=image, disk_format="raw", container_format="bare",
                                       wait=True)
        network = conn.network.find_network("private")
        for _ in range(boots):
            begin = time.perf_counter()
            server = conn.compute.create_server(name="boot", image_id=made.id, flavor_id=flavor.id,
                                                networks=[{"uuid": network.id}])
            while True:
                current = conn.compute.get_server(server.id)
                if current.status == "ERROR":
                    raise RuntimeError(f"server {server.id} failed: {current.fault}")
                if current.status == "ACTIVE" and testing.MARKER in \
                        conn.compute.get_server_console_output(server.id)["output"]:
                    break
                time.sleep(POLL)
            times.append(time.perf_counter() - begin)
            conn.compute.delete_server(server.id)
            conn.compute.wait_for_delete(server, wait=120)
        conn.close()
    finally:
        cloud.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boots", type=int, default=5, help="boots each way (default 5)")
    args = parser.parse_args()
    reason = testing.Libvirtd.missing() or testing.missing_tools()
    if reason:
        raise SystemExit(f"real_boot: cannot run here: {reason}")
    virt_type = "kvm" if host.kvm_usable()[0] else "qemu"
    with tempfile.TemporaryDirectory(prefix="real-boot-") as scratch:
        daemon = testing.Libvirtd(os.path.join(scratch, "libvirtd")).start()
        try:
            image = testing.build_guest_image(os.path.join(scratch, "guest"))
            os.makedirs(os.path.join(scratch, "floor"))
            libvirt_alone = floor(daemon.uri, virt_type, image, os.path.join(scratch, "floor"), args.boots)
            os.makedirs(os.path.join(scratch, "cloud"))
            stratus = through_stratus(daemon.uri, virt_type, image, os.path.join(scratch, "cloud"), args.boots + 1)
        finally:
            daemon.stop()
    first, warm = stratus[0], stratus[1:]
    print(f"real_boot ({virt_type}, {args.boots} boots each way; seconds to {testing.MARKER} on the console)")
    print(f"  libvirt alone (floor)      median {statistics.median(libvirt_alone):6.2f}  "
          f"min {min(libvirt_alone):6.2f}  max {max(libvirt_alone):6.2f}")
    print(f"  POST /servers, image cached median {statistics.median(warm):6.2f}  "
          f"min {min(warm):6.2f}  max {max(warm):6.2f}")
    print(f"  POST /servers, first boot  {first:6.2f}  (fetches the image into the host's cache)")
    print(f"  Stratus adds (medians)     {statistics.median(warm) - statistics.median(libvirt_alone):6.2f}")


if __name__ == "__main__":
    main()
