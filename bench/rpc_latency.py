"""RPC round-trip latency and throughput: stratus.rpc ``call`` versus raw kombu.

The peer is the same request/reply done directly with kombu (publish to a queue, a
consumer thread replies to a reply queue) in the same run, on the same broker, so the
difference is what Stratus's RPC layer costs. Prints figures; asserts nothing.

    python bench/rpc_latency.py [--url amqp://guest:guest@127.0.0.1:5672//] [--calls 500]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid

import kombu
from kombu.mixins import ConsumerMixin

from stratus.rpc import RPCClient, RPCServer, Transport


class Echo:
    def echo(self, context, value):
        return value


def bench_stratus(url: str, calls: int) -> list[float]:
    transport = Transport(url)
    topic = f"bench_{uuid.uuid4().hex[:6]}"
    server = RPCServer(transport, topic, "bench", [Echo()])
    server.start()
    client = RPCClient(transport, topic)
    try:
        client.call(None, "echo", value=0)  # warm up connections and queues
        samples = []
        for i in range(calls):
            started = time.perf_counter()
            client.call(None, "echo", value=i)
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        client.close()
        server.stop()


class RawServer(ConsumerMixin):
    def __init__(self, url: str, queue: kombu.Queue, reply_exchange: kombu.Exchange) -> None:
        self.connection = kombu.Connection(url)
        self.queue = queue
        self.reply_exchange = reply_exchange
        self.ready = threading.Event()
        self.producer = kombu.Producer(kombu.Connection(url))

    def get_consumers(self, consumer_cls, channel):
        return [consumer_cls(queues=[self.queue], callbacks=[self.on_message], accept=["json"])]

    def on_consume_ready(self, *args, **kwargs):
        self.ready.set()

    def on_message(self, body, message):
        message.ack()
        self.producer.publish({"id": body["id"], "value": body["value"]}, exchange=self.reply_exchange,
                              routing_key=body["reply_to"], serializer="json")


def bench_kombu(url: str, calls: int) -> list[float]:
    name = f"rawbench_{uuid.uuid4().hex[:6]}"
    exchange = kombu.Exchange(name, type="direct", auto_delete=True)
    reply_exchange = kombu.Exchange(f"{name}_reply", type="direct", auto_delete=True)
    queue = kombu.Queue(name, exchange=exchange, routing_key=name, auto_delete=True)
    reply_queue = kombu.Queue(f"{name}_r", exchange=reply_exchange, routing_key=f"{name}_r", auto_delete=True)
    server = RawServer(url, queue, reply_exchange)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    server.ready.wait(30)
    replies: dict[str, object] = {}
    with kombu.Connection(url) as connection:
        producer = kombu.Producer(connection)
        with kombu.Consumer(connection, [reply_queue], accept=["json"],
                            callbacks=[lambda body, msg: (msg.ack(), replies.__setitem__(body["id"], body))]):
            samples = []
            for i in range(calls + 1):
                request_id = uuid.uuid4().hex
                started = time.perf_counter()
                producer.publish({"id": request_id, "value": i, "reply_to": f"{name}_r"}, exchange=exchange,
                                 routing_key=name, serializer="json", declare=[exchange])
                while request_id not in replies:
                    connection.drain_events(timeout=10)
                if i:  # the first round trip warms up, as for Stratus
                    samples.append(time.perf_counter() - started)
    server.should_stop = True
    thread.join(5)
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"  {label:<14} median {statistics.median(samples) * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms   "
          f"{len(samples) / sum(samples):8.0f} calls/s (sequential)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    print(f"RPC round trip, {args.calls} sequential calls on {args.url.split('@')[-1]}")
    report("raw kombu", bench_kombu(args.url, args.calls))
    report("stratus.rpc", bench_stratus(args.url, args.calls))


if __name__ == "__main__":
    main()
