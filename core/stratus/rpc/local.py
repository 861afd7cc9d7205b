"""The in-process broker behind ``memory://``: every client and server of one process meet
here, with the broker's routing (a topic's shared queue, ``topic.host``, per-topic
fanout) and without its polling.

kombu's memory transport polls each queue (every 20 ms, across every queue a server
consumes: one per simulated compute host), which cost a boot one poll interval per hop
and, with a thousand hosts, most of a core. Here a publish hands the message straight to
a consuming server's thread pool. As on a broker, a message for a queue nobody consumes
yet waits for its first consumer, a shared queue's messages go round-robin, and every
body crosses as JSON (a copy: caller and callee never share objects).
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections import defaultdict, deque
from typing import Any, Protocol


class Consumer(Protocol):
    def deliver(self, routing_key: str, body: dict[str, Any]) -> None: ...


class LocalBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[Consumer]] = defaultdict(list)
        self._fanout: dict[str, list[Consumer]] = defaultdict(list)
        self._pending: dict[str, deque[str]] = defaultdict(deque)
        self._turn = itertools.count()
        self._waiters: dict[str, queue.SimpleQueue] = {}

    def consume(self, consumer: Consumer, routing_keys: list[str], fanout_topic: str) -> None:
        """Start delivering ``routing_keys`` (and ``fanout_topic``'s fanouts) to ``consumer``;
        messages that waited for a consumer are delivered first."""
        waiting = []
        with self._lock:
            for key in routing_keys:
                self._queues[key].append(consumer)
                while self._pending[key]:
                    waiting.append((key, self._pending[key].popleft()))
                del self._pending[key]
            self._fanout[fanout_topic].append(consumer)
        for key, text in waiting:
            consumer.deliver(key, json.loads(text))

    def cancel(self, consumer: Consumer) -> None:
        with self._lock:
            for consumers in (*self._queues.values(), *self._fanout.values()):
                if consumer in consumers:
                    consumers.remove(consumer)

    def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        with self._lock:
            consumers = self._queues.get(routing_key)
            if not consumers:
                self._pending[routing_key].append(text)
                return
            consumer = consumers[next(self._turn) % len(consumers)]
        consumer.deliver(routing_key, json.loads(text))

    def fanout(self, topic: str, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        with self._lock:
            consumers = list(self._fanout.get(topic, ()))
        for consumer in consumers:
            consumer.deliver(topic, json.loads(text))

    def expect_reply(self, msg_id: str) -> queue.SimpleQueue:
        waiter: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            self._waiters[msg_id] = waiter
        return waiter

    def forget_reply(self, msg_id: str) -> None:
        with self._lock:
            self._waiters.pop(msg_id, None)

    def reply(self, body: dict[str, Any]) -> None:
        """A reply to a :meth:`expect_reply`-ed call; dropped if its caller gave up."""
        with self._lock:
            waiter = self._waiters.get(body.get("msg_id") or "")
        if waiter is not None:
            waiter.put(json.loads(json.dumps(body)))


#: the process's broker, as the memory transport's queues were per process
BROKER = LocalBroker()
LOCAL_REPLY_TO = "local"
