"""The hypervisor slot (entry points ``stratus.hypervisor``).

A hypervisor driver runs servers on one compute host. The compute service owns all
state: it tells the driver what to run and asks what is running; the driver never
touches the database or the message bus.

The mandatory part is :class:`Hypervisor` (host resources and the lifecycle). Optional
areas are separate small interfaces — :class:`ConsoleLog`, :class:`Snapshot`,
:class:`PauseUnpause`, :class:`SuspendResume`, :class:`Resize`, :class:`VolumeAttach`,
:class:`InterfaceAttach`, :class:`DiagnosticsReport`, :class:`RemoteConsole` —
each matched by a :class:`HypervisorCapability`; a driver that declares a capability must
also subclass the matching interface (the conformance suite checks both ways).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 5)


class HypervisorCapability(enum.Flag):
    NONE = 0
    CONSOLE_LOG = enum.auto()
    SNAPSHOT = enum.auto()
    PAUSE = enum.auto()
    SUSPEND = enum.auto()
    RESIZE = enum.auto()
    VOLUME_ATTACH = enum.auto()
    #: builds a config drive from ``InstanceSpec.config_drive_files`` (those files from API 1.3)
    CONFIG_DRIVE = enum.auto()
    #: API 1.2
    INTERFACE_ATTACH = enum.auto()
    #: API 1.4
    DIAGNOSTICS = enum.auto()
    #: API 1.5: VNC and/or serial consoles reached through the console proxy
    REMOTE_CONSOLE = enum.auto()


class PowerState(enum.IntEnum):
    """Power states with Nova's numeric values (they show in ``OS-EXT-STS:power_state``)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


@dataclass(frozen=True, slots=True)
class HostResources:
    """What the host offers, as the driver sees it (before any allocation ratio)."""

    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """A port bound for this host, as the network plugin's ``bind_port`` answered."""

    port_id: str
    mac_address: str
    vif_type: str
    vif_details: Mapping[str, object] = field(default_factory=dict)
    fixed_ips: tuple[str, ...] = ()
    mtu: int | None = None


@dataclass(frozen=True, slots=True)
class BlockDevice:
    """A volume connection to present to the guest (see the volume slot)."""

    volume_id: str
    device_name: str
    driver_volume_type: str
    connection_info: Mapping[str, object] = field(default_factory=dict)
    boot_index: int | None = None


@dataclass(frozen=True, slots=True)
class EphemeralDisk:
    """A local disk beside the root one (API 1.3): an ephemeral disk, or swap when
    ``guest_format`` is ``swap`` (then ``size_mb`` counts, not ``size_gb``)."""

    size_gb: int
    guest_format: str | None = None
    device_name: str | None = None
    disk_bus: str | None = None
    size_mb: int = 0


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """Everything the driver needs to create a server; sizes come from the flavor."""

    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap_mb: int = 0
    image_path: str | None = None
    image_properties: Mapping[str, str] = field(default_factory=dict)
    user_data: bytes | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    key_data: str | None = None
    config_drive: bool = False
    #: the image and flavor the server was built from (API 1.1), for logs and fault injection
    image_id: str | None = None
    flavor_name: str | None = None
    #: the local disks besides the root one, as the request's block device mapping or the
    #: flavor (its ephemeral disk, its swap) asked (API 1.3); their sizes add up to at most
    #: ``ephemeral_gb`` and ``swap_mb``
    ephemerals: tuple[EphemeralDisk, ...] = ()
    #: when ``config_drive``: the files the guest finds on a read-only drive labelled
    #: ``config-2`` (ISO 9660, as Nova's), path -> content, e.g. ``openstack/latest/meta_data.json``
    #: (API 1.3; only given to drivers with the ``CONFIG_DRIVE`` capability)
    config_drive_files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """A guest's figures as its hypervisor counts them (Nova's standard diagnostics, 2.48).

    ``state``: ``running``, ``paused``, ``shutdown``, ``crashed``, ``suspended`` or ``pending``;
    ``uptime`` in seconds; ``cpu_details`` items have ``id``, ``time`` (ns) and ``utilisation``
    (percent or None); ``nic_details`` items ``mac_address``, ``rx_octets``, ``rx_errors``,
    ``rx_drop``, ``rx_packets``, ``rx_rate``, ``tx_octets``, ``tx_errors``, ``tx_drop``,
    ``tx_packets``, ``tx_rate``; ``disk_details`` items ``read_bytes``, ``read_requests``,
    ``write_bytes``, ``write_requests``, ``errors_count``; ``memory_details`` ``maximum`` and
    ``used`` (MiB). Counters a driver cannot read are None.
    """

    state: str
    driver: str
    hypervisor: str | None
    hypervisor_os: str | None
    uptime: int | None
    config_drive: bool
    cpu_details: tuple[Mapping[str, int | None], ...]
    nic_details: tuple[Mapping[str, int | str | None], ...]
    disk_details: tuple[Mapping[str, int | None], ...]
    memory_details: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class ConsoleEndpoint:
    """Where a guest's console listens, as the console proxy reaches it (API 1.5):
    ``protocol`` ``vnc`` (RFB) or ``serial`` (the raw byte stream of the guest's first serial port)."""

    protocol: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """What the driver reports about one server it runs."""

    uuid: str
    power_state: PowerState
    vcpus: int
    memory_mb: int


