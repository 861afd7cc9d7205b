"""What networking offers the other services: a server's ports, and checks of what a server
may ask for — the one module of this service another may import (issue 17's seam).

:class:`NetworkClient` is the interface; :class:`LocalNetworkClient` serves it in-process
from the network service (the embedded cloud, and processes that have the network
database). A REST implementation over Neutron's public API is to follow, so compute can
run beside another Neutron.
"""

from __future__ import annotations

import abc
from typing import Any

from stratus.interfaces.network import HostPlugging, NetworkCapability
from stratus.network import attachments
from stratus.network.attachments import COMPUTE_OWNER, Attachment

__all__ = ["COMPUTE_OWNER", "Attachment", "LocalNetworkClient", "NetworkClient"]


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


class LocalNetworkClient(NetworkClient):
    """:class:`NetworkClient` served in-process by ``service`` (a NetworkService)."""

    def __init__(self, service: Any) -> None:
        self.service = service

    @classmethod
    def from_conf(cls, conf: Any, transport: Any) -> LocalNetworkClient:
        """A client over a network service of its own (a process outside the API: the
        conductor, compute hosts), which tells host agents of changes over ``transport``;
        :meth:`close` releases it."""
        from stratus.network.service import NetworkService

        service = NetworkService(conf)
        service.tell_agents(transport)
        return cls(service)

    def close(self) -> None:
        self.service.close()

    @property
    def has_agents(self) -> bool:
        return self.service.has_agents

    def host_plugging(self) -> HostPlugging | None:
        plugin = self.service.plugin
        if plugin.capabilities & NetworkCapability.DATA_PLANE and isinstance(plugin, HostPlugging):
            return plugin
        return None

    def attach(self, project_id: str, server_id: str, host: str, *, network_id: str | None = None,
               port_id: str | None = None, fixed_ip: str | None = None,
               security_groups: list[str] | None = None) -> Attachment:
        return attachments.attach(self.service, project_id, server_id, host, network_id=network_id,
                                  port_id=port_id, fixed_ip=fixed_ip, security_groups=security_groups)

    def release(self, server_id: str, network_info: list[dict[str, Any]]) -> None:
        attachments.release(self.service, server_id, network_info)

    def detach(self, server_id: str, ports: list[tuple[str, bool]]) -> None:
        attachments.detach(self.service, server_id, ports)

    def bound_ports(self, server_id: str) -> list[str]:
        return attachments.bound_ports(self.service, server_id)

    def addresses(self, port_ids: list[str]) -> dict[str, dict[str, Any]]:
        return attachments.addresses(self.service, port_ids)

    def port_states(self, port_ids: list[str]) -> dict[str, str]:
        return attachments.port_states(self.service, port_ids)

    def wired(self, port_ids: list[str], host: str) -> set[str]:
        return attachments.wired(self.service, port_ids, host)

    def subnets(self, subnet_ids: set[str]) -> dict[str, dict[str, Any]]:
        return attachments.subnets(self.service, subnet_ids)

    def networks_for(self, project_id: str) -> list[tuple[str, str]]:
        return attachments.networks_for(self.service, project_id)

    def check_network(self, project_id: str, network_id: str, is_admin: bool = False) -> None:
        attachments.check_network(self.service, project_id, network_id, is_admin)

    def check_port(self, project_id: str, port_id: str, is_admin: bool = False) -> None:
        attachments.check_port(self.service, project_id, port_id, is_admin)

    def check_security_groups(self, project_id: str, names: list[str]) -> None:
        attachments.check_security_groups(self.service, project_id, names)
