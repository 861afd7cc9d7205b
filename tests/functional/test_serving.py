"""What only a real server shows: gunicorn workers, chunked bodies, limits on streams."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.functional.servers import URL, Server, env_with, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def widget():
    process = subprocess.Popen([sys.executable, "-m", "tests.functional.widget_server", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    match = URL.search(line)
    assert match, line + process.stdout.read()
    yield match.group(0)
    process.terminate()
    process.wait(30)
    process.stdout.close()


def chunks(data, size=1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_chunked_json_body_is_read(widget):
    body = b'{"name": "' + b"x" * 500 + b'"}'
    response = requests.post(f"{widget}/echo", data=chunks(body, 100), timeout=30)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200 and response.json() == {"received": {"name": "x" * 500}}


def test_chunked_body_over_the_limit_gets_413(widget):
    body = b'{"name": "' + b"x" * 5000 + b'"}'
    response = requests.post(f"{widget}/echo", data=chunks(body), timeout=30)
    assert response.status_code == 413
    assert "more than 1024 bytes" in response.json()["overLimit"]["message"]


def test_large_chunked_upload_streams_through(widget):
    data = os.urandom(8 * 1024 * 1024)
    response = requests.put(f"{widget}/upload", data=chunks(data, 256 * 1024), timeout=120)
    assert response.json() == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_stratus_api_refuses_the_in_process_transport(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nport = 0\n")
    refused = run("--config-file", str(conf), "api")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "`stratus api` reaches the conductor, scheduler and compute hosts over a broker: set [messaging] " \
           "transport_url" in refused.stderr


@pytest.mark.rabbitmq
def test_stratus_api_serves_the_composite_app_with_workers(tmp_path, rabbit_url):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nworkers = 2\nport = 0\n"
                    f"[messaging]\ntransport_url = {rabbit_url}\n")
    missing = run("--config-file", str(conf), "api")
    assert missing.returncode == 2 and "has no keys; run `stratus manage token-keys setup`" in missing.stderr
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", "http://bootstrap-time.example")):
        assert run("--config-file", str(conf), *command).returncode == 0
    server = Server("--config-file", str(conf), "api", env=env_with(ROOT))
    try:
        assert "with 2 workers" in server.text
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "pw"}}}, "scope": {"system": {"all": True}}}}
        token = requests.post(f"{server.base_url}/identity/v3/auth/tokens", json=body, timeout=30).json()["token"]
        urls = {e["url"] for service in token["catalog"] for e in service["endpoints"]}
        assert urls and all(url.startswith(f"{server.base_url}/") for url in urls), urls  # the address served on
        for _ in range(10):
            assert requests.get(f"{server.base_url}/compute/v2.1", timeout=10).json()["version"]["id"] == "v2.1"
        assert requests.get(f"{server.base_url}/identity", timeout=10).status_code == 300
    finally:
        assert server.stop() == 0


def test_wsgi_module_builds_the_composite_and_single_service_apps(tmp_path, monkeypatch):
    from falcon import testing

    from stratus import wsgi

    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n")
    monkeypatch.setenv("STRATUS_CONFIG_FILES", str(conf))
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync")):
        assert run("--config-file", str(conf), *command).returncode == 0
    composite = testing.TestClient(wsgi.create_app())
    assert composite.simulate_get("/image").status_code == 300
    image = testing.TestClient(wsgi.create_app("image"))
    assert image.simulate_get("/").json["versions"][0]["id"].startswith("v2")
    with pytest.raises(ValueError, match="no service named 'glance'; Stratus serves: compute, identity"):
        wsgi.create_app("glance")


def two_workers(tmp_path, rabbit_url: str, extra: str) -> Server:
    """``stratus api`` with two gunicorn workers on RabbitMQ, bootstrapped (admin/pw), ``extra``
    added to its configuration."""
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nworkers = 2\nport = 0\n"
                    f"[messaging]\ntransport_url = {rabbit_url}\n{extra}")
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", "pw", "--public-url", "http://127.0.0.1")):
        assert run("--config-file", str(conf), *command).returncode == 0
    return Server("--config-file", str(conf), "api", env=env_with(ROOT))


@pytest.mark.rabbitmq
def test_a_revocation_through_one_worker_applies_in_every_worker(tmp_path, rabbit_url):
    # only the fanout can spread the revocation
    server = two_workers(tmp_path, rabbit_url, "[token]\nrevocation_cache_time = 3600\n")
    try:
        tokens_url = f"{server.base_url}/identity/v3/auth/tokens"
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "pw"}}}, "scope": {"system": {"all": True}}}}
        caller = requests.post(tokens_url, json=body, timeout=30).headers["X-Subject-Token"]
        subject = requests.post(tokens_url, json=body, timeout=30).headers["X-Subject-Token"]
        catalog = f"{server.base_url}/identity/v3/auth/catalog"

        def status() -> int:
            with requests.Session() as fresh:  # a new connection may land on either worker
                return fresh.get(catalog, headers={"X-Auth-Token": subject}, timeout=30).status_code

        for _ in range(40):  # every worker validates the token and caches the revocation list
            with requests.Session() as fresh:  # a new connection may land on either worker
                response = fresh.get(catalog, headers={"X-Auth-Token": subject}, timeout=30)
                assert response.status_code == 200
        revoke = requests.delete(tokens_url, headers={"X-Auth-Token": caller, "X-Subject-Token": subject},
                                 timeout=30)
        assert revoke.status_code == 204
        # the notice reaches the other worker asynchronously (milliseconds); without it that
        # worker would accept the token for the whole hour its revocation cache lasts
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and {status() for _ in range(10)} != {401}:
            time.sleep(0.05)
        assert {status() for _ in range(40)} == {401}
    finally:
        assert server.stop() == 0


@pytest.mark.rabbitmq
def test_an_identity_change_through_one_worker_shows_in_every_worker(tmp_path, rabbit_url):
    server = two_workers(tmp_path, rabbit_url, "[identity]\ncache_time = 3600\n")  # only the fanout spreads it
    try:
        tokens_url = f"{server.base_url}/identity/v3/auth/tokens"
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "pw"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        issued = requests.post(tokens_url, json=body, timeout=30)
        token, project_id = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}

        def names() -> set[str]:
            found = set()
            for _ in range(10):
                with requests.Session() as fresh:  # a new connection may land on either worker
                    found.add(fresh.get(tokens_url, headers=headers, timeout=30).json()["token"]["project"]["name"])
            return found

        assert names() | names() | names() | names() == {"admin"}  # both workers keep the document
        renamed = requests.patch(f"{server.base_url}/identity/v3/projects/{project_id}",
                                 json={"project": {"name": "renamed"}}, headers={"X-Auth-Token": token}, timeout=30)
        assert renamed.status_code == 200
        deadline = time.monotonic() + 30  # the notice reaches the other worker asynchronously
        while time.monotonic() < deadline and names() != {"renamed"}:
            time.sleep(0.05)
        assert names() | names() | names() | names() == {"renamed"}
    finally:
        assert server.stop() == 0


@pytest.mark.rabbitmq
def test_the_workers_of_a_killed_master_exit(tmp_path, rabbit_url):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nworkers = 2\nport = 0\n"
                    f"[messaging]\ntransport_url = {rabbit_url}\n")
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync")):
        assert run("--config-file", str(conf), *command).returncode == 0
    server = Server("--config-file", str(conf), "api", env=env_with(ROOT))
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:  # "serving" comes as the first one forks
            time.sleep(0.1)
            workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(server.process.pid)],
                                                       capture_output=True, text=True).stdout.split()]
        assert len(workers) == 2, server.text
        server.process.send_signal(signal.SIGKILL)
        server.stop()
        deadline = time.monotonic() + 30
        while [pid for pid in workers if running(pid)] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if running(pid)], "workers outlived their master"
    finally:  # nothing outlives the test, whatever it found
        server.stop()
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def running(pid: int) -> bool:
    """Whether ``pid`` runs (an exited worker may stay a zombie of whoever adopted it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