class Hypervisor(Driver):
    """Lifecycle of servers on one host.

    Every method receives the server's UUID or :class:`InstanceSpec`; the driver keeps
    whatever host-side state it needs (domain XML, disk files) keyed by UUID.
    """

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = HypervisorCapability
    capabilities: ClassVar[enum.Flag] = HypervisorCapability.NONE
    #: API 1.5: the ``vif_type``\ s whose host-side device the driver makes itself as it starts the
    #: guest (libvirt adds its tap to an Open vSwitch bridge with the port's id), so the compute
    #: host does not ask the network plugin to plug (or unplug) ports of those types
    plugs_vif_types: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def init_host(self, host: str) -> None:
        """Prepare the host before the compute service accepts work.

        Called once at service start. May assume nothing else has been called.

        :raises MissingDependency: the hypervisor daemon or tooling is absent.
        :raises BackendUnavailable: it is present but cannot be reached.
        """

    @abc.abstractmethod
    def get_host_resources(self) -> HostResources:
        """Return the host's total resources. Cheap: called on every periodic update."""

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """Return the UUIDs of every server this driver runs on the host, in any state.

        Guests outlive the compute service, as a hypervisor's domains do: a new driver
        instance, after ``init_host`` with the same host, lists (and :meth:`get_info`
        reports) the guests an earlier one made and did not destroy."""

    @abc.abstractmethod
    def spawn(
        self,
        instance: InstanceSpec,
        network_interfaces: Iterable[NetworkInterface],
        block_devices: Iterable[BlockDevice],
        wait_for_network: Callable[[], None] | None = None,
    ) -> None:
        """Create and start the server; return when it is RUNNING.

        May assume ``instance.image_path`` (when set) is a readable local file for the
        whole call (and not after it) and that the network interfaces are already plugged,
        except those of :attr:`plugs_vif_types`, which the driver plugs itself.
        ``wait_for_network`` (API 1.5), when given: called once the guest's devices exist and
        before the guest runs (a paused guest, resumed afterwards) — it returns when the network
        agent has wired the ports the driver plugged, or raises.
        On failure (``wait_for_network``'s included) it removes everything it created (disks,
        domain definition) before raising, so that the compute service can reschedule.

        :raises Conflict: a server with this UUID already exists on the host.
        :raises Invalid: the image or flavor cannot run here (bad format, too large).
        """

    @abc.abstractmethod
    def destroy(self, uuid: str) -> None:
        """Stop the server if running and delete everything the driver holds for it.

        Idempotent: destroying an unknown UUID succeeds.
        """

    @abc.abstractmethod
    def power_on(self, uuid: str) -> None:
        """Start a stopped server. Idempotent. :raises NotFound: unknown UUID."""

    @abc.abstractmethod
    def power_off(self, uuid: str, timeout: float = 0) -> None:
        """Stop the server: ACPI shutdown for up to ``timeout`` seconds, then hard.

        Idempotent. :raises NotFound: unknown UUID.
        """

    @abc.abstractmethod
    def reboot(self, uuid: str, hard: bool) -> None:
        """Reboot (soft: ask the guest; hard: reset). :raises NotFound: unknown UUID."""

    @abc.abstractmethod
    def get_info(self, uuid: str) -> InstanceInfo:
        """Return the server's current state. :raises NotFound: unknown UUID."""


class ConsoleLog(abc.ABC):
    """Capability ``CONSOLE_LOG``."""

    @abc.abstractmethod
    def get_console_output(self, uuid: str, tail_lines: int | None = None) -> str:
        """Return the serial console log; with ``tail_lines``, its last ``tail_lines`` pieces when
        split at newlines, as Nova tails it (a log ending in a newline gives ``tail_lines - 1``
        lines and that final newline).

        :raises NotFound: unknown UUID.
        """


