"""What compute offers the other services: events about servers — the one module of this
service another may import (issue 17's seam).

Networking tells compute a server's port was wired, unwired or changed addresses
(``network-vif-plugged``, ``network-vif-unplugged``, ``network-changed``), as Neutron's
notifier does through Nova's ``os-server-external-events``. :func:`from_conf` gives what
``[compute_client] mode`` chooses: the compute service of this process (``local``, casting
to the server's host) or that API over REST (``rest``, Stratus or upstream Nova).
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from typing import Any

from stratus.exceptions import BackendUnavailable, NotFound

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerEvent:
    """An event for a server; ``host`` is where the server's port is bound, when known."""

    name: str
    server_uuid: str
    tag: str | None = None
    status: str = "completed"
    host: str | None = None


class ComputeClient(abc.ABC):
    @abc.abstractmethod
    def external_events(self, events: list[ServerEvent]) -> None:
        """Deliver ``events`` to the servers' hosts. Best effort: a server that is gone, or a
        compute service that cannot be reached, is logged, never raised (the host checks its
        ports itself when no event comes)."""

    def close(self) -> None:  # noqa: B027 - most clients hold nothing
        """Release what the client holds."""


class LocalComputeClient(ComputeClient):
    """Events cast straight to each server's host by the compute service of this process."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def external_events(self, events: list[ServerEvent]) -> None:
        from stratus.compute.topics import TOPIC

        for event in events:
            if not event.host:
                continue
            try:
                self.service.rpc(TOPIC).cast(None, "external_instance_event", server=event.host,
                                             instance_uuid=event.server_uuid, name=event.name,
                                             status=event.status, tag=event.tag)
            except BackendUnavailable as exc:
                LOG.warning("could not send %s for port %s to %s (%s); it checks the port itself", event.name,
                            event.tag, event.host, exc)


class RestComputeClient(ComputeClient):
    """``POST /os-server-external-events`` as the service user."""

    def __init__(self, conf: Any, auth: Any) -> None:
        self.auth = auth

    def external_events(self, events: list[ServerEvent]) -> None:
        from stratus.service_auth import request

        if not events:
            return
        body = {"events": [{"name": e.name, "server_uuid": e.server_uuid, "status": e.status,
                            **({"tag": e.tag} if e.tag else {})} for e in events]}
        try:
            request(self.auth.adapter("compute_client"), "POST", "/os-server-external-events", "server events",
                    json=body)
        except (NotFound, BackendUnavailable) as exc:  # 404: none of the servers exists any more
            LOG.warning("compute did not take %d server event(s): %s", len(events), exc)


def from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> ComputeClient:
    """The client ``[compute_client] mode`` chooses: over ``service`` (the ComputeService of
    this process; ``local``) or over REST with ``auth`` (a ServiceAuth)."""
    if conf.compute_client.mode == "rest" and service is None:
        from stratus.service_auth import ServiceAuth

        return RestComputeClient(conf, auth or ServiceAuth(conf))
    if service is None:
        raise ValueError("[compute_client] mode = local needs the compute service in this process")
    return LocalComputeClient(service)
