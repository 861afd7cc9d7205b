"""The serving side: consumes a topic's queues and runs endpoint methods."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kombu
from kombu.mixins import ConsumerMixin

from stratus.context import RequestContext
from stratus.rpc import local, message
from stratus.rpc.transport import POLL_INTERVAL, Transport

LOG = logging.getLogger(__name__)


class RPCServer(ConsumerMixin):
    """Serves ``topic`` for ``host`` with the public methods of ``endpoints``.

    An endpoint method is called as ``method(context, **args)`` with a
    :class:`~stratus.context.RequestContext`; its return value must be JSON-serialisable.
    Methods run on a pool of ``workers`` threads, so a slow one does not hold up others.
    Requests are acknowledged on receipt (at most once, like oslo.messaging's RPC): a
    server that dies mid-request loses that request, and callers of ``call`` time out.
    After a lost broker connection the server reconnects and declares its queues again.
    """

    def __init__(self, transport: Transport, topic: str, host: str, endpoints: list[object], workers: int = 8,
                 hosts: dict[str, list[object]] | None = None) -> None:
        self.transport = transport
        self.topic = topic
        self.host = host
        self.endpoints = endpoints
        #: further hosts this one server answers for, each with its endpoints (one process
        #: running many hosts: one connection and thread pool instead of one per host)
        self.hosts = dict(hosts or {})
        self.connection = transport.connection()
        fanout_name = f"{topic}_fanout_{uuid.uuid4().hex}"
        self.queues = [
            kombu.Queue(topic, exchange=transport.topic_exchange, routing_key=topic, durable=True),
            *(kombu.Queue(f"{topic}.{name}", exchange=transport.topic_exchange, routing_key=f"{topic}.{name}",
                          durable=True) for name in [host, *self.hosts]),
            kombu.Queue(fanout_name, exchange=transport.fanout_exchange(topic), routing_key=topic,
                        durable=False, auto_delete=True),
        ]
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"rpc-{topic}")
        self._workers = workers
        self._reply_lock = threading.Lock()
        self._reply_connection: kombu.Connection | None = None
        self._reply_producer: kombu.Producer | None = None
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        return [consumer_cls(queues=self.queues, callbacks=[self._on_message], accept=["json"],
                             prefetch_count=self._workers)]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self.ready.set()

    def on_connection_error(self, exc: BaseException, interval: float) -> None:
        self.ready.clear()
        LOG.warning("RPC server %s.%s lost the broker (%s); reconnecting in %.1fs",
                    self.topic, self.host, exc, interval)

    def _on_message(self, body: dict[str, Any], msg: Any) -> None:
        msg.ack()
        self.deliver((msg.delivery_info or {}).get("routing_key", ""), body)

    def deliver(self, routing_key: str, body: dict[str, Any]) -> None:
        """Run a request that arrived on ``routing_key`` on the pool (the in-process broker
        calls this directly)."""
        name = routing_key[len(self.topic) + 1:] if routing_key.startswith(f"{self.topic}.") else ""
        self._pool.submit(self._dispatch, body, self.hosts.get(name, self.endpoints))

    def _find(self, method: str, endpoints: list[object]) -> Any:
        if not method or method.startswith("_"):
            return None
        for endpoint in endpoints:
            function = getattr(endpoint, method, None)
            if callable(function):
                return function
        return None

    def _dispatch(self, body: dict[str, Any], endpoints: list[object] | None = None) -> None:
        method = body.get("method", "")
        reply: dict[str, Any] = {"msg_id": body.get("msg_id"), "result": None, "failure": None}
        function = self._find(method, self.endpoints if endpoints is None else endpoints)
        try:
            if function is None:
                raise AttributeError(f"topic {self.topic!r} has no method {method!r}")
            context = RequestContext.from_dict(body.get("context") or {})
            result = function(context, **(body.get("args") or {}))
            if body.get("reply_to"):
                try:
                    json.dumps(result)
                except (TypeError, ValueError) as exc:
                    raise TypeError(f"{method} returned a value that is not JSON serialisable: {exc}") from None
            reply["result"] = result
        except Exception as exc:
            if body.get("reply_to"):
                LOG.info("RPC %s.%s failed: %s", self.topic, method, exc)
            else:
                LOG.exception("RPC cast %s.%s failed", self.topic, method)
            reply["failure"] = message.failure(exc)
        if body.get("reply_to"):
            self._reply(body["reply_to"], reply)

    def _reply(self, reply_to: str, reply: dict[str, Any]) -> None:
        if self.transport.is_memory:
            local.BROKER.reply(reply)
            return
        with self._reply_lock:
            if self._reply_producer is None:
                self._reply_connection = self.transport.connection()
                self._reply_producer = kombu.Producer(self._reply_connection)
            self._reply_producer.publish(
                reply, exchange=self.transport.reply_exchange, routing_key=reply_to, serializer="json",
                retry=True, retry_policy=self.transport.retry_policy,
            )

    def start(self, wait: float = 30) -> None:
        """Start consuming in a daemon thread; return once the queues are declared."""
        if self.transport.is_memory:
            local.BROKER.consume(self, [self.topic, *(f"{self.topic}.{name}" for name in [self.host, *self.hosts])],
                                 self.topic)
            self.ready.set()
            return
        self._thread = threading.Thread(target=self.run, kwargs={"safety_interval": POLL_INTERVAL},
                                        name=f"rpc-server-{self.topic}", daemon=True)
        self._thread.start()
        if not self.ready.wait(wait):
            LOG.warning("RPC server %s not ready after %ss; it keeps trying", self.topic, wait)

    def stop(self) -> None:
        """Stop consuming, finish the requests already running, close connections."""
        self.should_stop = True
        if self.transport.is_memory:
            local.BROKER.cancel(self)
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=True)
        self.connection.release()
        if self._reply_connection is not None:
            self._reply_connection.release()
