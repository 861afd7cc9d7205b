"""Options of the ``[messaging]`` group: the RPC transport."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import TransportURL

GROUP = "messaging"

opts = [
    cfg.Opt(
        "transport_url",
        type=TransportURL(),
        default="memory://",
        help="kombu URL of the message broker. memory:// works inside one process only (the "
        "embedded cloud); amqp://USER:PW@HOST:5672/VHOST for RabbitMQ. Several brokers can be "
        "given separated by ';' for fail-over.",
        secret=True,
    ),
    cfg.FloatOpt("rpc_response_timeout", default=60.0, min=0.1, help="Seconds a `call` waits for its reply."),
    cfg.IntOpt(
        "max_retries",
        default=0,
        min=0,
        help="Times a publish retries while the broker is unreachable; 0 retries forever.",
    ),
    cfg.FloatOpt("retry_interval", default=1.0, min=0.0, help="Seconds before the first reconnect attempt."),
    cfg.FloatOpt("retry_backoff", default=2.0, min=0.0, help="Seconds added to the wait after each failed attempt."),
    cfg.FloatOpt("retry_max_interval", default=30.0, min=0.1, help="Longest wait between reconnect attempts."),
    cfg.IntOpt("heartbeat", default=60, min=0, help="AMQP heartbeat in seconds; 0 disables it."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
