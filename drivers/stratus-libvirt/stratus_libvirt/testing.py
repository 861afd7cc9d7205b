"""For tests and benches: a private libvirt daemon and a tiny bootable guest image.

:class:`Libvirtd` starts Debian's monolithic ``libvirtd`` as root in a private mount namespace
with its own configuration, state and socket under a directory of the caller's (nothing under
/etc/libvirt or /run/libvirt is touched), and stops it with every guest it ran.

:func:`build_guest_image` builds, from Debian's packages (the kernel and busybox-static, fetched
with ``apt-get download`` into a cache once and unpacked, never installed), a BIOS-bootable disk
of about 12 MiB: MBR + FAT + SYSLINUX + the kernel + a busybox initramfs. Its init prints
``STRATUS-GUEST-UP`` on the serial console (also kept in /etc/marker), runs a shell on it, loads
virtio, ACPI button and CD-ROM drivers, prints what a config drive tells it
(``STRATUS-GUEST-META <meta_data.json>``, ``STRATUS-GUEST-USERDATA <its start>``), asks DHCP
for an address on each NIC (``STRATUS-GUEST-NET <if> <ip>``), then reports every disk that
appears (``STRATUS-GUEST-DISK <name> <bytes> <first 32 bytes>``) and powers off on an ACPI
power button.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

MARKER = "STRATUS-GUEST-UP"
#: modules loaded in this order (no modules.dep in the initramfs)
MODULES = ("drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_pci_modern_dev",
           "drivers/virtio/virtio_pci_legacy_dev", "drivers/virtio/virtio_pci", "drivers/block/virtio_blk",
           "net/core/failover", "drivers/net/net_failover", "drivers/net/virtio_net", "drivers/acpi/button",
           "drivers/input/evdev", "drivers/scsi/scsi_common", "drivers/scsi/scsi_mod", "drivers/ata/libata",
           "drivers/ata/ata_piix", "drivers/cdrom/cdrom", "drivers/scsi/sr_mod", "fs/isofs/isofs")
TOOLS = {"sfdisk": "fdisk", "mkfs.fat": "dosfstools", "mcopy": "mtools", "syslinux": "syslinux",
         "cpio": "cpio", "qemu-img": "qemu-utils", "apt-get": "apt", "dpkg-deb": "dpkg"}
SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin"

INIT = r"""#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev 2>/dev/null
echo "STRATUS-GUEST-UP kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)" > /etc/marker
cat /etc/marker > /dev/ttyS0
# a shell on the serial console, for whoever is connected to it (the console proxy's tests)
(while true; do setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'; sleep 1; done) &
for m in $(cat /modules); do insmod /mod/$m.ko 2>/dev/null; done
# a config drive (ISO 9660, label config-2): what the guest learns of itself, as cloud-init would
mkdir -p /config
for try in 1 2 3 4 5; do
  for dev in /dev/sr0 /dev/sr1 /dev/hdc /dev/hdd; do
    [ -b $dev ] && mount -t iso9660 -o ro $dev /config 2>/dev/null && break 2
  done
  sleep 1
done
if [ -f /config/openstack/latest/meta_data.json ]; then
  echo "STRATUS-GUEST-META $(cat /config/openstack/latest/meta_data.json)" > /dev/ttyS0
  [ -f /config/openstack/latest/user_data ] && \
    echo "STRATUS-GUEST-USERDATA $(head -c 200 /config/openstack/latest/user_data | tr '\n' ' ')" > /dev/ttyS0
fi
mkdir -p /var/log /var/run
acpid -f -c /etc/acpi -l /tmp/acpid.log -p /tmp/acpid.pid &
ip link set lo up
for dev in /sys/class/net/*; do
  nic=${dev##*/}
  [ "$nic" = lo ] && continue
  ip link set "$nic" up
  (udhcpc -i "$nic" -n -q -t 5 -T 2 -s /etc/udhcpc.script >/dev/null 2>&1 \
    || echo "STRATUS-GUEST-NET $nic none" > /dev/ttyS0) &
done
seen=""
while true; do
  for b in /sys/block/*; do
    name=${b##*/}
    case " $seen " in *" $name "*) continue;; esac
    seen="$seen $name"
    size=$(( $(cat $b/size) * 512 ))
    head=$(head -c 32 /dev/$name 2>/dev/null | tr -c 'A-Za-z0-9._-' '.')
    echo "STRATUS-GUEST-DISK $name $size $head" > /dev/ttyS0
  done
  for name in $seen; do
    [ -e /sys/block/$name ] && continue
    echo "STRATUS-GUEST-DISK-GONE $name" > /dev/ttyS0
    seen=$(echo " $seen " | sed "s/ $name / /")
  done
  sleep 1
