"""Identity behaviour real clients trip on (the conformance issue), as users drive it:
application credentials from openstackclient, access rules, what deleting a credential
revokes, changing one's own password, Keystone's extra attributes and regions."""

from __future__ import annotations

import json

import pytest
import requests

from tests.functional.accounts import member_of_new_project
from tests.functional.servers import openstack


def call(cloud, token, method, path, **kwargs):
    return requests.request(method, f"{cloud.base_url}{path}", headers={"X-Auth-Token": token}, timeout=30, **kwargs)


def app_cred_token(cloud, credential_id, secret):
    answer = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", timeout=30, json={"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": credential_id, "secret": secret}}}})
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"], answer.json()["token"]


@pytest.fixture(scope="module")
def member(conn):
    _, connection = member_of_new_project(conn, "credential-owner")
    yield connection
    connection.close()


def test_openstackclient_creates_an_application_credential_that_authenticates(cloud, conn):
    made = {k.lower(): v for k, v in json.loads(openstack(cloud.clouds_yaml, "application", "credential", "create",
                                                          "from-osc", "-f", "json")).items()}
    token, body = app_cred_token(cloud, made["id"], made["secret"])
    assert body["application_credential"]["id"] == made["id"] and "access_rules" not in body["application_credential"]
    assert call(cloud, token, "GET", "/compute/v2.1/flavors").status_code == 200
    openstack(cloud.clouds_yaml, "application", "credential", "delete", made["id"])


def test_deleting_a_credential_revokes_only_the_tokens_made_from_it(cloud, member):
    user = member.current_user_id
    own = member.session.get_token()
    made = [call(cloud, own, "POST", f"/identity/v3/users/{user}/application_credentials",
                 json={"application_credential": {"name": f"c{n}"}}).json()["application_credential"]
            for n in range(2)]
    tokens = [app_cred_token(cloud, c["id"], c["secret"])[0] for c in made]
    assert call(cloud, own, "DELETE", f"/identity/v3/users/{user}/application_credentials/{made[0]['id']}"
                ).status_code == 204
    assert call(cloud, tokens[0], "GET", "/compute/v2.1/flavors").status_code == 401
    assert call(cloud, tokens[1], "GET", "/compute/v2.1/flavors").status_code == 200
    assert call(cloud, own, "GET", "/compute/v2.1/flavors").status_code == 200  # the user's own token lives on


def test_access_rules_limit_what_a_credential_may_do(cloud, member):
    user = member.current_user_id
    own = member.session.get_token()
    rules = [{"service": "compute", "method": "GET", "path": "/v2.1/flavors/*"},
             {"service": "network", "method": "GET", "path": "/v2.0/**"}]
    made = call(cloud, own, "POST", f"/identity/v3/users/{user}/application_credentials",
                json={"application_credential": {"name": "limited", "access_rules": rules}})
    assert made.status_code == 201, made.text
    credential = made.json()["application_credential"]
    assert [{k: r[k] for k in ("service", "method", "path")} for r in credential["access_rules"]] == rules
    token, body = app_cred_token(cloud, credential["id"], credential["secret"])
    assert len(body["application_credential"]["access_rules"]) == 2
    assert call(cloud, token, "GET", "/compute/v2.1/flavors/1").status_code == 200
    assert call(cloud, token, "GET", "/compute/v2.1/flavors").status_code == 401  # * is one segment, at least
    assert call(cloud, token, "GET", "/compute/v2.1/servers").status_code == 401
    assert call(cloud, token, "GET", "/network/v2.0/networks").status_code == 200
    assert call(cloud, token, "POST", "/network/v2.0/networks", json={"network": {}}).status_code == 401
    assert requests.get(f"{cloud.base_url}/identity/v3/auth/tokens", timeout=30,
                        headers={"X-Auth-Token": token, "X-Subject-Token": token}).status_code == 200
    # the rules are the user's, listed, shown, and kept while a credential uses them
    listed = call(cloud, own, "GET", f"/identity/v3/users/{user}/access_rules").json()["access_rules"]
    assert len(listed) == 2
    rule_id = credential["access_rules"][0]["id"]
    assert call(cloud, own, "GET", f"/identity/v3/users/{user}/access_rules/{rule_id}").json()[
        "access_rule"]["path"] == "/v2.1/flavors/*"
    assert call(cloud, own, "DELETE", f"/identity/v3/users/{user}/access_rules/{rule_id}").status_code == 403
    again = call(cloud, own, "POST", f"/identity/v3/users/{user}/application_credentials",
                 json={"application_credential": {"name": "reuses", "access_rules": [{"id": rule_id}]}})
    assert again.json()["application_credential"]["access_rules"][0]["id"] == rule_id
    # access_rules [] (what openstackclient always sends) means no limit
    open_one = call(cloud, own, "POST", f"/identity/v3/users/{user}/application_credentials",
                    json={"application_credential": {"name": "open", "access_rules": []}}).json()
    open_token, _ = app_cred_token(cloud, open_one["application_credential"]["id"],
                                   open_one["application_credential"]["secret"])
    assert call(cloud, open_token, "GET", "/compute/v2.1/servers").status_code == 200
    for name in ("limited", "reuses"):
        found = call(cloud, own, "GET", f"/identity/v3/users/{user}/application_credentials?name={name}").json()
        call(cloud, own, "DELETE",
             f"/identity/v3/users/{user}/application_credentials/{found['application_credentials'][0]['id']}")
    assert call(cloud, own, "DELETE", f"/identity/v3/users/{user}/access_rules/{rule_id}").status_code == 204


