"""What only a real server shows: gunicorn workers, chunked bodies, limits on streams."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

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


def test_stratus_api_serves_the_composite_app_with_workers(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nworkers = 2\nport = 0\n")
    missing = run("--config-file", str(conf), "api")
    assert missing.returncode == 2 and "has no keys; run `stratus manage token-keys setup`" in missing.stderr
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync")):
        assert run("--config-file", str(conf), *command).returncode == 0
    server = Server("--config-file", str(conf), "api", env=env_with(ROOT))
    try:
        assert "with 2 workers" in server.text
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