done
"""

UDHCPC = r"""#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add $ip/${mask:-24} dev $interface
[ -n "$router" ] && ip route add default via ${router%% *} dev $interface
echo "STRATUS-GUEST-NET $interface $ip" > /dev/ttyS0
"""

SYSLINUX_CFG = """SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT linux
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0,115200 panic=-1 quiet
"""


def missing_tools() -> str | None:
    """Why the guest image cannot be built here, or None."""
    absent = [f"{tool} ({package})" for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if not os.path.exists(SYSLINUX_MBR):
        absent.append(f"{SYSLINUX_MBR} (syslinux-common)")
    return f"missing {', '.join(absent)}" if absent else None


def _run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _package(name: str, cache: str) -> str:
    """``name``'s Debian package unpacked under ``cache`` (downloaded once)."""
    tree = os.path.join(cache, name)
    if os.path.isdir(tree):
        return tree
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        try:
            _run(["apt-get", "download", "-q", name], cwd=scratch)
        except RuntimeError:  # package lists never fetched on this machine (or stale): fetch them once
            _run(["apt-get", "update", "-qq"])
            _run(["apt-get", "download", "-q", name], cwd=scratch)
        debs = glob.glob(os.path.join(scratch, "*.deb"))
        _run(["dpkg-deb", "-x", debs[0], os.path.join(scratch, "tree")])
        os.replace(os.path.join(scratch, "tree"), tree)
    return tree


def _kernel_package() -> str:
    try:
        depends = _run(["apt-cache", "depends", "linux-image-amd64"])
    except RuntimeError:
        _run(["apt-get", "update", "-qq"])
        depends = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in depends.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    raise RuntimeError("apt-cache names no kernel for linux-image-amd64")


def _initramfs(kernel_tree: str, busybox: str, target: str) -> None:
    modules_root = glob.glob(os.path.join(kernel_tree, "lib/modules/*/kernel"))[0]
    with tempfile.TemporaryDirectory() as root:
        for directory in ("bin", "sbin", "proc", "sys", "dev", "etc/acpi/PWRF", "mod", "tmp", "var/log", "var/run"):
            os.makedirs(os.path.join(root, directory))
        shutil.copy(busybox, os.path.join(root, "bin/busybox"))
        applets = _run([busybox, "--list"]).split()
        for applet in applets:
            if applet != "busybox":
                os.symlink("busybox", os.path.join(root, "bin", applet))
        loaded = []
        for module in MODULES:
            source = os.path.join(modules_root, module + ".ko")
            if os.path.exists(source):
                shutil.copy(source, os.path.join(root, "mod"))
                loaded.append(os.path.basename(module))
        for name, content in (("init", INIT), ("etc/udhcpc.script", UDHCPC),
                              ("etc/acpi/PWRF/00000080", "#!/bin/sh\npoweroff -f\n"), ("modules", " ".join(loaded))):
            path = os.path.join(root, name)
            with open(path, "w") as handle:
                handle.write(content)
            os.chmod(path, 0o755)  # noqa: S103 - the guest's init and scripts must be executable
        files = _run(["find", "."], cwd=root)
        archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files.encode(),
                                 capture_output=True, check=True).stdout
        with gzip.open(target, "wb", compresslevel=6) as handle:
            handle.write(archive)


