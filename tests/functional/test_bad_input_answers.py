"""Bad input the robustness issue found answered with a traceback or a wrong write: each now
gets a 4xx and changes nothing."""

from __future__ import annotations

import pytest
import requests

from tests.functional.test_compute_servers import boot

BIG = 2 ** 31


def call(cloud, conn, method, path, **kwargs):
    return requests.request(method, f"{cloud.base_url}{path}", timeout=30,
                            headers={"X-Auth-Token": conn.session.get_token()}, **kwargs)


@pytest.fixture(scope="module")
def server(conn):
    made = boot(conn, "bad-input-target", networks=[{"uuid": conn.network.find_network("private").id}])
    yield made
    conn.compute.delete_server(made)


def test_interface_paths_take_only_their_own_methods(cloud, conn, server):
    port = next(iter(conn.network.ports(device_id=server.id)))
    base = f"/compute/v2.1/servers/{server.id}/os-interface"
    assert call(cloud, conn, "POST", f"{base}/{port.id}", json={}).status_code == 405
    assert call(cloud, conn, "DELETE", base).status_code == 405
    assert call(cloud, conn, "GET", f"{base}/{port.id}").status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/compute/v2.1/os-quota-sets/{project}/defaults"),
    ("DELETE", "/compute/v2.1/os-quota-sets/{project}/detail"),
    ("POST", "/compute/v2.1/servers/detail"),
    ("POST", "/compute/v2.1/flavors/detail"),
    ("PUT", "/network/v2.0/quotas/{project}/default"),
    ("DELETE", "/network/v2.0/quotas/{project}/details"),
])
def test_sub_paths_refuse_their_parents_methods(cloud, conn, method, path):
    project = conn.current_project_id
    before = call(cloud, conn, "GET", f"/compute/v2.1/os-quota-sets/{project}").json()["quota_set"]
    answer = call(cloud, conn, method, path.format(project=project), json={"quota_set": {"instances": 3},
                                                                             "quota": {"network": 3}})
    assert answer.status_code == 405
    assert call(cloud, conn, "GET", f"/compute/v2.1/os-quota-sets/{project}").json()["quota_set"] == before


def test_quotas_past_a_32_bit_integer_are_400(cloud, conn):
    project = conn.current_project_id
    for path, body, field in ((f"/compute/v2.1/os-quota-sets/{project}", {"quota_set": {"instances": BIG}},
                               "instances"),
                              (f"/compute/v2.1/os-quota-sets/{project}", {"quota_set": {"cores": str(BIG)}}, "cores"),
                              ("/compute/v2.1/os-quota-class-sets/default", {"quota_class_set": {"ram": BIG}}, "ram"),
                              (f"/network/v2.0/quotas/{project}", {"quota": {"network": BIG}}, "network")):
        answer = call(cloud, conn, "PUT", path, json=body)
        assert answer.status_code == 400 and field in answer.text, (path, answer.text)
    assert call(cloud, conn, "PUT", f"/compute/v2.1/os-quota-sets/{project}",
                json={"quota_set": {"instances": BIG - 1}}).status_code == 200


def test_a_router_gateway_without_a_network_is_400(cloud, conn):
    made = call(cloud, conn, "POST", "/network/v2.0/routers", json={"router": {
        "name": "no-gw-net", "external_gateway_info": {"enable_snat": True}}})
    assert made.status_code == 400 and "network_id" in made.text
    assert not list(conn.network.routers(name="no-gw-net"))
    router = conn.network.create_router(name="gw-later")
    update = call(cloud, conn, "PUT", f"/network/v2.0/routers/{router.id}", json={"router": {
        "external_gateway_info": {"external_fixed_ips": []}}})
    assert update.status_code == 400 and "network_id" in update.text
    conn.network.delete_router(router)


def test_a_region_parent_may_not_be_empty(cloud, conn):
    answer = call(cloud, conn, "PATCH", "/identity/v3/regions/RegionOne", json={"region": {"parent_region_id": ""}})
    assert answer.status_code == 400 and "parent_region_id" in answer.text
    assert call(cloud, conn, "GET", "/identity/v3/regions/RegionOne").json()["region"]["parent_region_id"] is None


def test_a_non_ascii_digit_hypervisor_id_is_404(cloud, conn):
    assert call(cloud, conn, "GET", "/compute/v2.1/os-hypervisors/\u0663").status_code == 404


@pytest.mark.parametrize("path", ["/os-networks/", "/os-tenant-networks/", "/images/"])
def test_ids_beyond_latin_1_through_nova_proxies_are_404(cloud, conn, path):
    """Nova's proxies to the network and image APIs pass such ids on (schemathesis found a 500)."""
    answer = call(cloud, conn, "GET", f"/compute/v2.1{path}%F2%AE%B1%B0é")
    assert answer.status_code == 404 and "itemNotFound" in answer.json(), answer.text


@pytest.mark.parametrize("size", [200_000, 3 << 20])
def test_a_413_leaves_a_pooled_connection_usable(cloud, conn, size):
    session = requests.Session()
    headers = {"X-Auth-Token": conn.session.get_token(), "Content-Type": "application/json"}
    body = b'{"server": {"name": "' + b"a" * size + b'"}}'
    refused = session.post(f"{cloud.base_url}/compute/v2.1/servers", data=body, headers=headers, timeout=30)
    assert refused.status_code == 413
    # the unread body was dropped (small) or the connection closed with a Connection: close
    assert session.get(f"{cloud.base_url}/compute/v2.1/flavors", headers=headers, timeout=30).status_code == 200
