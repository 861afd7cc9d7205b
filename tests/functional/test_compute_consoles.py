"""Remote consoles end to end on the fake hypervisor: the URL the compute API hands out, the console
proxy inside ``stratus up`` relaying to the guest's console, one-time tokens with a TTL, tokens that
die with their server's place, and the errors Nova gives."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import boot, nova

CONFIG = "[compute]\nresource_update_interval = 1\nsimulated_hosts = 2\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, CONFIG)
    yield server
    server.stop()


def serial_url(conn, server) -> str:
    return conn.compute.create_console(server, console_type="serial")["url"]


def refused(url: str) -> None:
    """The proxy refuses ``url``'s token at the handshake: a bare 403, as websockify answers."""
    with pytest.raises(InvalidStatus) as answer, connect(url, open_timeout=10):
        pass
    assert answer.value.response.status_code == 403 and answer.value.response.body == b""


def read_until(websocket, wanted: bytes, timeout: float = 20) -> bytes:
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, f"{wanted!r} not received: {seen!r}"
        data = websocket.recv(timeout=max(0.1, deadline - time.monotonic()))
        seen += data if isinstance(data, bytes) else data.encode()
    return seen


def test_a_serial_console_relays_both_ways_once_per_token(conn, cloud):
    server = boot(conn, "serial-console")
    url = serial_url(conn, server)
    assert url.startswith("ws://127.0.0.1:")
    with connect(url, open_timeout=10) as console:
        read_until(console, b"fake BIOS booting")  # the guest's console log first
        console.send(b"hello guest\n")
        read_until(console, b"hello guest")  # what the guest echoes back
    refused(url)  # used once already
    refused(url.split("?")[0] + "?token=forged")


def test_a_token_expires(conn, cloud):
    import sqlite3

    server = boot(conn, "expiring-console")
    url = serial_url(conn, server)
    with sqlite3.connect(cloud.data_dir / "stratus.sqlite") as db:  # its [console] token_ttl has passed
        assert db.execute("update console_auth_tokens set expires_at = '2000-01-01 00:00:00.000000' "
                          "where instance_uuid = ?", (server.id,)).rowcount == 1
    refused(url)


def test_a_token_dies_when_its_server_stops_or_moves(conn, cloud):
    server = boot(conn, "moving-console")
    url = serial_url(conn, server)
    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", wait=60, interval=0.3)
    refused(url)
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.3)
    url = serial_url(conn, server)
    before = conn.compute.get_server(server).compute_host
    conn.compute.migrate_server(server)
    conn.compute.wait_for_server(server, status="VERIFY_RESIZE", wait=60, interval=0.3)
    conn.compute.confirm_server_resize(server)
    moved = conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.3)
    assert moved.compute_host != before
    refused(url)


def test_a_vnc_console_greets_through_the_proxy_and_the_page_is_served(conn, cloud):
    server = boot(conn, "vnc-console")
    answer = nova(cloud, conn, "POST", f"/servers/{server.id}/remote-consoles", "2.6",
                  json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert answer.status_code == 200
    url = answer.json()["remote_console"]["url"]
    parts = urlsplit(url)
    assert parts.path == "/vnc_lite.html"
    token = parse_qs(urlsplit(unquote(parse_qs(parts.query)["path"][0])).query)["token"][0]
    with connect(f"ws://{parts.netloc}/?token={token}", subprotocols=["binary"], open_timeout=10) as vnc:
        assert vnc.subprotocol == "binary"
        assert vnc.recv(timeout=10) == b"RFB 003.008\n"
        vnc.send(b"RFB 003.008\n")
        assert vnc.recv(timeout=10) == bytes((1, 1))  # security types: None
        vnc.send(bytes((1,)))
        assert vnc.recv(timeout=10) == bytes(4)  # security result: OK
        vnc.send(bytes((1,)))  # shared
        init = vnc.recv(timeout=10)
        assert init[:4] == bytes((2, 128, 1, 224)) and init[24:] == server.id.encode()  # 640x480, its name
    import http.client

    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/vnc_lite.html/../../../etc/passwd"):
        request = http.client.HTTPConnection(parts.netloc, timeout=10)
        request.request("GET", path)
        answer = request.getresponse()
        assert answer.status in (400, 404) and b"root:" not in answer.read(), path
        request.close()


def test_consoles_nova_does_not_give(conn, cloud):
    server = boot(conn, "no-console")
    path = f"/servers/{server.id}/remote-consoles"
    for body, status in (({"remote_console": {"protocol": "spice", "type": "spice-html5"}}, 400),
                         ({"remote_console": {"protocol": "vnc", "type": "serial"}}, 400),
                         ({"remote_console": {"protocol": "serial", "type": "bogus"}}, 400)):
        assert nova(cloud, conn, "POST", path, "2.6", json=body).status_code == status
    conn.compute.pause_server(server)
    conn.compute.wait_for_server(server, status="PAUSED", wait=60, interval=0.3)
    answer = nova(cloud, conn, "POST", path, "2.6", json={"remote_console": {"protocol": "serial", "type": "serial"}})
    assert answer.status_code == 409


def test_a_hypervisor_without_consoles_is_501(tmp_path_factory):
    from tests.functional.accounts import connect as sdk

    other = start_cloud(tmp_path_factory, "[fake_hypervisor]\nwithout_capabilities = REMOTE_CONSOLE\n")
    try:
        connection = sdk(other.clouds_yaml)
        server = boot(connection, "console-less")
        answer = nova(other, connection, "POST", f"/servers/{server.id}/remote-consoles", "2.6",
                      json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
        assert answer.status_code == 501
        connection.close()
    finally:
        other.stop()
