"""RPC on the in-memory transport and on RabbitMQ, including a broker restart."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from stratus.context import RequestContext
from stratus.exceptions import MessagingTimeout, NotFound, RemoteError
from stratus.rpc import RPCClient, RPCServer, Transport
from tests.conftest import unavailable
from tests.fixtures import rabbitmq


class Calculator:
    def __init__(self, host):
        self.host = host
        self.seen = []
        self.event = threading.Event()
        self.blocked = threading.Event()
        self.release = threading.Event()

    def add(self, context, a, b):
        return a + b

    def whoami(self, context):
        return {"host": self.host, "request_id": context.request_id, "user": context.user_id}

    def record(self, context, value):
        self.seen.append(value)
        self.event.set()

    def fail(self, context):
        raise NotFound("no such thing")

    def crash(self, context):
        raise KeyError("internal")

    def unserialisable(self, context):
        return object()

    def block(self, context):
        self.blocked.set()
        return self.release.wait(30)


@pytest.fixture(params=["memory", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def transport(request):
    if request.param == "memory":
        return Transport("memory://", default_timeout=10)
    return Transport(request.getfixturevalue("rabbit_url"), default_timeout=10)


@pytest.fixture
def topic():
    return f"test_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def servers(transport, topic):
    started = []
    for host in ("host1", "host2"):
        endpoint = Calculator(host)
        server = RPCServer(transport, topic, host, [endpoint])
        server.start()
        started.append((server, endpoint))
    yield [endpoint for _, endpoint in started]
    for server, _ in started:
        server.stop()


@pytest.fixture
def client(transport, topic):
    client = RPCClient(transport, topic)
    yield client
    client.close()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_call_returns_the_result(servers, client):
    assert client.call(None, "add", a=2, b=3) == 5


def test_call_carries_the_context(servers, client):
    context = RequestContext(user_id="u1", project_id="p1")
    result = client.call(context, "whoami")
    assert result["request_id"] == context.request_id and result["user"] == "u1"


def test_call_to_one_host_reaches_that_host(servers, client):
    assert {client.call(None, "whoami", server="host2")["host"] for _ in range(5)} == {"host2"}


def test_each_call_on_the_shared_topic_is_served_exactly_once(servers, client):
    for i in range(20):
        client.call(None, "record", value=i)
    served = sorted(v for endpoint in servers for v in endpoint.seen)
    assert served == list(range(20))


def test_cast_runs_on_one_server(servers, client):
    client.cast(None, "record", value=1)
    assert wait_for(lambda: sum(len(e.seen) for e in servers) == 1)
    time.sleep(0.2)
    assert sum(len(e.seen) for e in servers) == 1


def test_fanout_reaches_every_server(servers, client):
    client.fanout(None, "record", value="all")
    assert wait_for(lambda: all(e.seen == ["all"] for e in servers))


def test_stratus_exceptions_come_back_as_themselves(servers, client):
    with pytest.raises(NotFound, match="no such thing"):
        client.call(None, "fail")


def test_other_exceptions_come_back_as_remote_errors(servers, client):
    with pytest.raises(RemoteError, match=r"builtins\.KeyError"):
        client.call(None, "crash")
    with pytest.raises(RemoteError, match="has no method 'nope'"):
        client.call(None, "nope")
    with pytest.raises(RemoteError, match="has no method '_private'"):
        client.call(None, "_private")


def test_unserialisable_result_is_an_error_not_a_hang(servers, client):
    with pytest.raises(RemoteError, match="not JSON serialisable"):
        client.call(None, "unserialisable", timeout=5)


def test_timeout_names_method_and_topic(transport, topic):
    client = RPCClient(transport, topic)
    try:
        with pytest.raises(MessagingTimeout, match=rf"no reply to 'add' from topic '{topic}' within 0.3s"):
            client.call(None, "add", timeout=0.3, a=1, b=1)
    finally:
        client.close()


def test_concurrent_calls_get_their_own_replies(servers, client):
    results, errors = {}, []

    def worker(i):
        try:
            results[i] = client.call(None, "add", a=i, b=1000)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {i: i + 1000 for i in range(40)}


def test_a_blocked_method_does_not_hold_up_others(servers, client):
    host1 = servers[0]
    blocked = threading.Thread(target=client.call, args=(None, "block"), kwargs={"server": "host1"})
    blocked.start()
    assert host1.blocked.wait(10)
    assert client.call(None, "add", server="host1", a=1, b=1) == 2
    assert blocked.is_alive()  # answered while the first request was still running
    host1.release.set()
    blocked.join(10)


@pytest.fixture
def private_rabbit(tmp_path_factory):
    reason = rabbitmq.available()
    if reason:
        unavailable("rabbitmq", reason)
    node = rabbitmq.PrivateRabbit(str(tmp_path_factory.mktemp("rabbit")))
    node.start()
    yield node
    node.destroy()


@pytest.mark.rabbitmq
@pytest.mark.slow
def test_rpc_survives_a_broker_restart(private_rabbit, topic):
    transport = Transport(private_rabbit.url, interval_start=0.2, interval_step=0.5, interval_max=2,
                          default_timeout=30)
    endpoint = Calculator("host1")
    server = RPCServer(transport, topic, "host1", [endpoint])
    server.start()
    client = RPCClient(transport, topic)
    try:
        assert client.call(None, "add", a=1, b=1) == 2
        private_rabbit.stop()
        # a cast sent while the broker is down is retried until it is back, then delivered
        sender = threading.Thread(target=client.cast, args=(None, "record"), kwargs={"value": "during"})
        sender.start()
        time.sleep(1)
        private_rabbit.start()
        sender.join(60)
        assert not sender.is_alive()
        assert endpoint.event.wait(60), "the cast sent during the outage was not delivered"
        assert endpoint.seen == ["during"]
        assert wait_for(lambda: server.ready.is_set(), 60)
        assert client.call(None, "add", a=2, b=2, timeout=30) == 4
        assert client.call(None, "whoami", server="host1", timeout=30)["host"] == "host1"
    finally:
        client.close()
        server.stop()


def test_a_context_travels_whole_but_for_its_token():
    sent = RequestContext(user_id="u", project_id="p", roles=["member"], auth_token="secret",
                          global_request_id="req-g", access_rules=[{"service": "compute", "method": "GET"}])
    carried = sent.to_dict()
    assert "auth_token" not in carried and "secret" not in json.dumps(carried)
    received = RequestContext.from_dict(json.loads(json.dumps(carried)))
    assert received == RequestContext(**{**carried, "auth_token": None})
    assert received.roles == ["member"] and received.access_rules == [{"service": "compute", "method": "GET"}]
    carried["roles"].append("admin")  # the message is the sender's copy, never its context
    assert sent.roles == ["member"]
