"""`stratus up`, driven over HTTP by keystoneauth and openstacksdk as users run them."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time

import jsonschema
import openstack
import pytest
import requests
import yaml
from keystoneauth1 import discover, session

from stratus.compute.api import microversions
from tests.functional.servers import Server, run


def test_banner_lists_every_endpoint_and_the_data_dir(cloud):
    banner = cloud.text
    for path in ("/identity/v3", "/compute/v2.1", "/image", "/volume/v3", "/network", "/object-store/v1"):
        assert f"{cloud.base_url}{path}" in banner
    assert str(cloud.data_dir) in banner
    assert (cloud.data_dir / "stratus.sqlite").exists()
    assert f"export OS_CLIENT_CONFIG_FILE={cloud.clouds_yaml}" in banner
    assert oct((cloud.data_dir / "clouds.yaml").stat().st_mode & 0o777) == "0o600"


def test_keystoneauth_discovers_identity_v3(cloud):
    sess = session.Session()
    for auth_url in (f"{cloud.base_url}/identity", f"{cloud.base_url}/identity/v3"):
        data = discover.Discover(sess, auth_url).version_data()
        assert data[0]["version"] == (3, 14)
        assert data[0]["url"] == f"{cloud.base_url}/identity/v3/"


def test_keystone_root_answers_300_like_keystone(cloud):
    response = requests.get(f"{cloud.base_url}/identity", timeout=10)
    assert response.status_code == 300
    assert response.json()["versions"]["values"][0]["links"][0]["href"] == f"{cloud.base_url}/identity/v3/"


def test_openstacksdk_discovers_compute_microversions_and_the_image_api(cloud):
    conn = openstack.connect(
        auth_type="none",
        compute_endpoint_override=f"{cloud.base_url}/compute/v2.1",
        image_endpoint_override=f"{cloud.base_url}/image",
        block_storage_endpoint_override=f"{cloud.base_url}/volume/v3",
    )
    compute = conn.compute.get_endpoint_data()
    assert compute.min_microversion == (2, 1)
    assert compute.max_microversion == (microversions.MAX.major, microversions.MAX.minor)
    assert conn.image.get_endpoint_data().api_version == (2, 17)  # the CURRENT one of Glance's list
    assert conn.image.get_endpoint().rstrip("/") == f"{cloud.base_url}/image/v2"
    assert conn.block_storage.get_endpoint_data().max_microversion == (3, 44)


@pytest.mark.parametrize(("service", "paths"), [
    ("identity", ["/", "/v3"]),
    ("compute", ["/", "/v2.1"]),
    ("image", ["/", "/v2"]),
    ("volume", ["/", "/v3"]),
    ("network", ["/"]),
    ("object-store", ["/", "/info"]),
])
def test_responses_match_each_service_openapi_document(cloud, service, paths):
    spec = requests.get(f"{cloud.base_url}/{service}/openapi.json", timeout=10).json()
    assert spec["openapi"] == "3.1.0"
    for path in paths:
        response = requests.get(f"{cloud.base_url}/{service}{path if path != '/' else ''}", timeout=10)
        operation = spec["paths"][path]["get"]
        schema = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
        jsonschema.validate(response.json(), schema)
        # Swift's clients expect its transaction ids (tx…) where other services send req-<uuid>
        assert response.headers["x-openstack-request-id"].startswith("tx" if service == "object-store" else "req-")


def test_errors_use_each_service_style(cloud):
    compute = requests.get(f"{cloud.base_url}/compute/v2.1/no-such-resources", timeout=10)
    assert compute.status_code == 404 and "itemNotFound" in compute.json()
    network = requests.get(f"{cloud.base_url}/network/v2.0/no-such-resources", timeout=10)
    assert network.status_code == 404 and network.json()["NeutronError"]["type"] == "HTTPNotFound"
    nothing = requests.get(f"{cloud.base_url}/nothing", timeout=10)
    assert nothing.status_code == 404 and nothing.json()["error"]["code"] == 404
    method = requests.put(f"{cloud.base_url}/identity/v3", data=b"{}", timeout=10)
    assert method.status_code == 405 and method.json()["error"]["code"] == 405


def port_closed(url):
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return False
    except OSError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signals(tmp_path, sig):
    server = Server("up", "--port", "0", "--data-dir", str(tmp_path))
    assert requests.get(f"{server.base_url}/healthcheck", timeout=10).json() == {"status": "ok"}
    assert server.stop(sig) == 0
    deadline = time.monotonic() + 10
    while not port_closed(server.base_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert port_closed(server.base_url)
    leftover = subprocess.run(["pgrep", "-f", f"--data-dir {tmp_path}"], capture_output=True, text=True)
    assert leftover.stdout == ""


def test_a_second_start_on_the_same_data_dir_keeps_its_state(tmp_path):
    first = Server("up", "--port", "0", "--data-dir", str(tmp_path))
    first.stop()
    second = Server("up", "--port", "0", "--data-dir", str(tmp_path))
    try:
        assert requests.get(f"{second.base_url}/compute", timeout=10).status_code == 200
    finally:
        second.stop()


def test_a_port_in_use_is_reported_at_once(cloud, tmp_path):
    port = cloud.base_url.rsplit(":", 1)[1]
    result = run("up", "--port", port, "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use); choose another with --host/--port" in (
        result.stderr)


def test_a_plugin_that_cannot_load_stops_up_with_a_message(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text("[plugins]\nenabled = audit\n")
    result = run("--config-file", str(conf), "up", "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "[plugins] names plugins that are not installed: audit; installed: log-notifier" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_stops_up_with_a_message(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text("[api]\nthreads = 0\n")
    result = run("--config-file", str(conf), "up", "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert f"[api] threads (set in {conf}): Should be greater than or equal to 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_default_external_network_gives_floating_ips(cloud, conn):
    public = conn.network.find_network("public", ignore_missing=False)
    assert public.is_router_external and not public.is_shared
    (subnet,) = [conn.network.get_subnet(s) for s in public.subnet_ids]
    assert (subnet.cidr, subnet.is_dhcp_enabled) == ("172.24.4.0/24", False)
    assert "external network public (172.24.4.0/24" in cloud.text
    assert "openstack --os-cloud stratus floating ip create public" in cloud.text
    fip = conn.network.create_ip(floating_network_id=public.id)
    try:
        assert fip.floating_ip_address.startswith("172.24.4.")
    finally:
        conn.network.delete_ip(fip)


def test_the_catalog_follows_the_public_endpoint_and_the_networks_are_configurable(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text("[api]\npublic_endpoint = https://cloud.example.com:8443/\n"
                    "[embedded]\npublic_network_cidr =\nprivate_network_cidr = 10.42.0.0/24\n")
    server = Server("--config-file", str(conf), "up", "--port", "0", "--data-dir", str(tmp_path))
    try:
        assert server.wait_for(re.compile("token issue"), 60), server.text
        assert "https://cloud.example.com:8443/compute/v2.1" in server.text
        assert "floating ip create" not in server.text and "network private (10.42.0.0/24" in server.text
        clouds = yaml.safe_load((tmp_path / "clouds.yaml").read_text())
        password = clouds["clouds"]["stratus"]["auth"]["password"]
        assert clouds["clouds"]["stratus"]["auth"]["auth_url"] == "https://cloud.example.com:8443/identity"
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        token = requests.post(f"{server.base_url}/identity/v3/auth/tokens", json=body, timeout=30).json()["token"]
        urls = {e["url"] for service in token["catalog"] for e in service["endpoints"]}
        assert urls and all(url.startswith("https://cloud.example.com:8443/") for url in urls), urls
        networks = requests.get(f"{server.base_url}/network/v2.0/networks", timeout=30, headers={
            "X-Auth-Token": requests.post(f"{server.base_url}/identity/v3/auth/tokens", json=body, timeout=30)
            .headers["X-Subject-Token"]}).json()["networks"]
        assert [n["name"] for n in networks] == ["private"]
    finally:
        assert server.stop() == 0


def test_a_bad_network_cidr_stops_up_with_a_message(tmp_path):
    conf = tmp_path / "stratus.conf"
    conf.write_text("[embedded]\npublic_network_cidr = 172.24.4.0/33\n")
    result = run("--config-file", str(conf), "up", "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[embedded] public_network_cidr: " in result.stderr
