"""The network client served in-process by a network service (the embedded cloud, and
processes configured with ``[network_client] mode = local``)."""

from __future__ import annotations

from typing import Any

from stratus.interfaces.network import HostPlugging, NetworkCapability
from stratus.network import attachments
from stratus.network.client import Attachment, NetworkClient


class LocalNetworkClient(NetworkClient):
    """:class:`NetworkClient` served in-process by ``service`` (a NetworkService)."""

    def __init__(self, service: Any, owned: bool = False) -> None:
        """``owned``: the client made ``service`` and closes it (else its maker does)."""
        self.service, self.owned = service, owned

    @classmethod
    def from_conf(cls, conf: Any, transport: Any) -> LocalNetworkClient:
        """A client over a network service of its own (a process outside the API: the
        conductor, compute hosts), which tells host agents of changes over ``transport``;
        :meth:`close` releases it."""
        from stratus.network.service import NetworkService

        service = NetworkService(conf)
        service.tell_agents(transport)
        return cls(service, owned=True)

    def close(self) -> None:
        if self.owned:
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
