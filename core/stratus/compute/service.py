"""The compute service's collaborators in an API process: its database, RPC clients, and
what the API needs to know of hosts."""

from __future__ import annotations

import logging
import threading
from typing import Any

from stratus.compute import binaries
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable
from stratus.rpc import RPCClient
from stratus.servicegroup.registry import registry_from_conf

LOG = logging.getLogger(__name__)


class ComputeService:
    def __init__(self, conf: Any, db: Database | None = None, transport: Any = None,
                 network: Any = None, images: Any = None, projects: Any = None, volumes: Any = None) -> None:
        """``network``, ``images``, ``projects`` and ``volumes``: the other services' clients
        (NetworkClient, ImageClient, identity's Projects, VolumeClient; without ``projects`` named
        projects are not checked, without ``volumes`` nothing is attached)."""
        self.conf = conf
        self.projects = projects
        self.db = db or Database.for_service(conf, "compute")
        self.transport, self.network, self.images, self.volumes = transport, network, images, volumes
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        self._clients: dict[str, RPCClient] = {}
        self._lock = threading.Lock()

    def rpc(self, topic: str) -> RPCClient:
        with self._lock:
            if topic not in self._clients:
                self._clients[topic] = RPCClient(self.transport, topic)
            return self._clients[topic]

    def host_states_changed(self, context: Any) -> None:
        """Tell every scheduler to read the nodes again (a service or an aggregate changed);
        if the broker is away they read them within ``[scheduler] host_state_max_age``."""
        from stratus.compute.topics import HOSTS_CHANGED, SCHEDULER_TOPIC

        try:
            self.rpc(SCHEDULER_TOPIC).fanout(context, HOSTS_CHANGED)
        except BackendUnavailable as exc:
            LOG.warning("could not tell the schedulers that hosts changed (%s)", exc)

    def verify_project(self, project_id: str, context: Any) -> None:
        """:raises Invalid: identity says there is no project ``project_id``."""
        if self.projects is not None:
            self.projects.verify(project_id, context)

    def host_is_up(self, host: str) -> bool:
        return any(s.up for s in self.registry.list(binary=binaries.COMPUTE, host=host))

    def release_ports(self, server_id: str, network_info: list[dict[str, Any]]) -> None:
        """Give back a server's ports from here (its host is down)."""
        if self.network is not None:
            self.network.release(server_id, network_info)

    def release_volumes(self, server_id: str, entries: list[dict[str, Any]]) -> None:
        """Give back a server's volumes from here (it was never placed, or its host is down):
        attachments ended, ``delete_on_termination`` volumes deleted."""
        if self.volumes is None:
            return
        for entry in entries:
            try:
                if entry.get("attachment_id"):
                    self.volumes.detach(entry["attachment_id"])
                if entry.get("delete_on_termination") and entry.get("volume_id"):
                    self.volumes.delete(entry["volume_id"], force=True)
            except Exception as exc:  # the server goes anyway; the volume stays for an operator
                LOG.warning("volume %s of deleted server %s: %s", entry.get("volume_id"), server_id, exc)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        for other in (self.network, self.images, self.volumes):
            if other is not None:
                other.close()
        self.services_db.dispose()
        self.db.dispose()
