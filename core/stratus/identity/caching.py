"""What token documents are made of, kept between requests: users, projects, domains and
catalogs as the identity service last read them.

Entries live ``[identity] cache_time`` seconds at most, and every process drops all of them
as soon as any process commits a change to the identity database (told over the broker,
as revocations are), so a rename or a new endpoint shows at once; an LDAP directory's own
changes show within ``cache_time``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Documents:
    """A bounded, time-limited, thread-safe map of what ``make`` gave for each key."""

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if self.ttl <= 0:
            return make()
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
            generation = self._generation
        value = make()
        with self._lock:
            if generation == self._generation:  # nothing changed while it was read
                self._entries[key] = (now + self.ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