class Snapshot(abc.ABC):
    """Capability ``SNAPSHOT``."""

    @abc.abstractmethod
    def snapshot(self, uuid: str, write: Callable[[bytes], None]) -> str:
        """Stream a consistent copy of the root disk through ``write``; return its disk format.

        The server keeps running (or is paused and resumed by the driver).
        Temporary files are removed whether or not it succeeds.
        """


class PauseUnpause(abc.ABC):
    """Capability ``PAUSE``: freeze the guest in memory."""

    @abc.abstractmethod
    def pause(self, uuid: str) -> None:
        """Pause a running server. :raises Conflict: it is not running."""

    @abc.abstractmethod
    def unpause(self, uuid: str) -> None:
        """Resume a paused server. :raises Conflict: it is not paused."""


class SuspendResume(abc.ABC):
    """Capability ``SUSPEND``: save the guest's memory to disk and stop it."""

    @abc.abstractmethod
    def suspend(self, uuid: str) -> None:
        """Suspend a running server. :raises Conflict: it is not running."""

    @abc.abstractmethod
    def resume(self, uuid: str) -> None:
        """Restore a suspended server. :raises Conflict: it is not suspended."""


class Resize(abc.ABC):
    """Capability ``RESIZE`` (same host; moving hosts is the compute service's job)."""

    @abc.abstractmethod
    def resize(self, uuid: str, new: InstanceSpec) -> None:
        """Give the server ``new``'s sizes, keeping the old disk until confirmed.

        :raises Invalid: the root disk would shrink.
        """

    @abc.abstractmethod
    def confirm_resize(self, uuid: str) -> None:
        """Drop what ``resize`` kept for a revert. Idempotent."""

    @abc.abstractmethod
    def revert_resize(self, uuid: str) -> None:
        """Return to the sizes and disk from before ``resize``."""


class VolumeAttach(abc.ABC):
    """Capability ``VOLUME_ATTACH``: hot-plug volumes into a running server."""

    @abc.abstractmethod
    def attach_volume(self, uuid: str, device: BlockDevice) -> None:
        """Present the volume to the guest. :raises Conflict: device name taken."""

    @abc.abstractmethod
    def detach_volume(self, uuid: str, volume_id: str) -> None:
        """Remove the volume from the guest. Idempotent."""


class InterfaceAttach(abc.ABC):
    """Capability ``INTERFACE_ATTACH`` (API 1.2): hot-plug network interfaces (``os-interface``).

    The port is already bound to this host and plugged when ``attach_interface`` is called;
    it stays plugged until after ``detach_interface`` returns.
    """

    @abc.abstractmethod
    def attach_interface(self, uuid: str, interface: NetworkInterface) -> None:
        """Give the guest the interface (running or stopped: a stopped guest has it at next start).

        :raises NotFound: unknown UUID. :raises Conflict: the port is attached already.
        """

    @abc.abstractmethod
    def detach_interface(self, uuid: str, port_id: str) -> None:
        """Remove the interface from the guest. Idempotent. :raises NotFound: unknown UUID."""


class DiagnosticsReport(abc.ABC):
    """Capability ``DIAGNOSTICS`` (API 1.4): a guest's figures (``/servers/{id}/diagnostics``)."""

    @abc.abstractmethod
    def get_diagnostics(self, uuid: str) -> Diagnostics:
        """The guest's figures now. :raises NotFound: unknown UUID."""


class RemoteConsole(abc.ABC):
    """Capability ``REMOTE_CONSOLE`` (API 1.5): interactive consoles, relayed by the console proxy."""

    @abc.abstractmethod
    def get_console(self, uuid: str, protocol: str) -> ConsoleEndpoint:
        """Where the running server's ``protocol`` console (``vnc`` or ``serial``) listens now.

        :raises NotFound: unknown UUID. :raises Conflict: the server is not running.
        :raises UnsupportedOperation: this host offers no such console (not enabled, or the
            guest was made without one).
        """


Hypervisor.CAPABILITY_INTERFACES = {
    HypervisorCapability.CONSOLE_LOG: ConsoleLog,
    HypervisorCapability.SNAPSHOT: Snapshot,
    HypervisorCapability.PAUSE: PauseUnpause,
    HypervisorCapability.SUSPEND: SuspendResume,
    HypervisorCapability.RESIZE: Resize,
    HypervisorCapability.VOLUME_ATTACH: VolumeAttach,
    HypervisorCapability.INTERFACE_ATTACH: InterfaceAttach,
    HypervisorCapability.DIAGNOSTICS: DiagnosticsReport,
    HypervisorCapability.REMOTE_CONSOLE: RemoteConsole,
}
