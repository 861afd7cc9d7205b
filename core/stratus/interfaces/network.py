"""The network-plugin slot (entry points ``stratus.network``).

The core owns the networking model (networks, subnets, ports, IPAM, security groups,
routers, floating IPs) and its database. A plugin realises that model on hosts, with the
precommit/postcommit split of Neutron's ML2:

* ``precommit(event)`` runs inside the core's database transaction, before commit. It
  must not block (no RPC, no subprocess). Raising aborts the operation: the transaction
  rolls back and the user gets the error.
* ``postcommit(event)`` runs after commit. It may block (talk to agents, switches). If it
  raises, the core marks the resource ``ERROR`` for creates and updates (and still
  deletes for deletes) — it does not roll back what the user was told succeeded.

Mandatory: :class:`NetworkPlugin`. Optional: :class:`HostPlugging` (capability
``DATA_PLANE``), which the compute service calls on its host to wire a port to a guest.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class NetworkCapability(enum.Flag):
    NONE = 0
    #: ports carry traffic on hosts; the plugin implements :class:`HostPlugging`
    DATA_PLANE = enum.auto()
    FLAT = enum.auto()
    VLAN = enum.auto()
    VXLAN = enum.auto()
    DHCP = enum.auto()
    SECURITY_GROUPS = enum.auto()
    ROUTING = enum.auto()
    FLOATING_IPS = enum.auto()


class Operation(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ResourceType(enum.StrEnum):
    NETWORK = "network"
    SUBNET = "subnet"
    PORT = "port"
    SECURITY_GROUP = "security_group"
    SECURITY_GROUP_RULE = "security_group_rule"
    ROUTER = "router"
    ROUTER_INTERFACE = "router_interface"
    FLOATING_IP = "floating_ip"


@dataclass(frozen=True, slots=True)
class Segment:
    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None


@dataclass(frozen=True, slots=True)
class FixedIP:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True, slots=True)
class Port:
    id: str
    network_id: str
    project_id: str
    mac_address: str
    fixed_ips: tuple[FixedIP, ...] = ()
    device_id: str = ""
    device_owner: str = ""
    admin_state_up: bool = True
    host: str = ""
    security_group_ids: tuple[str, ...] = ()
    port_security_enabled: bool = True
    allowed_address_pairs: tuple[tuple[str, str], ...] = ()
    mtu: int | None = None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """A change to one resource.

    ``current`` is the resource after the change (None for deletes) and ``original``
    before it (None for creates), both as the API represents them (plain JSON-able
    mappings, Neutron's field names); ``segments`` are the network's for network-scoped
    resources.
    """

    resource: ResourceType
    operation: Operation
    current: Mapping[str, object] | None
    original: Mapping[str, object] | None = None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class PortBinding:
    """The answer to ``bind_port``: how the hypervisor must attach the port."""

    vif_type: str
    vif_details: Mapping[str, object] = field(default_factory=dict)


class NetworkPlugin(Driver):
    """Realises the core's networking model."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = NetworkCapability
    capabilities: ClassVar[enum.Flag] = NetworkCapability.NONE

    @abc.abstractmethod
    def supported_network_types(self) -> frozenset[str]:
        """Return the segment types the plugin can realise (``flat``, ``vlan``, ``local``...)."""

    @abc.abstractmethod
    def precommit(self, event: ResourceEvent) -> None:
        """Validate or record ``event`` inside the core's transaction; must not block.

        :raises Invalid: the plugin cannot realise this (e.g. an unsupported segment);
            the operation is rolled back and the user gets 400.
        """

    @abc.abstractmethod
    def postcommit(self, event: ResourceEvent) -> None:
        """Realise ``event`` after commit; may block. Idempotent (it may be retried).

        :raises BackendUnavailable: the data plane could not be updated; the core marks
            the resource ``ERROR`` (creates/updates) and logs.
        """

    @abc.abstractmethod
    def bind_port(self, port: Port, host: str) -> PortBinding | None:
        """Bind ``port`` on ``host`` and say how to attach it, or None if this host can't.

        Called inside the core's transaction: must not block. Deterministic for the same
        port and host.
        """

    def create_agent(self, conf: object) -> HostAgent | None:
        """The agent that realises this host's share of the model, or None (no data plane).

        The embedded cloud starts it in its own process (it talks to the networking service
        over the in-memory transport); other deployments run the plugin's own agent command
        on every host. Agents fetch their host's state with the RPC methods of
        :mod:`stratus.network.agents`.
        """
        return None


class HostAgent(abc.ABC):
    """A plugin's per-host agent (see :meth:`NetworkPlugin.create_agent`)."""

    @abc.abstractmethod
    def start(self) -> None:
        """Register with the networking service and start realising this host's state in the
        background; raise if the host cannot carry it (e.g. the switch is not running)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the background work; what is on the host stays (it keeps carrying traffic)."""


class HostPlugging(abc.ABC):
    """Capability ``DATA_PLANE``: run on a compute host by the compute service."""

    @abc.abstractmethod
    def plug(self, port: Port, binding: PortBinding, instance_uuid: str) -> str:
        """Create the host-side device for the port; return its name (tap/veth/OVS port).

        Idempotent. On failure nothing is left on the host.
        """

    @abc.abstractmethod
    def unplug(self, port: Port, binding: PortBinding, instance_uuid: str) -> None:
        """Remove the host-side device. Idempotent."""


NetworkPlugin.CAPABILITY_INTERFACES = {NetworkCapability.DATA_PLANE: HostPlugging}
