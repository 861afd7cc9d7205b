"""The networking service's collaborators: its database and the configured plugin, and the
precommit/postcommit protocol around every change."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from stratus import loading
from stratus.db.engine import Database
from stratus.exceptions import StratusError
from stratus.interfaces.network import NetworkPlugin, Operation, ResourceEvent, ResourceType, Segment

LOG = logging.getLogger(__name__)


@dataclass
class Change:
    session: Session
    events: list[ResourceEvent] = field(default_factory=list)
    failed: list[ResourceEvent] = field(default_factory=list)


class NetworkService:
    """:raises DriverError: the plugin does not load."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "network")
        self.plugin: NetworkPlugin = loading.load_driver("stratus.network", conf.network.plugin, conf)

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

    @staticmethod
    def event(resource: ResourceType, operation: Operation, current: Mapping[str, Any] | None,
              original: Mapping[str, Any] | None = None, segments: tuple[Segment, ...] = ()) -> ResourceEvent:
        return ResourceEvent(resource, operation, current, original, segments)

    def close(self) -> None:
        self.db.dispose()
