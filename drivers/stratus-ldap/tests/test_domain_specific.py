"""A domain whose users and groups come from LDAP while the rest of the cloud keeps SQL
(domain-specific configuration through /v3/domains/{id}/config), against a real slapd."""

from __future__ import annotations

import re

import pytest
import requests

from tests import slapd as slapd_fixture
from tests.api import identity_api


@pytest.fixture
def sql_api(slapd, tmp_path, broker_url):
    conf = tmp_path / "sql.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n[api]\nport = 0\nworkers = 1\n"
                    f"[messaging]\ntransport_url = {broker_url}\n")
    with identity_api(str(conf), "sql-admin-pw") as url:
        yield url


def login(api, name, password, domain, scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": domain}, "password": password}}}}}
    if scope:
        body["auth"]["scope"] = scope
    return requests.post(f"{api}/auth/tokens", json=body, timeout=30)


def test_a_domain_on_ldap_beside_sql_users(sql_api, slapd):
    api = sql_api
    admin = login(api, "admin", "sql-admin-pw", "default", {"project": {"name": "admin", "domain": {"id": "default"}}})
    headers = {"X-Auth-Token": admin.headers["X-Subject-Token"]}
    domain = requests.post(f"{api}/domains", json={"domain": {"name": "corp"}}, headers=headers,
                           timeout=30).json()["domain"]
    config = {"identity": {"driver": "ldap"}, "ldap": {
        "url": slapd.url, "user": slapd_fixture.ADMIN_DN, "password": slapd_fixture.ADMIN_PASSWORD,
        "suffix": slapd_fixture.SUFFIX, "user_tree_dn": f"ou=people,{slapd_fixture.SUFFIX}",
        "group_tree_dn": f"ou=groups,{slapd_fixture.SUFFIX}", "user_enabled_attribute": "employeeType"}}
    made = requests.put(f"{api}/domains/{domain['id']}/config", json={"config": config}, headers=headers, timeout=30)
    assert made.status_code == 201
    assert "password" not in made.json()["config"]["ldap"]  # sensitive: stored, never shown
    users = requests.get(f"{api}/users", params={"domain_id": domain["id"]}, headers=headers,
                         timeout=30).json()["users"]
    by_name = {u["name"]: u for u in users}
    assert {"conformance-alice", "conformance-bob"} <= set(by_name)
    alice = by_name["conformance-alice"]
    assert alice["domain_id"] == domain["id"] and re.fullmatch(r"[0-9a-f]{64}", alice["id"])  # a public id
    assert requests.get(f"{api}/users/{alice['id']}", headers=headers, timeout=30).json()["user"]["name"] == \
        "conformance-alice"
    default_users = requests.get(f"{api}/users", params={"domain_id": "default"}, headers=headers,
                                 timeout=30).json()["users"]
    assert [u["name"] for u in default_users] == ["admin"]  # the default domain stays on SQL
    project = requests.post(f"{api}/projects", json={"project": {"name": "corp-proj", "domain_id": domain["id"]}},
                            headers=headers, timeout=30).json()["project"]
    roles = {r["name"]: r["id"] for r in requests.get(f"{api}/roles", headers=headers, timeout=30).json()["roles"]}
    assert requests.put(f"{api}/projects/{project['id']}/users/{alice['id']}/roles/{roles['member']}",
                        headers=headers, timeout=30).status_code == 204
    token = login(api, "conformance-alice", "alice-secret-1", domain["id"], {"project": {"id": project["id"]}})
    assert token.status_code == 201, token.text
    assert token.json()["token"]["user"]["id"] == alice["id"]
    assert login(api, "conformance-alice", "wrong", domain["id"]).status_code == 401
    assert login(api, "conformance-bob", "bob-secret-2", domain["id"]).status_code == 401  # disabled there
    groups = requests.get(f"{api}/users/{alice['id']}/groups", headers=headers, timeout=30).json()["groups"]
    assert [g["name"] for g in groups] == ["conformance-devs"]
    members = requests.get(f"{api}/groups/{groups[0]['id']}/users", headers=headers, timeout=30).json()["users"]
    assert alice["id"] in {m["id"] for m in members}
    refused = requests.post(f"{api}/users", json={"user": {"name": "new", "domain_id": domain["id"]}},
                            headers=headers, timeout=30)
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
    assert requests.post(f"{api}/users", json={"user": {"name": "sql-user", "domain_id": "default"}},
                         headers=headers, timeout=30).status_code == 201
    assert requests.delete(f"{api}/domains/{domain['id']}/config", headers=headers, timeout=30).status_code == 204
    assert requests.get(f"{api}/users", params={"domain_id": domain["id"]}, headers=headers,
                        timeout=30).json()["users"] == []  # back on SQL, which has nobody there


def test_a_domain_may_set_every_ldap_option_but_the_domain_itself():
    from stratus_ldap.opts import opts

    from stratus.identity.domain_config import SENSITIVE, WHITELISTED

    declared = {opt.dest for opt in opts}
    settable = set(WHITELISTED["ldap"]) | set(SENSITIVE["ldap"])
    assert settable == declared - {"domain_id"}
    assert {opt.dest for opt in opts if opt.secret} == set(SENSITIVE["ldap"])
