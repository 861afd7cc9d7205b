"""Stratus's identity API with users from LDAP: a real slapd and `stratus api` over HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.api import identity_api


@pytest.fixture
def api(ldap_conf_file, broker_url):
    with open(ldap_conf_file, "a") as f:
        f.write(f"[api]\nport = 0\nworkers = 1\n[messaging]\ntransport_url = {broker_url}\n")
    with identity_api(ldap_conf_file, "ldap-admin-pw") as url:
        yield url


def token(api, name, password, scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": "default"}, "password": password}}}}}
    if scope:
        body["auth"]["scope"] = scope
    return requests.post(f"{api}/auth/tokens", json=body, timeout=30)


def test_ldap_users_authenticate_by_bind_and_get_roles_from_sql(api):
    admin = token(api, "admin", "ldap-admin-pw", {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert admin.status_code == 201, admin.text
    headers = {"X-Auth-Token": admin.headers["X-Subject-Token"]}
    assert token(api, "admin", "wrong").status_code == 401
    project = requests.post(f"{api}/projects", json={"project": {"name": "ldap-proj"}}, headers=headers,
                            timeout=30).json()["project"]
    roles = {r["name"]: r["id"] for r in requests.get(f"{api}/roles", headers=headers, timeout=30).json()["roles"]}
    grant = requests.put(f"{api}/projects/{project['id']}/users/conformance-alice/roles/{roles['member']}",
                         headers=headers, timeout=30)
    assert grant.status_code == 204
    alice = token(api, "conformance-alice", "alice-secret-1", {"project": {"id": project["id"]}})
    assert alice.status_code == 201
    assert {r["name"] for r in alice.json()["token"]["roles"]} == {"member", "reader"}
    assert token(api, "conformance-bob", "bob-secret-2").status_code == 401  # disabled in the directory
    users = requests.get(f"{api}/users", headers=headers, timeout=30).json()["users"]
    assert {"admin", "conformance-alice", "conformance-bob"} <= {u["name"] for u in users}
    groups = requests.get(f"{api}/users/conformance-alice/groups", headers=headers, timeout=30).json()["groups"]
    assert [g["name"] for g in groups] == ["conformance-devs"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/users", {"user": {"name": "new"}}),
    ("patch", "/users/conformance-alice", {"user": {"email": "x@example.org"}}),
    ("delete", "/users/conformance-carol", None),
    ("post", "/groups", {"group": {"name": "g"}}),
    ("put", "/groups/conformance-devs/users/conformance-carol", None),
])
def test_writes_to_the_directory_are_refused_with_403(api, method, path, body):
    admin = token(api, "admin", "ldap-admin-pw", {"project": {"name": "admin", "domain": {"id": "default"}}})
    response = requests.request(method, f"{api}{path}", json=body,
                                headers={"X-Auth-Token": admin.headers["X-Subject-Token"]}, timeout=30)
    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert "'ldap' backend" in message and "read-only" in message
