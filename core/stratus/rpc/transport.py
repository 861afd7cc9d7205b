"""The broker connection settings and the exchange layout shared by clients and servers."""

from __future__ import annotations

# kombu's connect imports the idna codec lazily on RPC threads; a main-thread import of
# it at the same moment can deadlock the interpreter, so it is loaded before any thread
import encodings.idna  # noqa: F401
import logging
from typing import Any

import kombu

LOG = logging.getLogger(__name__)

TOPIC_EXCHANGE = "stratus"
#: seconds a consumer waits for a message before checking whether it should stop
POLL_INTERVAL = 0.25
REPLY_EXCHANGE = "stratus_reply"
FANOUT_PREFIX = "stratus_fanout_"


class Transport:
    """Where the broker is and how hard to try reaching it.

    :param url: kombu URL; several separated by ``;`` are tried in turn (fail-over).
    :param max_retries: publish attempts while the broker is away; None retries forever.
    """

    def __init__(
        self,
        url: str,
        *,
        max_retries: int | None = None,
        interval_start: float = 1.0,
        interval_step: float = 2.0,
        interval_max: float = 30.0,
        heartbeat: int = 60,
        default_timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self.interval_start = interval_start
        self.interval_step = interval_step
        self.interval_max = interval_max
        self.heartbeat = heartbeat
        self.default_timeout = default_timeout
        self.is_memory = url.startswith("memory://")
        self.topic_exchange = kombu.Exchange(TOPIC_EXCHANGE, type="topic", durable=True)
        self.reply_exchange = kombu.Exchange(REPLY_EXCHANGE, type="direct", durable=False)

    def connection(self) -> kombu.Connection:
        """A new, not yet connected, kombu connection."""
        # memory:// never reaches kombu's polling memory transport: clients and servers meet
        # in stratus.rpc.local, so this connection is only ever made, never used
        return kombu.Connection(
            "memory://localhost/" if self.is_memory else self.url,
            heartbeat=0 if self.is_memory else self.heartbeat,
            failover_strategy="round-robin",
        )

    @property
    def retry_policy(self) -> dict[str, Any]:
        return {
            "max_retries": self.max_retries,
            "interval_start": self.interval_start,
            "interval_step": self.interval_step,
            "interval_max": self.interval_max,
        }

    def fanout_exchange(self, topic: str) -> kombu.Exchange:
        return kombu.Exchange(f"{FANOUT_PREFIX}{topic}", type="fanout", durable=False)

    @property
    def delivery_mode(self) -> int:
        return 2  # persistent: casts survive a broker restart on durable queues


def transport_from_conf(conf: Any) -> Transport:
    m = conf.messaging
    return Transport(
        m.transport_url,
        max_retries=m.max_retries or None,
        interval_start=m.retry_interval,
        interval_step=m.retry_backoff,
        interval_max=m.retry_max_interval,
        heartbeat=m.heartbeat,
        default_timeout=m.rpc_response_timeout,
    )
