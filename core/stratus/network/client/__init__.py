"""What networking offers the other services: a server's ports, and checks of what a server
may ask for — the one module of this service another may import (issue 17's seam).

:class:`NetworkClient` is the interface. :func:`from_conf` gives the implementation
``[network_client] mode`` chooses: :class:`~stratus.network.client.local.LocalNetworkClient`
(a network service in this process) or :class:`~stratus.network.client.rest.RestNetworkClient`
(Neutron's public API v2.0, from Stratus or from upstream Neutron).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from stratus.interfaces.network import HostPlugging, PortBinding

COMPUTE_OWNER = "compute:nova"

__all__ = ["COMPUTE_OWNER", "Attachment", "LocalNetworkClient", "NetworkClient", "from_conf"]


@dataclass(frozen=True)
class Attachment:
    """A port bound for a server on a host: what the hypervisor needs."""

    port_id: str
    network_id: str
    network_name: str
    mac_address: str
    fixed_ips: tuple[dict[str, str], ...]
    binding: PortBinding
    mtu: int
    created: bool


class NetworkClient(abc.ABC):
    """A server's ports as compute makes, binds, reads and gives them back."""

    @property
    @abc.abstractmethod
    def has_agents(self) -> bool:
        """Whether ports are wired by host agents (a build then waits for ``network-vif-plugged``)."""

    @abc.abstractmethod
    def host_plugging(self) -> HostPlugging | None:
        """What wires a port on this host, for plugins with a data plane; None otherwise."""

    @abc.abstractmethod
    def attach(self, project_id: str, server_id: str, host: str, *, network_id: str | None = None,
               port_id: str | None = None, fixed_ip: str | None = None,
               security_groups: list[str] | None = None) -> Attachment:
        """Create a port on ``network_id`` (or take ``port_id``) for the server, bound to ``host``.

        :raises NotFound: no such network or port. :raises Conflict: the port is another's.
        :raises Invalid: the binding failed.
        """

    @abc.abstractmethod
    def release(self, server_id: str, network_info: list[dict[str, Any]]) -> None:
        """Give back the ports a server's ``network_info`` lists: made ones deleted, given ones unbound."""

    @abc.abstractmethod
    def detach(self, server_id: str, ports: list[tuple[str, bool]]) -> None:
        """Delete (``True``: made for the server) or unbind each port. Idempotent."""

    @abc.abstractmethod
    def bound_ports(self, server_id: str) -> list[str]:
        """The ids of the ports whose device is the server."""

    @abc.abstractmethod
    def addresses(self, port_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Each port's fixed IPs and the floating IPs pointing at it."""

    @abc.abstractmethod
    def port_states(self, port_ids: list[str]) -> dict[str, str]:
        """Each existing port's status (``ACTIVE``, ``DOWN``, ...)."""

    @abc.abstractmethod
    def wired(self, port_ids: list[str], host: str) -> set[str]:
        """Which of the ports are ACTIVE and bound to ``host``."""

    @abc.abstractmethod
    def subnets(self, subnet_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The subnets, as a config drive's network_data needs them."""

    @abc.abstractmethod
    def networks_for(self, project_id: str) -> list[tuple[str, str]]:
        """(id, name) of the networks the project may attach to, own and shared, not external."""

    @abc.abstractmethod
    def check_network(self, project_id: str, network_id: str, is_admin: bool = False) -> None:
        """:raises NotFound: or :raises Invalid: the project may not attach to it."""

    @abc.abstractmethod
    def check_port(self, project_id: str, port_id: str, is_admin: bool = False) -> None:
        """:raises NotFound: or :raises Conflict: the project may not take the port."""

    @abc.abstractmethod
    def check_security_groups(self, project_id: str, names: list[str]) -> None:
        """:raises NotFound: a group the project does not have."""



def from_conf(conf: Any, transport: Any = None, *, service: Any = None, auth: Any = None) -> NetworkClient:
    """Over ``service`` when the network service runs in this process; else what
    ``[network_client] mode`` chooses: a network service of its own that tells host agents
    over ``transport`` (``local``), or its REST API with ``auth`` (a
    :class:`~stratus.service_auth.ServiceAuth`; ``rest``)."""
    if service is not None:
        from stratus.network.client.local import LocalNetworkClient

        return LocalNetworkClient(service)
    if conf.network_client.mode == "rest":
        from stratus.network.client.rest import RestNetworkClient
        from stratus.service_auth import ServiceAuth

        return RestNetworkClient(conf, auth or ServiceAuth(conf))
    from stratus.network.client.local import LocalNetworkClient

    return LocalNetworkClient.from_conf(conf, transport)


def __getattr__(name: str) -> Any:
    if name == "LocalNetworkClient":
        from stratus.network.client.local import LocalNetworkClient

        return LocalNetworkClient
    raise AttributeError(name)
