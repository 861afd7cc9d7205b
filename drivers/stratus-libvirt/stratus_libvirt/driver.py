"""The libvirt hypervisor drivers: ``kvm``, ``qemu`` (TCG emulation) and ``xen``.

Each server is a persistent libvirt domain named ``stratus-<uuid>`` with the server's UUID,
marked by a ``<metadata>`` element (:mod:`stratus_libvirt.domain`) naming the compute host;
its files live in ``[libvirt] instances_path``/<uuid>/: ``disk`` (a qcow2 overlay on
``disk.base``, a hard link to the compute host's cached copy of the image: the image is fetched
once per host, its data shared, and kept as long as a guest or the cache names it), ``disk.eph<N>``,
``disk.swap``, ``disk.config`` and ``console.log`` (the serial console's log).
Domains outlive the compute service; a new driver finds them by their metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from stratus.conf.console import port_range
from stratus.exceptions import (
    BackendUnavailable,
    ConfigError,
    Conflict,
    Invalid,
    MissingDependency,
    NotFound,
    UnsupportedOperation,
)
from stratus.interfaces import hypervisor as hv
from stratus.interfaces.hypervisor import HypervisorCapability as Cap
from stratus.interfaces.hypervisor import PowerState
from stratus_libvirt import disks, domain, host
from stratus_libvirt.opts import GROUP, list_opts, register_opts

try:
    import libvirt
except ImportError:  # reported by init_host, so that the package still loads for `stratus drivers`
    libvirt = None
else:
    # errors arrive as exceptions; libvirt's default handler would also print each to stderr
    libvirt.registerErrorHandler(lambda _context, _error: None, None)

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3
CHUNK = 1024 * 1024
#: seconds between repeated unplug requests while a guest has not released a device
DETACH_RETRY = 3.0
#: starts tried with another serial console port when QEMU finds the chosen one taken
SERIAL_PORT_ATTEMPTS = 5


def _error_code(exc: Exception) -> int | None:
    return exc.get_error_code() if libvirt is not None and isinstance(exc, libvirt.libvirtError) else None


class LibvirtDriver(hv.Hypervisor, hv.ConsoleLog, hv.Snapshot, hv.PauseUnpause, hv.SuspendResume, hv.Resize,
                    hv.VolumeAttach, hv.InterfaceAttach, hv.DiagnosticsReport, hv.RemoteConsole):
    """Servers as libvirt domains on this host (see the module's docstring)."""

    api_version = (1, 5)
    capabilities = (Cap.CONSOLE_LOG | Cap.SNAPSHOT | Cap.PAUSE | Cap.SUSPEND | Cap.RESIZE | Cap.VOLUME_ATTACH
                    | Cap.CONFIG_DRIVE | Cap.INTERFACE_ATTACH | Cap.DIAGNOSTICS | Cap.REMOTE_CONSOLE)
    #: libvirt makes the tap of these ports and plugs it (into Open vSwitch with the port's id as
    #: ``iface-id``, which the network agent wires from there; into a Linux bridge)
    plugs_vif_types = frozenset({"ovs", "bridge"})
    #: the domain type when ``[libvirt] virt_type`` is unset
    DEFAULT_VIRT_TYPE: ClassVar[str] = "kvm"

    @classmethod
    def list_opts(cls):
        return list_opts()

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        register_opts(conf)
        options = conf[GROUP]
        self.virt_type: str = options.virt_type or self.DEFAULT_VIRT_TYPE
        self.uri = options.connection_uri or ("xen:///system" if self.virt_type == "xen" else "qemu:///system")
        self.instances_path = os.path.abspath(options.instances_path)
        self.options = options
        self.host = ""
        self._conn: Any = None
        self._conn_lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._cache_mode = "writeback"
        self._serial_lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------------

    def init_host(self, host_name: str) -> None:
        if libvirt is None:
            raise MissingDependency("libvirt-python", "pip install libvirt-python (it builds against Debian's "
                                    "libvirt-dev with pkg-config)")
        self.host = host_name
        if self.virt_type == "kvm":
            usable, why = host.kvm_usable()
            if not usable:
                raise MissingDependency(f"a KVM able to run guests ({why})",
                                        "use the qemu hypervisor (emulation: --hypervisor qemu, or [libvirt] "
                                        "virt_type = qemu)")
        os.makedirs(self.instances_path, exist_ok=True)
        if self.options.console_log_directory:
            os.makedirs(self.options.console_log_directory, exist_ok=True)
        self._cache_mode = "none" if disks.supports_direct_io(self.instances_path) else "writeback"
        self._connection()

    def _connection(self) -> Any:
        with self._conn_lock:
            if self._conn is not None:
                try:
                    if self._conn.isAlive():
                        return self._conn
                except libvirt.libvirtError:
                    pass
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
            try:
                self._conn = libvirt.open(self.uri)
            except libvirt.libvirtError as exc:
                raise BackendUnavailable(f"cannot connect to libvirt at {self.uri}: {exc.get_error_message()} "
                                         "(start libvirtd, or point [libvirt] connection_uri at yours)") from exc
            return self._conn

    def _lookup(self, uuid: str) -> Any:
        """The server's domain. :raises NotFound: not on this host."""
        try:
            dom = self._connection().lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if _error_code(exc) == libvirt.VIR_ERR_NO_DOMAIN:
                raise NotFound(f"Server {uuid} is not on this host.") from exc
            raise BackendUnavailable(f"libvirt: {exc}") from exc
        if self._ours(dom) is None:
            raise NotFound(f"Server {uuid} is not on this host.")
        return dom

    def _ours(self, dom: Any) -> dict[str, object] | None:
        try:
            text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, domain.NAMESPACE, 0)
        except libvirt.libvirtError:
            return None
        found = domain.parse_metadata(text)
        if found is None or found.get("host") != self.host:
            return None
        return found

    @contextlib.contextmanager
    def _locked(self, uuid: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(uuid, threading.Lock())
        with lock:
            yield

    @contextlib.contextmanager
    def _libvirt_errors(self, uuid: str, action: str) -> Iterator[None]:
        try:
            yield
        except libvirt.libvirtError as exc:
            code = _error_code(exc)
            if code == libvirt.VIR_ERR_NO_DOMAIN:
                raise NotFound(f"Server {uuid} is not on this host.") from exc
            if code == libvirt.VIR_ERR_OPERATION_INVALID:
                raise Conflict(f"Cannot {action} server {uuid} in its current state: {exc}") from exc
            raise BackendUnavailable(f"libvirt could not {action} server {uuid}: {exc}") from exc

    # -- host ---------------------------------------------------------------------------------

    def get_host_resources(self) -> hv.HostResources:
        conn = self._connection()
        _model, memory_mb, cpus, *_ = conn.getInfo()
        stats = os.statvfs(self.instances_path)
        return hv.HostResources(
            hypervisor_hostname=conn.getHostname(), hypervisor_type="Xen" if self.virt_type == "xen" else "QEMU",
            hypervisor_version=conn.getVersion(), vcpus=cpus, memory_mb=memory_mb,
            local_gb=max(1, stats.f_blocks * stats.f_frsize // GiB), cpu_info=host.cpu_info(conn.getCapabilities()))

    def list_instances(self) -> list[str]:
        conn = self._connection()
        return [dom.UUIDString() for dom in conn.listAllDomains(0) if self._ours(dom) is not None]

    # -- paths --------------------------------------------------------------------------------

    def _dir(self, uuid: str) -> str:
        return os.path.join(self.instances_path, uuid)

    def _console_log(self, uuid: str) -> str:
        if self.options.console_log_directory:
            return os.path.join(os.path.abspath(self.options.console_log_directory), f"{uuid}.log")
        return os.path.join(self._dir(uuid), "console.log")

    def _cache_for(self, source_type: str) -> str:
        for entry in self.options.disk_cachemodes:
            kind, _, mode = entry.partition("=")
            if kind.strip() == source_type and mode.strip():
                return mode.strip()
        return self._cache_mode

    # -- lifecycle ----------------------------------------------------------------------------

    def spawn(self, instance: hv.InstanceSpec, network_interfaces: Iterable[hv.NetworkInterface],
              block_devices: Iterable[hv.BlockDevice], wait_for_network: Callable[[], None] | None = None) -> None:
        nics, volumes = tuple(network_interfaces), tuple(block_devices)
        hardware = domain.hardware(self.virt_type, instance.image_properties, self.options.hw_machine_type)
        with self._locked(instance.uuid):
            try:
                self._lookup(instance.uuid)
            except NotFound:
                pass
            else:
                raise Conflict(f"Server {instance.uuid} already exists on this host.")
            directory = self._dir(instance.uuid)
            disks.remove_tree(directory)  # leftovers of a spawn that died with its process
            os.makedirs(directory)
            dom = None
            try:
                guest = self._guest(instance, hardware, nics, volumes, directory)
                dom = self._define_and_start(guest, paused=wait_for_network is not None)
                if wait_for_network is not None:
                    wait_for_network()
                    with self._libvirt_errors(instance.uuid, "start"):
                        dom.resume()
            except BaseException:
                if dom is not None:
                    self._undefine(dom)
                disks.remove_tree(directory)
                with contextlib.suppress(OSError):
                    os.unlink(self._console_log(instance.uuid))
                raise

    def _define_and_start(self, guest: domain.Guest, paused: bool) -> Any:
        """Define and start the domain (``paused``: libvirt makes the taps, the guest runs once the
        agent has wired them). The serial console's port is chosen as it is defined, and again if
        someone else took it before QEMU could (another host's guest on this machine)."""
        uuid, tried = guest.instance.uuid, set()
        for attempt in range(SERIAL_PORT_ATTEMPTS):
            with self._serial_lock:  # chosen and defined at once: a concurrent spawn sees it taken
                if self.conf.serial_console.enabled:
                    guest = dataclasses.replace(guest, serial_tcp=self._serial_port(tried))
                with self._libvirt_errors(uuid, "define"):
                    dom = self._connection().defineXML(domain.domain_xml(guest))
            try:
                dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)
                return dom
            except libvirt.libvirtError as exc:
                if guest.serial_tcp and "Address already in use" in str(exc) and attempt + 1 < SERIAL_PORT_ATTEMPTS:
                    tried.add(guest.serial_tcp[1])
                    continue
                self._undefine(dom)
                with self._libvirt_errors(uuid, "start"):
                    raise
        raise AssertionError("unreachable")

    def _guest(self, instance: hv.InstanceSpec, hardware: domain.Hardware, nics: tuple[hv.NetworkInterface, ...],
               volumes: tuple[hv.BlockDevice, ...], directory: str) -> domain.Guest:
        boot_volume = next((v for v in volumes if v.boot_index == 0), None)
        volume_disks = [self._volume_disk(v, boot_order=1 if v is boot_volume else None) for v in volumes]
        taken = {d.target for d in volume_disks}
        local: list[domain.Disk] = []
        prefix = self.options.disk_prefix or ""
        if boot_volume is None:
            root = os.path.join(directory, "disk")
            if instance.image_path:
                link = os.path.join(directory, "disk.base")
                disks.link_or_copy(instance.image_path, link)
                base = disks.inspect(link)
                size = instance.root_gb * GiB if instance.root_gb else base.virtual_size
                disks.create_overlay(base, link, root, size)
            else:
                disks.create_blank(root, max(instance.root_gb, 1) * GiB)
            target = domain.device_names(hardware.disk_bus, 1, taken, prefix)[0]
            taken.add(target)
            local.append(domain.Disk(target, hardware.disk_bus, root, "qcow2", cache=self._cache_for("file"),
                                     boot_order=1))
        for index, ephemeral in enumerate(instance.ephemerals):
            swap = ephemeral.guest_format == "swap"
            path = os.path.join(directory, "disk.swap" if swap else f"disk.eph{index}")
            disks.create_blank(path, ephemeral.size_mb * 1024 * 1024 if swap else max(ephemeral.size_gb, 1) * GiB)
            bus = ephemeral.disk_bus or hardware.disk_bus
            target = (os.path.basename(ephemeral.device_name) if ephemeral.device_name
                      else domain.device_names(bus, 1, taken, prefix)[0])
            taken.add(target)
            local.append(domain.Disk(target, bus, path, "qcow2", cache=self._cache_for("file")))
        if instance.config_drive and instance.config_drive_files:
            path = os.path.join(directory, "disk.config")
            disks.config_drive(instance.config_drive_files, path)
            target = domain.device_names(hardware.cdrom_bus, 1, taken)[0]
            local.append(domain.Disk(target, hardware.cdrom_bus, path, "raw", device="cdrom", readonly=True,
                                     cache=self._cache_for("file")))
        vnc = self.conf.vnc.server_listen if self.conf.vnc.enabled else None
        return domain.Guest(virt_type=self.virt_type, host=self.host, instance=instance, hardware=hardware,
                            disks=(*local, *volume_disks), interfaces=nics,
                            console_log=self._console_log(instance.uuid),
                            cpu=host.cpu_config(self.virt_type, self.options),
                            xen_loader=self.options.xen_hvmloader_path, vnc_listen=vnc)

    def _serial_port(self, tried: set[int]) -> tuple[str, int]:
        """A port of ``[serial_console] port_range`` no domain of this daemon names, nothing listens on
        and not in ``tried``."""
        address = self.conf.serial_console.proxyclient_address
        try:
            first, last = port_range(self.conf)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        taken = set(tried)
        for dom in self._connection().listAllDomains(0):
            with contextlib.suppress(libvirt.libvirtError):
                for source in ET.fromstring(dom.XMLDesc(0)).findall("devices/serial/source"):
                    if source.get("service", "").isdigit():
                        taken.add(int(source.get("service")))
        for port in range(first, last + 1):
            if port in taken:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind((address, port))
                except OSError:
                    continue
            return address, port
        raise BackendUnavailable(f"No free serial console port left in [serial_console] port_range {first}:{last}.")

    def _volume_disk(self, device: hv.BlockDevice, boot_order: int | None = None) -> domain.Disk:
        """The ``<disk>`` of a volume connection: ``file`` connections (the core's file backend:
        ``path`` and ``format``) and ``local``/``block`` ones (``device_path``)."""
        info = device.connection_info
        data = info.get("data", info) if isinstance(info.get("data"), dict) else info
        target = os.path.basename(device.device_name) if device.device_name else ""
        if not target:
            raise Invalid(f"Volume {device.volume_id} has no device name.")
        if device.driver_volume_type == "file":
            path, source_type = data.get("path"), "file"
        elif device.driver_volume_type in ("local", "block"):
            path, source_type = data.get("device_path"), "block"
        else:
            raise Invalid(f"Volume {device.volume_id} has connection type {device.driver_volume_type!r}, which the "
                          "libvirt driver cannot attach yet (file, local and block can be).")
        if not path:
            raise Invalid(f"Volume {device.volume_id}'s connection has no path.")
        return domain.Disk(target, domain.bus_of(target), str(path), str(data.get("format") or "raw"),
                           source_type=source_type, cache=self._cache_for(source_type), serial=device.volume_id,
                           readonly=data.get("access_mode") == "ro", boot_order=boot_order)

    def _undefine(self, dom: Any) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            if dom.isActive():
                dom.destroy()
        flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                 | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        try:
            dom.undefineFlags(flags)
        except libvirt.libvirtError as exc:
            if _error_code(exc) != libvirt.VIR_ERR_NO_DOMAIN:
                raise BackendUnavailable(f"libvirt could not undefine {dom.name()}: {exc}") from exc

    def destroy(self, uuid: str) -> None:
        with self._locked(uuid):
            try:
                dom = self._lookup(uuid)
            except NotFound:
                dom = None
            if dom is not None:
                self._undefine(dom)
            disks.remove_tree(self._dir(uuid))
            with contextlib.suppress(OSError):
                os.unlink(self._console_log(uuid))

    def _state(self, dom: Any) -> PowerState:
        state = dom.state()[0]
        if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_SHUTDOWN):
            return PowerState.RUNNING
        if state == libvirt.VIR_DOMAIN_PAUSED:
            return PowerState.PAUSED
        if state == libvirt.VIR_DOMAIN_CRASHED:
            return PowerState.CRASHED
        if state == libvirt.VIR_DOMAIN_PMSUSPENDED:
            return PowerState.SUSPENDED
        if state == libvirt.VIR_DOMAIN_SHUTOFF:
            return PowerState.SUSPENDED if dom.hasManagedSaveImage(0) else PowerState.SHUTDOWN
        return PowerState.NOSTATE

    def get_info(self, uuid: str) -> hv.InstanceInfo:
        dom = self._lookup(uuid)
        with self._libvirt_errors(uuid, "read"):
            _state, max_kib, _mem, vcpus, _cpu_time = dom.info()
            return hv.InstanceInfo(uuid=uuid, power_state=self._state(dom), vcpus=vcpus, memory_mb=max_kib // 1024)

    def power_on(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            with self._libvirt_errors(uuid, "start"):
                state = self._state(dom)
                if state is PowerState.PAUSED:
                    dom.resume()
                elif not dom.isActive():
                    self._start(dom)

    def power_off(self, uuid: str, timeout: float = 0) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            with self._libvirt_errors(uuid, "stop"):
                if self._wait_shutdown(dom, timeout):
                    return
                with contextlib.suppress(libvirt.libvirtError):
                    dom.destroy()  # it may have gone down by itself meanwhile

    def _start(self, dom: Any) -> None:
        """Start a defined guest. A serial console port someone took while the guest was off is
        replaced by a free one (a managed save keeps its own: that start fails as libvirt says)."""
        for attempt in range(SERIAL_PORT_ATTEMPTS):
            try:
                dom.create()
                return
            except libvirt.libvirtError as exc:
                if ("Address already in use" not in str(exc) or attempt + 1 == SERIAL_PORT_ATTEMPTS
                        or dom.hasManagedSaveImage(0)):
                    raise
                dom = self._with_new_serial_port(dom)

    def _with_new_serial_port(self, dom: Any) -> Any:
        """The domain redefined with another free port for its serial console."""
        with self._serial_lock:
            root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            sources = [root.find(f"devices/{tag}[@type='tcp']/source") for tag in ("serial", "console")]
            current = {int(s.get("service")) for s in sources if s is not None and s.get("service", "").isdigit()}
            _address, port = self._serial_port(current)
            for source in sources:
                if source is not None:
                    source.set("service", str(port))
            _set_metadata(root, self._ours(dom) or {})
            return self._connection().defineXML(ET.tostring(root, encoding="unicode"))

    def _wait_shutdown(self, dom: Any, timeout: float) -> bool:
        """Ask the guest to shut down (ACPI) and wait up to ``timeout`` s; True once it is off."""
        if not dom.isActive():
            return True
        if timeout <= 0 or dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
            return False
        with contextlib.suppress(libvirt.libvirtError):
            dom.shutdown()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not dom.isActive():
                return True
            time.sleep(0.25)
        return not dom.isActive()

    def reboot(self, uuid: str, hard: bool) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            with self._libvirt_errors(uuid, "reboot"):
                if not hard and self._wait_shutdown(dom, self.options.soft_reboot_wait):
                    self._start(dom)
                    return
                if dom.isActive():
                    dom.destroy()
                elif dom.hasManagedSaveImage(0):
                    dom.managedSaveRemove(0)
                self._start(dom)

    # -- console ------------------------------------------------------------------------------

    def get_console_output(self, uuid: str, tail_lines: int | None = None) -> str:
        self._lookup(uuid)
        limit = self.options.console_log_max_bytes
        try:
            with open(self._console_log(uuid), "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - limit))
                data = log.read(limit)
        except FileNotFoundError:
            data = b""
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        if tail_lines is None:
            return text
        return "\n".join(text.split("\n")[-tail_lines:]) if tail_lines > 0 else ""

    # -- remote consoles -----------------------------------------------------------------------

    def get_console(self, uuid: str, protocol: str) -> hv.ConsoleEndpoint:
        dom = self._lookup(uuid)
        with self._libvirt_errors(uuid, "read the console of"):
            if not dom.isActive():
                raise Conflict(f"Server {uuid} is not running.")
            devices = ET.fromstring(dom.XMLDesc(0)).find("devices")
        if protocol == "vnc":
            graphics = devices.find("graphics[@type='vnc']") if devices is not None else None
            if graphics is not None and int(graphics.get("port", "-1")) > 0:
                return hv.ConsoleEndpoint("vnc", self.conf.vnc.server_proxyclient_address, int(graphics.get("port")))
        elif protocol == "serial":
            source = devices.find("serial[@type='tcp']/source") if devices is not None else None
            if source is not None and source.get("service", "").isdigit():
                return hv.ConsoleEndpoint("serial", source.get("host") or self.conf.serial_console.proxyclient_address,
                                          int(source.get("service")))
        raise UnsupportedOperation(f"The {protocol} console of server {uuid}", self.driver_name or self.virt_type,
                                   f"REMOTE_CONSOLE for {protocol} (not enabled when the server was made)")

    # -- diagnostics --------------------------------------------------------------------------

    def get_diagnostics(self, uuid: str) -> hv.Diagnostics:
        dom = self._lookup(uuid)
        with self._libvirt_errors(uuid, "read the figures of"):
            state = self._state(dom)
            _state, max_kib, used_kib, vcpus, _cpu_time = dom.info()
            active = dom.isActive()
            devices = ET.fromstring(dom.XMLDesc(0)).find("devices")
            if active:
                cpus = tuple({"id": number, "time": cpu_time, "utilisation": None}
                             for number, _vstate, cpu_time, _cpu in dom.vcpus()[0])
            else:
                cpus = tuple({"id": number, "time": None, "utilisation": None} for number in range(vcpus))
            disk_rows = []
            for disk in devices.findall("disk") if devices is not None else []:
                target = disk.find("target")
                stats = dom.blockStats(target.get("dev")) if active and target is not None else (None,) * 5
                disk_rows.append({"read_requests": stats[0], "read_bytes": stats[1], "write_requests": stats[2],
                                  "write_bytes": stats[3], "errors_count": stats[4]})
            nic_rows = []
            for nic in devices.findall("interface") if devices is not None else []:
                target, mac = nic.find("target"), nic.find("mac")
                stats = (dom.interfaceStats(target.get("dev")) if active and target is not None
                         else (None,) * 8)
                nic_rows.append({"mac_address": mac.get("address") if mac is not None else None,
                                 "rx_octets": stats[0], "rx_packets": stats[1], "rx_errors": stats[2],
                                 "rx_drop": stats[3], "tx_octets": stats[4], "tx_packets": stats[5],
                                 "tx_errors": stats[6], "tx_drop": stats[7], "rx_rate": None, "tx_rate": None})
        names = {PowerState.RUNNING: "running", PowerState.PAUSED: "paused", PowerState.SHUTDOWN: "shutdown",
                 PowerState.CRASHED: "crashed", PowerState.SUSPENDED: "suspended"}
        return hv.Diagnostics(
            state=names.get(state, "pending"), driver="libvirt", hypervisor=self.virt_type, hypervisor_os="linux",
            uptime=None, config_drive=os.path.exists(os.path.join(self._dir(uuid), "disk.config")),
            cpu_details=cpus, nic_details=tuple(nic_rows), disk_details=tuple(disk_rows),
            memory_details={"maximum": max_kib // 1024, "used": used_kib // 1024 if active else None})

    # -- pause, suspend -----------------------------------------------------------------------

    def pause(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            if self._state(dom) is not PowerState.RUNNING:
                raise Conflict(f"Server {uuid} is not running.")
            with self._libvirt_errors(uuid, "pause"):
                dom.suspend()

    def unpause(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            if self._state(dom) is not PowerState.PAUSED:
                raise Conflict(f"Server {uuid} is not paused.")
            with self._libvirt_errors(uuid, "unpause"):
                dom.resume()

    def suspend(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            if self._state(dom) not in (PowerState.RUNNING, PowerState.PAUSED):
                raise Conflict(f"Server {uuid} is not running.")
            with self._libvirt_errors(uuid, "suspend"):
                dom.managedSave(0)

    def resume(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            if self._state(dom) is not PowerState.SUSPENDED:
                raise Conflict(f"Server {uuid} is not suspended.")
            with self._libvirt_errors(uuid, "resume"):
                dom.create()

    # -- snapshot -----------------------------------------------------------------------------

    def _root_disk(self, uuid: str) -> str:
        root = os.path.join(self._dir(uuid), "disk")
        if not os.path.exists(root):
            raise Invalid(f"Server {uuid} has no local root disk (it boots from a volume): snapshot its volume.")
        return root

    def snapshot(self, uuid: str, write: Callable[[bytes], None]) -> str:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            root = self._root_disk(uuid)
            scratch = tempfile.mkdtemp(prefix=f".snapshot-{uuid}-", dir=self.instances_path)
            try:
                copy = os.path.join(scratch, "disk.qcow2")
                # a paused guest writes nothing, so the copy is one moment of its disk
                with self._paused(dom, uuid):
                    disks.convert(root, copy, compress=self.options.snapshot_compression)
                with open(copy, "rb") as handle:
                    while chunk := handle.read(CHUNK):
                        write(chunk)
                return "qcow2"
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    @contextlib.contextmanager
    def _paused(self, dom: Any, uuid: str) -> Iterator[None]:
        running = dom.isActive() and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        if running:
            with self._libvirt_errors(uuid, "pause"):
                dom.suspend()
        try:
            yield
        finally:
            if running:
                with self._libvirt_errors(uuid, "resume"):
                    dom.resume()

    # -- resize -------------------------------------------------------------------------------

    def _kept(self, uuid: str) -> tuple[str, str]:
        directory = self._dir(uuid)
        return os.path.join(directory, "resize-kept.xml"), os.path.join(directory, "disk.resize-kept")

    def resize(self, uuid: str, new: hv.InstanceSpec) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            kept_xml, kept_disk = self._kept(uuid)
            root = os.path.join(self._dir(uuid), "disk")
            has_root = os.path.exists(root)
            if has_root and new.root_gb and new.root_gb * GiB < disks.virtual_size(root):
                raise Invalid("Resizing to a smaller disk is not supported.")
            with self._libvirt_errors(uuid, "resize"):
                was_running = dom.isActive()
                xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                values = self._ours(dom) or {}
                values["sizes"] = {**values.get("sizes", {}), "vcpus": new.vcpus, "memory_mb": new.memory_mb,
                                   "root_gb": new.root_gb}
                if was_running:
                    dom.destroy()
                try:
                    with open(kept_xml, "w") as handle:
                        handle.write(xml)
                    if has_root:
                        shutil.copyfile(root, kept_disk)
                        if new.root_gb:
                            disks.grow(root, new.root_gb * GiB)
                    self._connection().defineXML(_with_sizes(xml, new, values))
                except BaseException:
                    # back as it was: the old disk, the old definition, running if it ran
                    if os.path.exists(kept_disk):
                        os.replace(kept_disk, root)
                    self._connection().defineXML(xml)
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(kept_xml)
                    if was_running:
                        dom.create()
                    raise
                if was_running:
                    dom.create()

    def confirm_resize(self, uuid: str) -> None:
        with self._locked(uuid):
            for path in self._kept(uuid):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def revert_resize(self, uuid: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            kept_xml, kept_disk = self._kept(uuid)
            if not os.path.exists(kept_xml):
                return
            with self._libvirt_errors(uuid, "revert the resize of"):
                was_running = dom.isActive()
                if was_running:
                    dom.destroy()
                if os.path.exists(kept_disk):
                    os.replace(kept_disk, os.path.join(self._dir(uuid), "disk"))
                with open(kept_xml) as handle:
                    self._connection().defineXML(handle.read())
                os.unlink(kept_xml)
                if was_running:
                    dom.create()

    # -- hot plug -----------------------------------------------------------------------------

    def _device_flags(self, dom: Any) -> int:
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        return flags | libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else flags

    def _devices(self, dom: Any, tag: str, live: bool = False) -> list[ET.Element]:
        flags = 0 if live else libvirt.VIR_DOMAIN_XML_INACTIVE
        return ET.fromstring(dom.XMLDesc(flags)).findall(f"devices/{tag}")

    def attach_volume(self, uuid: str, device: hv.BlockDevice) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            disk = self._volume_disk(device)
            for existing in self._devices(dom, "disk"):
                target = existing.find("target")
                serial = existing.findtext("serial")
                if target is not None and target.get("dev") == disk.target:
                    raise Conflict(f"Device {device.device_name} is already in use on server {uuid}.")
                if serial and serial == device.volume_id[:20]:
                    raise Conflict(f"Volume {device.volume_id} is already attached to server {uuid}.")
            element = domain.disk_element(disk, self.virt_type)
            with self._libvirt_errors(uuid, "attach a volume to"):
                dom.attachDeviceFlags(ET.tostring(element, encoding="unicode"), self._device_flags(dom))

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)

            def match(element: ET.Element) -> bool:
                return element.findtext("serial") == volume_id[:20]

            self._detach(dom, uuid, "disk", match, f"volume {volume_id}")

    def _detach(self, dom: Any, uuid: str, tag: str, match: Callable[[ET.Element], bool], what: str) -> None:
        """Unplug the device ``match`` finds from the live guest and the definition, and wait for the
        guest to release it. :raises BackendUnavailable: the guest did not let it go in time."""
        with self._libvirt_errors(uuid, f"detach {what} from"):
            if dom.isActive() and self._live_matches(dom, tag, match):
                deadline = time.monotonic() + self.options.detach_wait
                asked = 0.0
                while dom.isActive() and (live := self._live_matches(dom, tag, match)):
                    now = time.monotonic()
                    if now > deadline:
                        raise BackendUnavailable(f"Server {uuid}'s guest did not release {what} within "
                                                 f"{self.options.detach_wait} s.")
                    if now - asked >= DETACH_RETRY:
                        # a guest still in its firmware misses the unplug request: ask again, as Nova does
                        asked = now
                        for element in live:
                            with contextlib.suppress(libvirt.libvirtError):
                                dom.detachDeviceFlags(ET.tostring(element, encoding="unicode"),
                                                      libvirt.VIR_DOMAIN_AFFECT_LIVE)
                    time.sleep(0.2)
            for element in [e for e in self._devices(dom, tag) if match(e)]:
                dom.detachDeviceFlags(ET.tostring(element, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_CONFIG)

    def _live_matches(self, dom: Any, tag: str, match: Callable[[ET.Element], bool]) -> list[ET.Element]:
        try:
            return [e for e in self._devices(dom, tag, live=True) if match(e)]
        except libvirt.libvirtError:
            if not dom.isActive():
                return []
            raise

    def attach_interface(self, uuid: str, interface: hv.NetworkInterface) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            for existing in self._devices(dom, "interface"):
                mac = existing.find("mac")
                if mac is not None and mac.get("address", "").lower() == interface.mac_address.lower():
                    raise Conflict(f"Port {interface.port_id} is already attached to server {uuid}.")
            hardware = domain.hardware(self.virt_type, {}, self.options.hw_machine_type)
            element = domain.interface_element(interface, self.virt_type, _vif_model(dom) or hardware.vif_model)
            with self._libvirt_errors(uuid, "attach an interface to"):
                dom.attachDeviceFlags(ET.tostring(element, encoding="unicode"), self._device_flags(dom))

    def detach_interface(self, uuid: str, port_id: str) -> None:
        with self._locked(uuid):
            dom = self._lookup(uuid)
            tap = domain.tap_name(port_id)

            def match(element: ET.Element) -> bool:
                target = element.find("target")
                parameters = element.find("virtualport/parameters")
                return ((target is not None and target.get("dev") == tap)
                        or (parameters is not None and parameters.get("interfaceid") == port_id))

            self._detach(dom, uuid, "interface", match, f"port {port_id}")


def _with_sizes(xml: str, new: hv.InstanceSpec, metadata_values: dict[str, object]) -> str:
    """The domain ``xml`` with ``new``'s vCPUs and memory and ``metadata_values`` as its metadata."""
    root = ET.fromstring(xml)
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        if element is not None:
            element.text, element.attrib = str(new.memory_mb), {"unit": "MiB"}
    vcpu = root.find("vcpu")
    if vcpu is not None:
        vcpu.text = str(new.vcpus)
    topology = root.find("cpu/topology")
    if topology is not None:
        topology.set("sockets", str(new.vcpus))
    _set_metadata(root, metadata_values)
    return ET.tostring(root, encoding="unicode")


def _set_metadata(root: ET.Element, values: dict[str, object]) -> None:
    """Give a parsed domain our metadata again: parsed, its namespace would be declared on
    ``<domain>`` when written back, and libvirt drops such a metadata element."""
    metadata = root.find("metadata")
    if metadata is not None:
        root.remove(metadata)
    metadata = ET.Element("metadata")
    metadata.append(domain.metadata_element(values))
    root.insert(4, metadata)


def _vif_model(dom: Any) -> str | None:
    for element in ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findall("devices/interface/model"):
        return element.get("type")
    return None


class KvmDriver(LibvirtDriver):
    """Hardware-accelerated guests (``/dev/kvm`` able to run them)."""

    DEFAULT_VIRT_TYPE = "kvm"


class QemuDriver(LibvirtDriver):
    """Emulated guests (QEMU's TCG): no acceleration needed, several times slower."""

    DEFAULT_VIRT_TYPE = "qemu"


class XenDriver(LibvirtDriver):
    """Xen guests through libvirt's libxl driver."""

    DEFAULT_VIRT_TYPE = "xen"
