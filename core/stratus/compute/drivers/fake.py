"""The ``fake`` hypervisor: servers that exist only in memory.

Deterministic and complete (every optional capability), with configurable host resources
and fault injection (``[fake_hypervisor]``), so the compute service, the scheduler and the
API can be exercised without virtualisation. One instance per simulated host: a process
may run many (scale runs) since nothing is shared between instances.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Conflict, Invalid, NotFound
from stratus.interfaces import hypervisor as hv
from stratus.interfaces.hypervisor import HypervisorCapability as Cap
from stratus.interfaces.hypervisor import PowerState

GROUP = "fake_hypervisor"
OPTS = [
    cfg.IntOpt("vcpus", default=32, min=1, help="vCPUs each simulated host reports."),
    cfg.IntOpt("memory_mb", default=131072, min=1, help="MiB of RAM each simulated host reports."),
    cfg.IntOpt("local_gb", default=2048, min=1, help="GiB of disk each simulated host reports."),
    cfg.FloatOpt("spawn_latency", default=0.0, min=0.0, help="Seconds every spawn takes (latency injection)."),
    cfg.ListOpt("fail_spawn_images", default=[], help="Image ids whose spawn fails (fault injection)."),
    cfg.ListOpt("fail_spawn_flavors", default=[], help="Flavor names whose spawn fails (fault injection)."),
    cfg.ListOpt("fail_spawn_hosts", default=[], help="Hosts on which every spawn fails (fault injection)."),
    cfg.ListOpt("fail_reboot_hosts", default=[], help="Hosts on which every reboot fails (fault injection)."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]


@dataclass
class _Server:
    spec: hv.InstanceSpec
    power: PowerState = PowerState.RUNNING
    previous: hv.InstanceSpec | None = None  # kept by resize until confirmed or reverted
    volumes: dict[str, hv.BlockDevice] = field(default_factory=dict)
    interfaces: dict[str, hv.NetworkInterface] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


def _keep_disk(instance: hv.InstanceSpec) -> hv.InstanceSpec:
    """The server's own disk: the image is only there during ``spawn`` (the contract), and
    snapshots and moves read the disk later. A hard link beside the image costs nothing."""
    if not instance.image_path:
        return instance
    disk = os.path.join(os.path.dirname(instance.image_path), f"fake-disk-{instance.uuid}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(disk)
    try:
        os.link(instance.image_path, disk)
    except OSError:
        shutil.copyfile(instance.image_path, disk)
    return replace(instance, image_path=disk)


def _disks(instance: hv.InstanceSpec) -> str:
    taken = {d.device_name.rsplit("/", 1)[-1] for d in instance.ephemerals if d.device_name} | {"vda"}
    names = iter(f"vd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz" if f"vd{letter}" not in taken)
    parts = [f"vda {instance.root_gb}G root"]
    for disk in instance.ephemerals:
        name = disk.device_name.rsplit("/", 1)[-1] if disk.device_name else next(names)
        parts.append(f"{name} {disk.size_mb}M swap" if disk.guest_format == "swap"
                     else f"{name} {disk.size_gb}G ephemeral{f' {disk.guest_format}' if disk.guest_format else ''}")
    return ", ".join(parts)


def _config_drive_lines(instance: hv.InstanceSpec) -> list[str]:
    """What cloud-init would say of the config drive (the console log is how a user sees it)."""
    if not instance.config_drive:
        return []
    files = instance.config_drive_files
    try:
        meta = json.loads(files["openstack/latest/meta_data.json"])
    except (KeyError, ValueError) as exc:
        raise Invalid(f"the config drive of {instance.uuid} has no readable openstack/latest/meta_data.json "
                      f"({exc})") from None
    network = json.loads(files.get("openstack/latest/network_data.json", b"{}"))
    user_data = files.get("openstack/latest/user_data")
    return [f"cloud-init: config drive config-2 found: instance-id {meta['uuid']}, hostname {meta['hostname']}, "
            f"{len(meta.get('public_keys', {}))} ssh key(s), {len(network.get('links', []))} link(s), "
            f"user-data {len(user_data) if user_data is not None else 0} bytes"]


class FakeHypervisor(hv.Hypervisor, hv.ConsoleLog, hv.Snapshot, hv.PauseUnpause, hv.SuspendResume, hv.Resize,
                     hv.VolumeAttach, hv.InterfaceAttach, hv.DiagnosticsReport):
    api_version = (1, 4)
    capabilities: ClassVar[Cap] = (Cap.CONSOLE_LOG | Cap.SNAPSHOT | Cap.PAUSE | Cap.SUSPEND | Cap.RESIZE
                                   | Cap.VOLUME_ATTACH | Cap.CONFIG_DRIVE | Cap.INTERFACE_ATTACH | Cap.DIAGNOSTICS)

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self.options = conf[GROUP]
        self.host = ""
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[cfg.Opt]]]:
        return list_opts()

    def init_host(self, host: str) -> None:
        self.host = host

    def get_host_resources(self) -> hv.HostResources:
        return hv.HostResources(hypervisor_hostname=self.host or "fake", hypervisor_type="fake",
                                hypervisor_version=1000, vcpus=self.options.vcpus,
                                memory_mb=self.options.memory_mb, local_gb=self.options.local_gb,
                                cpu_info={"arch": "x86_64", "model": "fake"})

    def list_instances(self) -> list[str]:
        with self._lock:
            return sorted(self._servers)

    def _get(self, uuid: str) -> _Server:
        server = self._servers.get(uuid)
        if server is None:
            raise NotFound(f"Instance {uuid} could not be found on host {self.host}.")
        return server

    def spawn(self, instance: hv.InstanceSpec, network_interfaces: Iterable[hv.NetworkInterface],
              block_devices: Iterable[hv.BlockDevice]) -> None:
        if self.options.spawn_latency:
            time.sleep(self.options.spawn_latency)
        o = self.options
        if self.host in o.fail_spawn_hosts or instance.image_id in o.fail_spawn_images \
                or instance.flavor_name in o.fail_spawn_flavors:
            raise BackendUnavailable(f"injected failure: spawn of {instance.uuid} on {self.host} "
                                     f"(image {instance.image_id}, flavor {instance.flavor_name})")
        with self._lock:
            if instance.uuid in self._servers:
                raise Conflict(f"Instance {instance.uuid} already exists on host {self.host}.")
            instance = _keep_disk(instance)
            network_interfaces = list(network_interfaces)
            server = _Server(instance, volumes={d.volume_id: d for d in block_devices},
                             interfaces={nic.port_id: nic for nic in network_interfaces})
            addresses = ", ".join(ip for nic in network_interfaces for ip in nic.fixed_ips)
            server.console += [f"fake BIOS booting {instance.name}", f"disks: {_disks(instance)}",
                               f"network: {addresses or 'none'}", *_config_drive_lines(instance),
                               f"{instance.name} login:"]
            self._servers[instance.uuid] = server

    def destroy(self, uuid: str) -> None:
        with self._lock:
            server = self._servers.pop(uuid, None)
        if server is not None and server.spec.image_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(server.spec.image_path)

    def power_on(self, uuid: str) -> None:
        with self._lock:
            self._get(uuid).power = PowerState.RUNNING

    def power_off(self, uuid: str, timeout: float = 0) -> None:
        with self._lock:
            self._get(uuid).power = PowerState.SHUTDOWN

    def reboot(self, uuid: str, hard: bool) -> None:
        if self.host in self.options.fail_reboot_hosts:
            raise BackendUnavailable(f"injected failure: reboot of {uuid} on {self.host}")
        with self._lock:
            server = self._get(uuid)
            server.power = PowerState.RUNNING
            server.console.append(f"{'hard' if hard else 'soft'} reboot")

    def get_info(self, uuid: str) -> hv.InstanceInfo:
        with self._lock:
            server = self._get(uuid)
            return hv.InstanceInfo(uuid, server.power, server.spec.vcpus, server.spec.memory_mb)

    def get_diagnostics(self, uuid: str) -> hv.Diagnostics:
        """Sizes from the spec; the counters of a guest that does nothing: zero."""
        with self._lock:
            server = self._get(uuid)
            spec, power, started = server.spec, server.power, server.started
            nics, volumes = list(server.interfaces.values()), len(server.volumes)
        states = {PowerState.RUNNING: "running", PowerState.PAUSED: "paused", PowerState.SHUTDOWN: "shutdown",
                  PowerState.CRASHED: "crashed", PowerState.SUSPENDED: "suspended"}
        traffic = dict.fromkeys(("rx_octets", "rx_errors", "rx_drop", "rx_packets", "tx_octets", "tx_errors",
                                 "tx_drop", "tx_packets"), 0)
        disks = 1 + len(spec.ephemerals) + volumes
        return hv.Diagnostics(
            # Nova's API names only real drivers here (its own fake says libvirt too)
            state=states.get(power, "pending"), driver="libvirt", hypervisor="fake", hypervisor_os="fake",
            uptime=int(time.monotonic() - started) if power == PowerState.RUNNING else None,
            config_drive=spec.config_drive,
            cpu_details=tuple({"id": n, "time": 0, "utilisation": 0} for n in range(spec.vcpus)),
            nic_details=tuple({"mac_address": nic.mac_address, **traffic, "rx_rate": None, "tx_rate": None}
                              for nic in nics),
            disk_details=tuple({"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0,
                                "errors_count": 0} for _ in range(disks)),
            memory_details={"maximum": spec.memory_mb, "used": 0})

    def get_console_output(self, uuid: str, tail_lines: int | None = None) -> str:
        with self._lock:
            lines = list(self._get(uuid).console)
        log = "\n".join(lines) + "\n"
        return "\n".join(log.split("\n")[-tail_lines:]) if tail_lines and tail_lines > 0 else log

    def snapshot(self, uuid: str, write: Callable[[bytes], None]) -> str:
        with self._lock:
            spec = self._get(uuid).spec
        if spec.image_path:
            with open(spec.image_path, "rb") as source:
                while chunk := source.read(1 << 20):
                    write(chunk)
        else:
            write(f"fake disk of {uuid}\n".encode())
        return "raw"

    def _move(self, uuid: str, expected: PowerState, to: PowerState, what: str) -> None:
        with self._lock:
            server = self._get(uuid)
            if server.power is not expected:
                raise Conflict(f"Cannot {what} instance {uuid} while it is {server.power.name}.")
            server.power = to

    def pause(self, uuid: str) -> None:
        self._move(uuid, PowerState.RUNNING, PowerState.PAUSED, "pause")

    def unpause(self, uuid: str) -> None:
        self._move(uuid, PowerState.PAUSED, PowerState.RUNNING, "unpause")

    def suspend(self, uuid: str) -> None:
        self._move(uuid, PowerState.RUNNING, PowerState.SUSPENDED, "suspend")

    def resume(self, uuid: str) -> None:
        self._move(uuid, PowerState.SUSPENDED, PowerState.RUNNING, "resume")

    def resize(self, uuid: str, new: hv.InstanceSpec) -> None:
        with self._lock:
            server = self._get(uuid)
            if new.root_gb < server.spec.root_gb:
                raise Invalid(f"Resizing instance {uuid} would shrink its root disk from {server.spec.root_gb} "
                              f"to {new.root_gb} GiB.")
            server.previous = server.previous or server.spec
            server.spec = replace(new, uuid=uuid, image_path=server.spec.image_path)

    def confirm_resize(self, uuid: str) -> None:
        with self._lock:
            self._get(uuid).previous = None

    def revert_resize(self, uuid: str) -> None:
        with self._lock:
            server = self._get(uuid)
            if server.previous is not None:
                server.spec, server.previous = server.previous, None

    def attach_volume(self, uuid: str, device: hv.BlockDevice) -> None:
        with self._lock:
            server = self._get(uuid)
            if any(d.device_name == device.device_name for d in server.volumes.values()):
                raise Conflict(f"Device {device.device_name} is already in use on instance {uuid}.")
            server.volumes[device.volume_id] = device

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        with self._lock:
            self._get(uuid).volumes.pop(volume_id, None)

    def attach_interface(self, uuid: str, interface: hv.NetworkInterface) -> None:
        with self._lock:
            server = self._get(uuid)
            if interface.port_id in server.interfaces:
                raise Conflict(f"Port {interface.port_id} is already attached to instance {uuid}.")
            server.interfaces[interface.port_id] = interface
            server.console.append(f"hot-plugged {interface.mac_address} ({', '.join(interface.fixed_ips)})")

    def detach_interface(self, uuid: str, port_id: str) -> None:
        with self._lock:
            self._get(uuid).interfaces.pop(port_id, None)

