"""A task a service runs every few seconds on a daemon thread until it stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class Periodic:
    """Calls ``task`` every ``interval()`` seconds; a failing call is logged and the next
    one runs as usual (a periodic task must not die)."""

    def __init__(self, name: str, interval: Callable[[], float], task: Callable[[], object]) -> None:
        self.name, self.interval, self.task = name, interval, task
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval()):
            try:
                self.task()
            except Exception:
                LOG.exception("periodic task %s failed; it runs again in %ss", self.name, self.interval())