def test_a_user_changes_their_own_password_without_a_token(cloud, conn):
    user = conn.identity.create_user(name="forgetful", password="old-secret-1", domain_id="default")
    url = f"{cloud.base_url}/identity/v3/users/{user.id}/password"
    wrong = requests.post(url, timeout=30, json={"user": {"password": "new-secret-2", "original_password": "nope"}})
    assert wrong.status_code == 401
    done = requests.post(url, timeout=30, json={"user": {"password": "new-secret-2",
                                                         "original_password": "old-secret-1"}})
    assert done.status_code == 204
    login = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", timeout=30, json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {"id": user.id, "password": "new-secret-2"}}}}})
    assert login.status_code == 201


def test_extra_attributes_regions_and_legacy_endpoint_regions(cloud, conn):
    token = conn.session.get_token()
    group = call(cloud, token, "POST", "/identity/v3/groups", json={"group": {"name": "g-extra", "colour": "blue"}})
    assert group.status_code == 201 and group.json()["group"]["colour"] == "blue"
    project = call(cloud, token, "POST", "/identity/v3/projects",
                   json={"project": {"name": "p-extra", "cost_centre": 42}}).json()["project"]
    assert call(cloud, token, "GET", f"/identity/v3/projects/{project['id']}").json()["project"]["cost_centre"] == 42
    missing = call(cloud, token, "POST", "/identity/v3/users",
                   json={"user": {"name": "nowhere", "domain_id": "no-such-domain"}})
    assert missing.status_code == 404
    made = call(cloud, token, "PUT", "/identity/v3/regions/east", json={"region": {"name": "East Coast"}})
    assert made.status_code == 201 and made.json()["region"]["name"] == "East Coast"
    assert call(cloud, token, "PUT", "/identity/v3/regions/east", json={"region": {}}).status_code == 409
    call(cloud, token, "PUT", "/identity/v3/regions/east-1", json={"region": {"parent_region_id": "east"}})
    loop = call(cloud, token, "PATCH", "/identity/v3/regions/east", json={"region": {"parent_region_id": "east-1"}})
    assert loop.status_code == 400
    own = call(cloud, token, "PATCH", "/identity/v3/regions/east", json={"region": {"parent_region_id": "east"}})
    assert own.status_code == 400
    service = conn.identity.create_service(type="metering", name="gnocchi")
    endpoint = call(cloud, token, "POST", "/identity/v3/endpoints", json={"endpoint": {
        "service_id": service.id, "interface": "public", "url": "http://metering.example", "region": "legacy-one"}})
    assert endpoint.status_code == 201 and endpoint.json()["endpoint"]["region_id"] == "legacy-one"
    assert call(cloud, token, "GET", "/identity/v3/regions/legacy-one").status_code == 200
    strict = call(cloud, token, "POST", "/identity/v3/endpoints", json={"endpoint": {
        "service_id": service.id, "interface": "public", "url": "http://metering.example", "region_id": "nowhere"}})
    assert strict.status_code == 400
