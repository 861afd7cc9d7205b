"""The ``fake`` hypervisor: servers that run nothing, with their state kept on disk.

Deterministic and complete (every optional capability), with configurable host resources
and fault injection (``[fake_hypervisor]``), so the compute service, the scheduler and the
API can be exercised without virtualisation. One instance per simulated host: a process
may run many (scale runs) since nothing is shared between instances.

As a real hypervisor's domains outlive the compute service, each guest's state (spec,
power state, devices, console log) is a JSON file under ``[fake_hypervisor]
instances_path``/<host>, written atomically on every change and read back by
``init_host``: a restarted cloud finds its guests as they were.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from oslo_config import cfg

from stratus.compute.drivers.fake_consoles import Consoles
from stratus.exceptions import BackendUnavailable, Conflict, Invalid, NotFound, UnsupportedOperation
from stratus.interfaces import hypervisor as hv
from stratus.interfaces.hypervisor import HypervisorCapability as Cap
from stratus.interfaces.hypervisor import PowerState

LOG = logging.getLogger(__name__)
GROUP = "fake_hypervisor"
OPTS = [
    cfg.IntOpt("vcpus", default=32, min=1, help="vCPUs each simulated host reports."),
    cfg.IntOpt("memory_mb", default=131072, min=1, help="MiB of RAM each simulated host reports."),
    cfg.IntOpt("local_gb", default=2048, min=1, help="GiB of disk each simulated host reports."),
    cfg.FloatOpt("spawn_latency", default=0.0, min=0.0, help="Seconds every spawn takes (latency injection)."),
    cfg.FloatOpt("snapshot_latency", default=0.0, min=0.0,
                 help="Seconds every snapshot's disk copy takes (latency injection), as a real disk's copy does."),
    cfg.ListOpt("fail_spawn_images", default=[], help="Image ids whose spawn fails (fault injection)."),
    cfg.ListOpt("fail_spawn_flavors", default=[], help="Flavor names whose spawn fails (fault injection)."),
    cfg.ListOpt("fail_spawn_hosts", default=[], help="Hosts on which every spawn fails (fault injection)."),
    cfg.ListOpt("fail_reboot_hosts", default=[], help="Hosts on which every reboot fails (fault injection)."),
    cfg.ListOpt("fail_attach_hosts", default=[],
                help="Hosts on which every volume attach fails (fault injection)."),
    cfg.ListOpt("without_capabilities", default=[],
                help="Capabilities (PAUSE, SUSPEND, RESIZE, SNAPSHOT, CONSOLE_LOG, ...) these hosts do not declare, "
                "to act as a driver that lacks them."),
    cfg.StrOpt("instances_path", default="$state_path/fake-hypervisor",
               help="Directory where each simulated host keeps its guests' state (one subdirectory per host), "
                    "so guests outlive a restart of the compute service; empty keeps them in memory only."),
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
    started: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        spec = dataclasses.asdict(replace(self.spec, config_drive_files={}))  # read once, at spawn
        if spec["user_data"] is not None:
            spec["user_data"] = base64.b64encode(spec["user_data"]).decode()
        return {"spec": spec, "power": self.power.value,
                "previous": _spec_json(self.previous) if self.previous is not None else None,
                "volumes": {k: dataclasses.asdict(v) for k, v in self.volumes.items()},
                "interfaces": {k: dataclasses.asdict(v) for k, v in self.interfaces.items()},
                "console": self.console, "started": self.started}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Server:
        return cls(spec=_spec(data["spec"]), power=PowerState(data["power"]),
                   previous=_spec(data["previous"]) if data["previous"] is not None else None,
                   volumes={k: hv.BlockDevice(**v) for k, v in data["volumes"].items()},
                   interfaces={k: hv.NetworkInterface(**{**v, "fixed_ips": tuple(v["fixed_ips"])})
                               for k, v in data["interfaces"].items()},
                   console=list(data["console"]), started=data["started"])


def _spec_json(spec: hv.InstanceSpec) -> dict[str, Any]:
    return _Server(spec).to_json()["spec"]


def _spec(data: dict[str, Any]) -> hv.InstanceSpec:
    user_data = base64.b64decode(data["user_data"]) if data["user_data"] is not None else None
    return hv.InstanceSpec(**{**data, "user_data": user_data,
                              "ephemerals": tuple(hv.EphemeralDisk(**d) for d in data["ephemerals"])})


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
                     hv.VolumeAttach, hv.InterfaceAttach, hv.DiagnosticsReport, hv.RemoteConsole):
    api_version = (1, 5)
    capabilities: ClassVar[Cap] = (Cap.CONSOLE_LOG | Cap.SNAPSHOT | Cap.PAUSE | Cap.SUSPEND | Cap.RESIZE
                                   | Cap.VOLUME_ATTACH | Cap.CONFIG_DRIVE | Cap.INTERFACE_ATTACH | Cap.DIAGNOSTICS
                                   | Cap.REMOTE_CONSOLE)

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self.options = conf[GROUP]
        self.host = ""
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()
        self._dir: str | None = None
        self._consoles = Consoles()
        for name in self.options.without_capabilities:
            try:
                self.capabilities = self.capabilities & ~Cap[name.strip().upper()]
            except KeyError:
                raise Invalid(f"[{GROUP}] without_capabilities: unknown capability {name}; known: "
                              f"{', '.join(c.name for c in Cap if c.name)}") from None

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[cfg.Opt]]]:
        return list_opts()

    def init_host(self, host: str) -> None:
        """Take ``host``'s guests back from the state directory (those an earlier run made)."""
        self.host = host
        self._dir = os.path.join(self.options.instances_path, host) if self.options.instances_path else None
        if self._dir is None or not os.path.isdir(self._dir):
            return
        with self._lock:
            for name in sorted(os.listdir(self._dir)):
                if not name.endswith(".json"):
                    continue
                path = os.path.join(self._dir, name)
                try:
                    with open(path) as f:
                        server = _Server.from_json(json.load(f))
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    LOG.error("fake hypervisor %s: unreadable guest state %s (%s); the guest is lost", host,
                              path, exc)
                    continue
                self._servers[server.spec.uuid] = server

    def _save(self, server: _Server) -> None:
        """Write the guest's state (under ``self._lock``): whole, or the previous one stays."""
        if self._dir is None:
            return
        os.makedirs(self._dir, mode=0o700, exist_ok=True)
        path = os.path.join(self._dir, f"{server.spec.uuid}.json")
        temporary = f"{path}.tmp"
        with open(temporary, "w") as f:
            json.dump(server.to_json(), f)
        os.replace(temporary, path)

    def _forget(self, uuid: str) -> None:
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self._dir, f"{uuid}.json"))

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
              block_devices: Iterable[hv.BlockDevice], wait_for_network: Callable[[], None] | None = None) -> None:
        if wait_for_network is not None:
            wait_for_network()  # it plugs nothing itself: its guest has no devices to make first
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
            try:
                self._save(server)
            except OSError:
                if instance.image_path:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(instance.image_path)
                raise
            self._servers[instance.uuid] = server

    def destroy(self, uuid: str) -> None:
        self._consoles.close(uuid)
        with self._lock:
            server = self._servers.pop(uuid, None)
            self._forget(uuid)
        if server is not None and server.spec.image_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(server.spec.image_path)

    def _power(self, uuid: str, power: PowerState) -> None:
        if power is not PowerState.RUNNING:
            self._consoles.close(uuid)  # a stopped guest's consoles go with it
        with self._lock:
            server = self._get(uuid)
            if server.power is not power:
                server.power = power
                server.started = time.time()
                self._save(server)

    def power_on(self, uuid: str) -> None:
        self._power(uuid, PowerState.RUNNING)

    def power_off(self, uuid: str, timeout: float = 0) -> None:
        self._power(uuid, PowerState.SHUTDOWN)

    def reboot(self, uuid: str, hard: bool) -> None:
        if self.host in self.options.fail_reboot_hosts:
            raise BackendUnavailable(f"injected failure: reboot of {uuid} on {self.host}")
        with self._lock:
            server = self._get(uuid)
            server.power, server.started = PowerState.RUNNING, time.time()
            server.console.append(f"{'hard' if hard else 'soft'} reboot")
            self._save(server)

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
            uptime=int(time.time() - started) if power == PowerState.RUNNING else None,
            config_drive=spec.config_drive,
            cpu_details=tuple({"id": n, "time": 0, "utilisation": 0} for n in range(spec.vcpus)),
            nic_details=tuple({"mac_address": nic.mac_address, **traffic, "rx_rate": None, "tx_rate": None}
                              for nic in nics),
            disk_details=tuple({"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0,
                                "errors_count": 0} for _ in range(disks)),
            memory_details={"maximum": spec.memory_mb, "used": 0})

    def get_console(self, uuid: str, protocol: str) -> hv.ConsoleEndpoint:
        with self._lock:
            if self._get(uuid).power is not PowerState.RUNNING:
                raise Conflict(f"Server {uuid} is not running.")
        enabled = {"vnc": self.conf.vnc.enabled, "serial": self.conf.serial_console.enabled}
        if not enabled.get(protocol):
            raise UnsupportedOperation(f"The {protocol} console of server {uuid}", "fake",
                                       f"REMOTE_CONSOLE for {protocol} (not enabled)")
        return hv.ConsoleEndpoint(protocol, "127.0.0.1",
                                  self._consoles.port(uuid, protocol, lambda: self.get_console_output(uuid)))

    def get_console_output(self, uuid: str, tail_lines: int | None = None) -> str:
        with self._lock:
            lines = list(self._get(uuid).console)
        log = "\n".join(lines) + "\n"
        return "\n".join(log.split("\n")[-tail_lines:]) if tail_lines and tail_lines > 0 else log

    def snapshot(self, uuid: str, write: Callable[[bytes], None]) -> str:
        with self._lock:
            spec = self._get(uuid).spec
        if self.options.snapshot_latency:
            time.sleep(self.options.snapshot_latency)
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
            self._save(server)

    def pause(self, uuid: str) -> None:
        self._move(uuid, PowerState.RUNNING, PowerState.PAUSED, "pause")

    def unpause(self, uuid: str) -> None:
        self._move(uuid, PowerState.PAUSED, PowerState.RUNNING, "unpause")

    def suspend(self, uuid: str) -> None:
        self._move(uuid, PowerState.RUNNING, PowerState.SUSPENDED, "suspend")
        self._consoles.close(uuid)

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
            self._save(server)

    def confirm_resize(self, uuid: str) -> None:
        with self._lock:
            server = self._get(uuid)
            server.previous = None
            self._save(server)

    def revert_resize(self, uuid: str) -> None:
        with self._lock:
            server = self._get(uuid)
            if server.previous is not None:
                server.spec, server.previous = server.previous, None
                self._save(server)

    def attach_volume(self, uuid: str, device: hv.BlockDevice) -> None:
        if self.host in self.options.fail_attach_hosts:
            raise BackendUnavailable(f"injected failure: attach of volume {device.volume_id} on {self.host}")
        with self._lock:
            server = self._get(uuid)
            if any(d.device_name == device.device_name for d in server.volumes.values()):
                raise Conflict(f"Device {device.device_name} is already in use on instance {uuid}.")
            server.volumes[device.volume_id] = device
            self._save(server)

    def detach_volume(self, uuid: str, volume_id: str) -> None:
        with self._lock:
            server = self._get(uuid)
            if server.volumes.pop(volume_id, None) is not None:
                self._save(server)

    def attach_interface(self, uuid: str, interface: hv.NetworkInterface) -> None:
        with self._lock:
            server = self._get(uuid)
            if interface.port_id in server.interfaces:
                raise Conflict(f"Port {interface.port_id} is already attached to instance {uuid}.")
            server.interfaces[interface.port_id] = interface
            server.console.append(f"hot-plugged {interface.mac_address} ({', '.join(interface.fixed_ips)})")
            self._save(server)

    def detach_interface(self, uuid: str, port_id: str) -> None:
        with self._lock:
            server = self._get(uuid)
            if server.interfaces.pop(port_id, None) is not None:
                self._save(server)

