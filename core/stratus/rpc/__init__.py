"""RPC over kombu: :class:`~stratus.rpc.client.RPCClient` (cast, call, fanout) and
:class:`~stratus.rpc.server.RPCServer`, on a :class:`~stratus.rpc.transport.Transport`.

Topics: a service listens on ``<topic>`` (shared, one server gets each message),
``<topic>.<host>`` (that server only) and a fanout queue of its own (every server of the
topic). Payloads are JSON. ``memory://`` works within one process (through the
in-process broker of :mod:`stratus.rpc.local`); ``amqp://`` across hosts, with
reconnect and retry when the broker goes away.
"""

from stratus.rpc.client import RPCClient
from stratus.rpc.server import RPCServer
from stratus.rpc.transport import Transport, transport_from_conf

__all__ = ["RPCClient", "RPCServer", "Transport", "transport_from_conf"]
