"""Waiting for ``network-vif-plugged``: a build on a host whose network plugin has agents
starts its server only once the agent has wired every port, as Nova's builds do.

Networking sends the event when an agent reports a port ACTIVE; the waiter also reads
the ports' status now and then, so an event lost on the way (a restarted API process, a
broker away) delays a build by at most a second instead of failing it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: how often a waiter reads the ports' status itself
RECHECK = 1.0


class PlugEvents:
    """The ports builds on one host wait for, and the events that end the waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str], threading.Event] = {}

    def deliver(self, instance_uuid: str, port_id: str | None) -> bool:
        """A ``network-vif-plugged`` event; True if a build was waiting for it."""
        with self._lock:
            if port_id is None:
                found = [e for (i, _), e in self._waiting.items() if i == instance_uuid]
            else:
                found = [e for e in [self._waiting.get((instance_uuid, port_id))] if e is not None]
        for event in found:
            event.set()
        return bool(found)

    def wait(self, instance_uuid: str, port_ids: list[str], timeout: float,
             wired: Callable[[list[str]], set[str]]) -> set[str]:
        """Wait until every port is wired or ``timeout`` passes; the ports still not wired.
        ``wired`` reads which ports are (the fallback for lost events)."""
        events = {port: threading.Event() for port in port_ids}
        with self._lock:
            for port, event in events.items():
                self._waiting[(instance_uuid, port)] = event
        try:
            deadline = time.monotonic() + timeout
            missing = set(port_ids) - wired(port_ids)
            while missing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                slice_end = time.monotonic() + min(RECHECK, left)
                for port in list(missing):
                    if events[port].wait(max(0.0, slice_end - time.monotonic())):
                        missing.discard(port)
                if missing:
                    missing -= wired(sorted(missing))
            return missing
        finally:
            with self._lock:
                for port in port_ids:
                    self._waiting.pop((instance_uuid, port), None)
