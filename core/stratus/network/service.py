"""The networking service's collaborators: its database and the configured plugin, and the
precommit/postcommit protocol around every change."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from stratus import loading
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable, StratusError
from stratus.interfaces.network import NetworkCapability, NetworkPlugin, Operation, ResourceEvent, ResourceType, Segment

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortStatus:
    """A port an agent reported wired (``ACTIVE``) or unwired (``DOWN``)."""

    port_id: str
    status: str
    device_id: str
    device_owner: str
    host: str


@dataclass(frozen=True)
class PortChanged:
    """A server's port whose addresses changed: a fixed IP, or a floating IP (dis)associated
    (what Neutron's notifier reports to Nova as ``network-changed``)."""

    port_id: str
    device_id: str
    device_owner: str
    host: str


@dataclass
class Change:
    session: Session
    events: list[ResourceEvent] = field(default_factory=list)
    failed: list[ResourceEvent] = field(default_factory=list)


def _tell(listeners: list[Callable[[Any], None]], changes: list[Any]) -> None:
    for listener in listeners:
        try:
            listener(changes)
        except Exception:  # a listener's trouble never undoes the change it hears of
            LOG.exception("a network listener failed")


class NetworkService:
    """:raises DriverError: the plugin does not load."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "network")
        self.plugin: NetworkPlugin = loading.load_driver("stratus.network", conf.network.plugin, conf)
        self._agent_server: Any = None
        self._agent_client: Any = None
        self._port_listeners: list[Callable[[list[PortStatus]], None]] = []
        self._change_listeners: list[Callable[[list[PortChanged]], None]] = []

    @property
    def has_agents(self) -> bool:
        """Whether the plugin's data plane is realised by host agents that sync from us."""
        return bool(self.plugin.capabilities & NetworkCapability.DATA_PLANE)

    def serve_agents(self, transport: Any) -> None:
        """Answer the plugin's host agents (:mod:`stratus.network.agents`) on ``transport``
        and tell them when something changed; nothing for plugins without a data plane."""
        if not self.has_agents:
            return
        import os

        from stratus.network import agents
        from stratus.rpc import RPCServer

        self.tell_agents(transport)
        endpoint = agents.AgentEndpoint(self, self.notify_agents)
        self._agent_server = RPCServer(transport, agents.TOPIC, f"{self.conf.host}.{os.getpid()}", [endpoint])
        self._agent_server.start()

    def on_port_status(self, listener: Callable[[list[PortStatus]], None]) -> None:
        """Call ``listener`` with the ports whose status an agent changed (the compute
        service turns them into ``network-vif-plugged`` events, as Neutron's notifier)."""
        self._port_listeners.append(listener)

    def port_status_changed(self, changes: list[PortStatus]) -> None:
        _tell(self._port_listeners, changes)

    def on_network_changed(self, listener: Callable[[list[PortChanged]], None]) -> None:
        """Call ``listener`` with the servers' ports whose addresses a change moved (the compute
        service refreshes those servers' addresses, as Nova on Neutron's ``network-changed``)."""
        self._change_listeners.append(listener)

    def _addresses_changed(self, events: list[ResourceEvent]) -> None:
        port_ids: set[str] = set()
        for event in events:
            before, after = event.original or {}, event.current or {}
            if event.resource == ResourceType.FLOATING_IP:
                if (before.get("port_id"), before.get("fixed_ip_address")) != (after.get("port_id"),
                                                                               after.get("fixed_ip_address")):
                    port_ids.update(p for p in (before.get("port_id"), after.get("port_id")) if p)
            elif event.resource == ResourceType.PORT and event.operation == Operation.UPDATE and after \
                    and before.get("fixed_ips") != after.get("fixed_ips"):
                port_ids.add(after["id"])
        if not port_ids or not self._change_listeners:
            return
        import sqlalchemy as sa

        from stratus.network import models

        with self.db.reading() as session:
            rows = session.execute(sa.select(models.Port.id, models.Port.device_id, models.Port.device_owner,
                                             models.Port.binding_host_id).where(models.Port.id.in_(port_ids)))
            changed = [PortChanged(*row) for row in rows if row.device_id and row.binding_host_id]
        if changed:
            _tell(self._change_listeners, changed)

    def notify_compute(self, compute: Any) -> None:
        """Tell ``compute`` (a :class:`~stratus.compute.client.ComputeClient`) what happens to
        servers' ports, as Neutron's notifier tells Nova: ``network-vif-plugged`` /
        ``network-vif-unplugged`` when an agent wired or unwired one (what a build waits for),
        ``network-changed`` when its addresses moved (the server's addresses are refreshed)."""
        from stratus.compute.client import ServerEvent

        def plugged(changes: list[PortStatus]) -> None:
            compute.external_events([
                ServerEvent("network-vif-plugged" if c.status == "ACTIVE" else "network-vif-unplugged",
                            c.device_id, c.port_id, host=c.host)
                for c in changes if c.device_owner.startswith("compute:") and c.device_id])

        def changed(changes: list[PortChanged]) -> None:
            compute.external_events([ServerEvent("network-changed", c.device_id, c.port_id, host=c.host)
                                     for c in changes if c.device_owner.startswith("compute:")])

        self.on_port_status(plugged)
        self.on_network_changed(changed)

    def tell_agents(self, transport: Any) -> None:
        """Tell the plugin's host agents on ``transport`` when something changed (a process
        that changes ports but does not answer agents: a compute host, the conductor)."""
        if not self.has_agents or self._agent_client is not None:
            return
        from stratus.network import agents
        from stratus.rpc import RPCClient, Transport

        self._agent_client = RPCClient(Transport(transport.url, max_retries=1, interval_start=0.1, interval_max=0.5,
                                                 heartbeat=transport.heartbeat), agents.AGENT_TOPIC)

    def notify_agents(self) -> None:
        """Tell every agent to resync; if the broker is away they catch up on their periodic sync."""
        if self._agent_client is None:
            return
        try:
            self._agent_client.fanout(None, "resync")
        except BackendUnavailable as exc:
            LOG.warning("could not tell the network agents to resync (%s); their periodic sync catches up", exc)

    @contextlib.contextmanager
    def change(self) -> Iterator[Change]:
        """A transaction whose events go to the plugin: precommit each inside it (a raise rolls
        everything back), postcommit each after commit (a failure is logged and listed in
        ``Change.failed``, which the caller turns into ERROR status)."""
        with self.db.transaction() as session:
            change = Change(session)
            yield change
            for event in change.events:
                self.plugin.precommit(event)
        for event in change.events:
            try:
                self.plugin.postcommit(event)
            except StratusError as exc:
                LOG.error("%s %s postcommit failed: %s", event.resource, event.operation, exc)
                change.failed.append(event)
        if change.events:
            self.notify_agents()
            self._addresses_changed(change.events)

    @staticmethod
    def event(resource: ResourceType, operation: Operation, current: Mapping[str, Any] | None,
              original: Mapping[str, Any] | None = None, segments: tuple[Segment, ...] = ()) -> ResourceEvent:
        return ResourceEvent(resource, operation, current, original, segments)

    def close(self) -> None:
        if self._agent_server is not None:
            self._agent_server.stop()
        if self._agent_client is not None:
            self._agent_client.close()
        self.db.dispose()