def build_guest_image(directory: str, cache: str | None = None) -> str:
    """Build the guest disk (raw) in ``directory`` and return its path; see the module docstring.

    ``cache`` keeps the unpacked Debian packages between runs (default
    ``$STRATUS_GUEST_CACHE`` or ``~/.cache/stratus-libvirt``).
    """
    cache = cache or os.environ.get("STRATUS_GUEST_CACHE") or os.path.expanduser("~/.cache/stratus-libvirt")
    os.makedirs(cache, exist_ok=True)
    os.makedirs(directory, exist_ok=True)
    kernel_tree = _package(_kernel_package(), cache)
    busybox = os.path.join(_package("busybox-static", cache), "bin/busybox")
    vmlinuz = glob.glob(os.path.join(kernel_tree, "boot/vmlinuz-*"))[0]
    initrd = os.path.join(directory, "initrd.gz")
    _initramfs(kernel_tree, busybox, initrd)
    payload = os.path.getsize(vmlinuz) + os.path.getsize(initrd)
    megabytes = payload // (1024 * 1024) + 4
    disk = os.path.join(directory, "guest.raw")
    with open(disk, "wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)
    _run(["sfdisk", "-q", disk], input="start=2048, type=e, bootable\n")
    with open(SYSLINUX_MBR, "rb") as mbr, open(disk, "r+b") as handle:
        handle.write(mbr.read(440))
    offset = 2048 * 512
    _run(["mkfs.fat", "-F", "16", "--offset", "2048", "-n", "STRATUS", disk,
          str((megabytes * 1024 * 1024 - offset) // 1024)])
    config = os.path.join(directory, "syslinux.cfg")
    with open(config, "w") as handle:
        handle.write(SYSLINUX_CFG)
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    for source, name in ((vmlinuz, "vmlinuz"), (initrd, "initrd.gz"), (config, "syslinux.cfg")):
        _run(["mcopy", "-i", f"{disk}@@{offset}", source, f"::{name}"], env=env)
    _run(["syslinux", "--install", "--offset", str(offset), disk])
    return disk


class Libvirtd:
    """A private libvirtd (see the module docstring); ``uri`` reaches it."""

    CONFIG = textwrap.dedent("""\
        unix_sock_group = "root"
        unix_sock_rw_perms = "0770"
        auth_unix_ro = "none"
        auth_unix_rw = "none"
        listen_tls = 0
        listen_tcp = 0
        log_outputs = "3:file:{log}"
        """)
    QEMU = textwrap.dedent("""\
        user = "root"
        group = "root"
        dynamic_ownership = 0
        remember_owner = 0
        security_driver = "none"
        namespaces = [ ]
        stdio_handler = "file"
        """)
    MOUNTS = {"etc": "/etc/libvirt", "lib": "/var/lib/libvirt", "cache": "/var/cache/libvirt",
              "log": "/var/log/libvirt", "run": "/run/libvirt"}

    def __init__(self, directory: str, ovs_rundir: str | None = None) -> None:
        self.dir = os.path.abspath(directory)
        self.ovs_rundir = ovs_rundir
        self.pidfile = os.path.join(self.dir, "libvirtd.pid")
        self.uri = f"qemu:///system?socket={self.dir}/run/libvirt-sock"

    @staticmethod
    def missing() -> str | None:
        """Why a private libvirtd cannot run here, or None."""
        if os.geteuid() != 0:
            return "starting libvirtd needs root"
        for path, package in (("/usr/sbin/libvirtd", "libvirt-daemon"), ("/usr/bin/qemu-system-x86_64",
                              "qemu-system-x86"), ("/usr/bin/virsh", "libvirt-clients")):
            if not os.path.exists(path):
                return f"{path} is missing (Debian: {package})"
        if not os.path.exists("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so"):
            return "libvirt's QEMU driver is missing (Debian: libvirt-daemon-driver-qemu)"
        try:
            import libvirt  # noqa: F401
        except ImportError:
            return "libvirt-python is not installed"
        return None

    def start(self, timeout: float = 60.0) -> Libvirtd:
        for name in self.MOUNTS:
            os.makedirs(os.path.join(self.dir, name), exist_ok=True)
        with open(os.path.join(self.dir, "etc/libvirtd.conf"), "w") as handle:
            handle.write(self.CONFIG.format(log=os.path.join(self.dir, "libvirtd.log")))
        with open(os.path.join(self.dir, "etc/qemu.conf"), "w") as handle:
            handle.write(self.QEMU)
        # libvirtd looks its default QEMU user up before it reads qemu.conf: give it one
        for name, line in (("passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n"),
                           ("group", "libvirt-qemu:x:64055:\n")):
            with open(f"/etc/{name}") as source:
                text = source.read()
            with open(os.path.join(self.dir, name), "w") as handle:
                handle.write(text if "\nlibvirt-qemu:" in "\n" + text else text + line)
        for mount_point in self.MOUNTS.values():
            os.makedirs(mount_point, exist_ok=True)
        binds = [f"mount --bind {self.dir}/{name} /etc/{name}" for name in ("passwd", "group")]
        binds += [f"mount --bind {self.dir}/{name} {point}" for name, point in self.MOUNTS.items()]
        script = " && ".join([*binds, f"exec /usr/sbin/libvirtd -d -f {self.dir}/etc/libvirtd.conf -p {self.pidfile}"])
        env = {**os.environ, **({"OVS_RUNDIR": self.ovs_rundir} if self.ovs_rundir else {})}
        subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], check=True, env=env)
        import libvirt

        deadline = time.monotonic() + timeout
        while True:
            try:
                libvirt.open(self.uri).close()
                return self
            except libvirt.libvirtError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"libvirtd did not answer within {timeout} s; see {self.dir}/libvirtd.log") \
                        from exc
                time.sleep(0.1)

    def stop(self) -> None:
        """Destroy every domain it runs and stop it."""
        import libvirt

        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError:
            conn = None
        if conn is not None:
            for dom in conn.listAllDomains(0):
                try:
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                except libvirt.libvirtError:
                    pass
            conn.close()
        try:
            with open(self.pidfile) as handle:
                pid = int(handle.read().strip())
        except (FileNotFoundError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
