"""The calling side: ``cast`` (one-way), ``call`` (request/reply) and ``fanout``."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from typing import Any

import kombu
from kombu.mixins import ConsumerMixin

from stratus.context import RequestContext
from stratus.exceptions import BackendUnavailable, MessagingTimeout
from stratus.rpc import local, message
from stratus.rpc.transport import POLL_INTERVAL, Transport

LOG = logging.getLogger(__name__)


def _context_dict(context: RequestContext | dict[str, Any] | None) -> dict[str, Any]:
    if context is None:
        return RequestContext().to_dict()
    if isinstance(context, RequestContext):
        return context.to_dict()
    return dict(context)


class _ReplyListener(ConsumerMixin):
    """One reply queue per client, consumed by a daemon thread; replies go to waiters by id."""

    def __init__(self, transport: Transport) -> None:
        self.connection = transport.connection()
        self.name = f"reply_{uuid.uuid4().hex}"
        self.queue = kombu.Queue(
            self.name, exchange=transport.reply_exchange, routing_key=self.name,
            durable=False, auto_delete=True,
        )
        self.waiters: dict[str, queue.SimpleQueue] = {}
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, kwargs={"safety_interval": POLL_INTERVAL},
                                       name=self.name, daemon=True)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        return [consumer_cls(queues=[self.queue], callbacks=[self.on_reply], accept=["json"])]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self.ready.set()

    def on_connection_error(self, exc: BaseException, interval: float) -> None:
        self.ready.clear()
        LOG.warning("RPC reply connection lost (%s); reconnecting in %.1fs", exc, interval)

    def on_reply(self, body: dict[str, Any], msg: Any) -> None:
        msg.ack()
        waiter = self.waiters.get(body.get("msg_id", ""))
        if waiter is not None:
            waiter.put(body)
        else:
            LOG.debug("reply %s arrived after its caller gave up", body.get("msg_id"))

    def stop(self) -> None:
        self.should_stop = True
        if self.thread.is_alive():
            self.thread.join(5)
        self.connection.release()


class RPCClient:
    """Sends requests to the servers of one topic. Thread-safe.

    :param transport: the broker to use.
    :param topic: the service's topic, e.g. ``"conductor"`` or ``"compute"``.
    :param timeout: default seconds a :meth:`call` waits (the transport's default if None).
    """

    def __init__(self, transport: Transport, topic: str, timeout: float | None = None) -> None:
        self.transport = transport
        self.topic = topic
        self.timeout = timeout if timeout is not None else transport.default_timeout
        self._lock = threading.Lock()
        self._connection: kombu.Connection | None = None
        self._producer: kombu.Producer | None = None
        self._replies: _ReplyListener | None = None

    def _publish(self, body: dict[str, Any], exchange: kombu.Exchange, routing_key: str, persistent: bool) -> None:
        if self.transport.is_memory:
            if exchange.type == "fanout":
                local.BROKER.fanout(self.topic, body)
            else:
                local.BROKER.publish(routing_key, body)
            return
        with self._lock:
            if self._producer is None:
                self._connection = self.transport.connection()
                self._producer = kombu.Producer(self._connection)
            try:
                self._producer.publish(
                    body, exchange=exchange, routing_key=routing_key, serializer="json",
                    declare=[exchange], retry=True, retry_policy=self.transport.retry_policy,
                    delivery_mode=self.transport.delivery_mode if persistent else 1,
                )
            except self._connection.connection_errors as exc:
                raise BackendUnavailable(f"message broker unreachable: {exc}") from exc

    def _routing_key(self, server: str | None) -> str:
        return f"{self.topic}.{server}" if server else self.topic

    def cast(self, context: RequestContext | dict | None, method: str, server: str | None = None, **args: Any) -> None:
        """Ask one server of the topic (or ``server``) to run ``method``; don't wait.

        :raises BackendUnavailable: the broker stayed unreachable through every retry.
        """
        body = message.request(method, args, _context_dict(context))
        self._publish(body, self.transport.topic_exchange, self._routing_key(server), persistent=True)

    def fanout(self, context: RequestContext | dict | None, method: str, **args: Any) -> None:
        """Ask every server of the topic to run ``method``; don't wait."""
        body = message.request(method, args, _context_dict(context))
        self._publish(body, self.transport.fanout_exchange(self.topic), self.topic, persistent=False)

    def _reply_listener(self) -> _ReplyListener:
        with self._lock:
            if self._replies is None:
                self._replies = _ReplyListener(self.transport)
                self._replies.thread.start()
            return self._replies

    def call(
        self, context: RequestContext | dict | None, method: str, server: str | None = None,
        timeout: float | None = None, **args: Any,
    ) -> Any:
        """Run ``method`` on one server of the topic (or ``server``) and return its result.

        Exceptions raised by the method come back as the same Stratus exception class
        (others as :class:`~stratus.exceptions.RemoteError`).

        :raises MessagingTimeout: no reply within ``timeout`` seconds.
        """
        wait = self.timeout if timeout is None else timeout
        if self.transport.is_memory:
            return self._call_here(context, method, server, wait, args)
        replies = self._reply_listener()
        if not replies.ready.wait(wait):
            raise MessagingTimeout(f"could not listen for replies from {self.topic!r} within {wait}s")
        msg_id = uuid.uuid4().hex
        waiter: queue.SimpleQueue = queue.SimpleQueue()
        replies.waiters[msg_id] = waiter
        try:
            body = message.request(method, args, _context_dict(context), msg_id, replies.name)
            self._publish(body, self.transport.topic_exchange, self._routing_key(server), persistent=False)
            return self._await(waiter, wait, method, server)
        finally:
            replies.waiters.pop(msg_id, None)

    def _call_here(self, context: RequestContext | dict | None, method: str, server: str | None, wait: float,
                   args: dict[str, Any]) -> Any:
        msg_id = uuid.uuid4().hex
        waiter = local.BROKER.expect_reply(msg_id)
        try:
            body = message.request(method, args, _context_dict(context), msg_id, local.LOCAL_REPLY_TO)
            local.BROKER.publish(self._routing_key(server), body)
            return self._await(waiter, wait, method, server)
        finally:
            local.BROKER.forget_reply(msg_id)

    def _await(self, waiter: queue.SimpleQueue, wait: float, method: str, server: str | None) -> Any:
        """The reply's result, or its failure raised again.

        :raises MessagingTimeout: no reply within ``wait`` seconds."""
        try:
            reply = waiter.get(timeout=wait)
        except queue.Empty:
            raise MessagingTimeout(
                f"no reply to {method!r} from topic {self._routing_key(server)!r} within {wait}s"
            ) from None
        if reply.get("failure"):
            raise message.rebuild_exception(reply["failure"])
        return reply.get("result")

    def close(self) -> None:
        with self._lock:
            if self._replies is not None:
                self._replies.stop()
                self._replies = None
            if self._connection is not None:
                self._connection.release()
                self._connection = self._producer = None
