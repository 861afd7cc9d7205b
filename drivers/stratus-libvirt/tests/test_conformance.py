"""The conformance kit's hypervisor suite against a real libvirt daemon and QEMU."""

from __future__ import annotations

import libvirt

from stratus import conformance
from tests.conftest import driver_config


def test_the_libvirt_driver_passes_the_hypervisor_suite(libvirtd, guest_image, virt_type, tmp_path):
    config = tmp_path / "stratus.conf"
    config.write_text(driver_config(libvirtd, virt_type, str(tmp_path))
                      + f"[conformance]\nimage_path = {guest_image}\n")
    outcome = conformance.run(f"stratus.hypervisor:{virt_type}", str(config))
    # every capability the driver declares is exercised: nothing skipped
    assert outcome.ok and outcome.passed and not outcome.skipped, outcome
    conn = libvirt.open(libvirtd.uri)
    try:
        assert conn.listAllDomains(0) == [], "the suite's servers left domains behind"
    finally:
        conn.close()
    assert sorted(p.name for p in (tmp_path / "instances").iterdir()) == [], "disks left behind"
