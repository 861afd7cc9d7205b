"""The ``logical`` network plugin: the control plane only.

Everything is recorded by the core; this plugin accepts every segment type it knows,
binds any port on any host with ``vif_type`` ``logical`` (which the fake hypervisor
attaches to nothing), and keeps no data plane. It is what the embedded cloud runs.
"""

from __future__ import annotations

from stratus.exceptions import Invalid
from stratus.interfaces import network
from stratus.interfaces.network import NetworkCapability, Port, PortBinding, ResourceEvent, ResourceType

TYPES = frozenset({"local", "flat", "vlan", "vxlan", "geneve"})


class LogicalPlugin(network.NetworkPlugin):
    api_version = (1, 0)
    capabilities = (NetworkCapability.FLAT | NetworkCapability.VLAN | NetworkCapability.VXLAN
                    | NetworkCapability.SECURITY_GROUPS | NetworkCapability.ROUTING | NetworkCapability.FLOATING_IPS)

    def supported_network_types(self) -> frozenset[str]:
        return TYPES

    def precommit(self, event: ResourceEvent) -> None:
        if event.resource is ResourceType.NETWORK:
            for segment in event.segments:
                if segment.network_type not in TYPES:
                    raise Invalid(f"Network type {segment.network_type} is not supported by the logical plugin; "
                                  f"supported: {', '.join(sorted(TYPES))}")

    def postcommit(self, event: ResourceEvent) -> None:
        return None  # no data plane to update

    def bind_port(self, port: Port, host: str) -> PortBinding | None:
        return PortBinding("logical", {"port_filter": False, "host": host})
