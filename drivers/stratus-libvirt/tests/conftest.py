from __future__ import annotations

import fcntl
import os

import pytest
from stratus_libvirt import host, testing

from stratus.testing import unavailable


def require(reason: str | None, service: str = "libvirt") -> None:
    unavailable(service, reason)


#: a private libvirtd binds its mounts over /run/libvirt etc. only in its own namespace, but two
#: test runs would still race for the same QEMU machine names and CPU: the second one waits
HOST_LOCK = "/run/lock/stratus-libvirt-tests.lock"


@pytest.fixture(scope="session")
def virt_type() -> str:
    """kvm where KVM can run a guest (detected, not assumed), qemu (TCG) otherwise."""
    return "kvm" if host.kvm_usable()[0] else "qemu"


@pytest.fixture(scope="session")
def libvirtd(tmp_path_factory):
    require(testing.Libvirtd.missing())
    os.makedirs(os.path.dirname(HOST_LOCK), exist_ok=True)
    with open(HOST_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        daemon = testing.Libvirtd(str(tmp_path_factory.mktemp("libvirtd")))
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


@pytest.fixture(scope="session")
def guest_image(tmp_path_factory) -> str:
    """The tiny bootable guest (raw), built from Debian's packages for this run."""
    require(testing.missing_tools())
    return testing.build_guest_image(str(tmp_path_factory.mktemp("guest")))


def driver_config(libvirtd, virt_type: str, state: str, **extra: str) -> str:
    options = {"virt_type": virt_type, "connection_uri": libvirtd.uri, "instances_path": f"{state}/instances",
               "soft_reboot_wait": "3", "detach_wait": "60", **extra}
    return (f"[DEFAULT]\nstate_path = {state}\n[libvirt]\n"
            + "".join(f"{key} = {value}\n" for key, value in options.items()))
