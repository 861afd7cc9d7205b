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


def test_project_tags_from_openstackclient_filter_lists(cloud, conn):
    openstack(cloud.clouds_yaml, "project", "create", "tagged-a", "--tag", "gold", "--tag", "eu")
    openstack(cloud.clouds_yaml, "project", "create", "tagged-b", "--tag", "eu")
    def names(*args):
        return {p["Name"] for p in json.loads(openstack(cloud.clouds_yaml, "project", "list", "-f", "json", *args))}
    assert names("--tags", "gold,eu") == {"tagged-a"}
    assert names("--tags-any", "gold,eu") == {"tagged-a", "tagged-b"}
    assert "tagged-a" not in names("--not-tags", "gold")
    token = conn.session.get_token()
    project = conn.identity.find_project("tagged-b")
    base = f"/identity/v3/projects/{project.id}/tags"
    assert call(cloud, token, "PUT", f"{base}/silver").status_code == 201
    assert call(cloud, token, "GET", base).json()["tags"] == ["eu", "silver"]
    assert call(cloud, token, "PUT", f"{base}/with,comma").status_code == 400
    assert call(cloud, token, "DELETE", f"{base}/absent").status_code == 404
    assert call(cloud, token, "PUT", base, json={"tags": ["x"] * 81}).status_code == 400
    assert call(cloud, token, "GET", base).json()["tags"] == ["eu", "silver"]  # a refused replace kept the old


def test_a_project_acting_as_a_domain_is_a_domain(cloud, conn):
    token = conn.session.get_token()
    made = call(cloud, token, "POST", "/identity/v3/projects",
                json={"project": {"name": "as-domain", "is_domain": True, "domain_id": None}})
    assert made.status_code == 201, made.text
    project = made.json()["project"]
    assert project["is_domain"] is True and project["domain_id"] is None
    assert call(cloud, token, "GET", f"/identity/v3/domains/{project['id']}").json()["domain"]["name"] == "as-domain"
    inside = call(cloud, token, "POST", "/identity/v3/projects",
                  json={"project": {"name": "inner", "domain_id": project["id"]}})
    assert inside.status_code == 201 and inside.json()["project"]["parent_id"] == project["id"]


def test_implied_roles_reach_tokens_and_effective_assignments(cloud, conn):
    osc = lambda *args: openstack(cloud.clouds_yaml, *args)  # noqa: E731
    for name in ("operator", "viewer"):
        osc("role", "create", name)
    osc("implied", "role", "create", "operator", "--implied-role", "viewer")
    domain = conn.identity.find_domain("default")
    local = conn.identity.create_role(name="local-op", domain_id=domain.id)
    token = conn.session.get_token()
    viewer = conn.identity.find_role("viewer")
    assert call(cloud, token, "PUT", f"/identity/v3/roles/{local.id}/implies/{viewer.id}").status_code == 201
    assert call(cloud, token, "PUT", f"/identity/v3/roles/{viewer.id}/implies/{local.id}").status_code == 403
    admin_role = conn.identity.find_role("admin")
    assert call(cloud, token, "PUT", f"/identity/v3/roles/{viewer.id}/implies/{admin_role.id}").status_code == 403
    operator = conn.identity.find_role("operator")
    assert call(cloud, token, "PUT", f"/identity/v3/roles/{viewer.id}/implies/{operator.id}").status_code == 403
    project = conn.identity.create_project(name="implied-p", domain_id="default")
    user = conn.identity.create_user(name="implied-u", password="pw-implied-u", domain_id="default")
    conn.identity.assign_project_role_to_user(project, user, operator)
    other = conn.identity.create_user(name="implied-d", password="pw-implied-d", domain_id="default")
    conn.identity.assign_project_role_to_user(project, other, local)
    for who, expected in ((user, {"operator", "viewer"}), (other, {"viewer"})):
        login = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": who.id, "password": f"pw-{who.name}"}}},
            "scope": {"project": {"id": project.id}}}})
        assert {r["name"] for r in login.json()["token"]["roles"]} == expected
        effective = call(cloud, token, "GET", "/identity/v3/role_assignments", params={
            "effective": "", "user.id": who.id, "scope.project.id": project.id}).json()["role_assignments"]
        assert {conn.identity.get_role(a["role"]["id"]).name for a in effective} == expected
    implied_entry = [a for a in call(cloud, token, "GET", "/identity/v3/role_assignments", params={
        "effective": "", "user.id": user.id}).json()["role_assignments"] if a["role"]["id"] == viewer.id]
    assert implied_entry[0]["links"]["prior_role"].endswith(f"/v3/roles/{operator.id}")
    rules = json.loads(osc("implied", "role", "list", "-f", "json"))
    assert {(r["Prior Role Name"], r["Implied Role Name"]) for r in rules} >= {("operator", "viewer")}


def test_credentials_are_stored_encrypted_and_ec2_keys_work(cloud, conn):
    made = json.loads(openstack(cloud.clouds_yaml, "credential", "create", "admin", "top-secret-blob",
                                "--type", "totp", "-f", "json"))
    assert made["blob"] == "top-secret-blob"
    stored = list(cloud.data_dir.glob("*.sqlite*"))
    assert stored and not any(b"top-secret-blob" in path.read_bytes() for path in stored)
    ec2 = json.loads(openstack(cloud.clouds_yaml, "ec2", "credentials", "create", "-f", "json"))
    listed = json.loads(openstack(cloud.clouds_yaml, "ec2", "credentials", "list", "-f", "json"))
    assert ec2["access"] in {c["Access"] for c in listed}
    token = conn.session.get_token()
    bad = call(cloud, token, "POST", "/identity/v3/credentials", json={"credential": {
        "type": "ec2", "user_id": conn.current_user_id, "blob": "not json"}})
    assert bad.status_code == 400 and "blob" in bad.text
    openstack(cloud.clouds_yaml, "ec2", "credentials", "delete", ec2["access"])
    assert ec2["access"] not in {c["Access"] for c in json.loads(
        openstack(cloud.clouds_yaml, "ec2", "credentials", "list", "-f", "json"))}


def test_policy_documents_crud(cloud, conn):
    token = conn.session.get_token()
    made = call(cloud, token, "POST", "/identity/v3/policies",
                json={"policy": {"blob": '{"a": "rule:b"}', "type": "application/json"}})
    assert made.status_code == 201
    policy = made.json()["policy"]
    assert call(cloud, token, "PATCH", f"/identity/v3/policies/{policy['id']}",
                json={"policy": {"type": "text/plain"}}).json()["policy"]["type"] == "text/plain"
    assert call(cloud, token, "POST", "/identity/v3/policies", json={"policy": {"blob": "x"}}).status_code == 400
    assert call(cloud, token, "DELETE", f"/identity/v3/policies/{policy['id']}").status_code == 204
    assert call(cloud, token, "GET", f"/identity/v3/policies/{policy['id']}").status_code == 404


def test_endpoint_groups_and_ties_shape_a_projects_catalog(cloud, conn, tmp_path):
    osc = lambda *args: openstack(cloud.clouds_yaml, *args)  # noqa: E731
    project, member = member_of_new_project(conn, "filtered-catalog")
    def catalog_types():
        token = member.session.get_token()
        answer = call(cloud, token, "GET", "/identity/v3/auth/catalog").json()["catalog"]
        return {entry["type"]: {e["interface"] for e in entry["endpoints"]} for entry in answer}
    assert {"compute", "image", "network"} <= set(catalog_types())  # nothing tied: the whole catalog
    by_type = {service.type: service for service in conn.identity.services()}
    filters = tmp_path / "filters.json"  # openstackclient reads an endpoint group's filters from a file
    filters.write_text(json.dumps({"interface": "public", "service_id": by_type["compute"].id}))
    group = json.loads(osc("endpoint", "group", "create", "public-compute", str(filters), "-f", "json"))
    osc("endpoint", "group", "add", "project", "public-compute", project.id)
    member.session.invalidate()
    assert catalog_types() == {"compute": {"public"}}
    internal = conn.identity.create_endpoint(service_id=by_type["image"].id,
                                             interface="internal", url="http://images.internal/v2")
    osc("endpoint", "add", "project", internal.id, project.id)
    member.session.invalidate()
    assert catalog_types() == {"compute": {"public"}, "image": {"internal"}}
    token = conn.session.get_token()
    tied = call(cloud, token, "GET", f"/identity/v3/OS-EP-FILTER/projects/{project.id}/endpoints").json()
    assert internal.id in {e["id"] for e in tied["endpoints"]}
    bad = call(cloud, token, "POST", "/identity/v3/OS-EP-FILTER/endpoint_groups", json={"endpoint_group": {
        "name": "bad", "filters": {"url": "http://x"}}})
    assert bad.status_code == 400 and "url" in bad.text
    conn.identity.delete_endpoint(internal)  # its tie goes with it
    member.session.invalidate()
    assert catalog_types() == {"compute": {"public"}}
    osc("endpoint", "group", "delete", group["id"])
    member.session.invalidate()
    assert {"compute", "image", "network"} <= set(catalog_types())


def test_unified_limits_through_openstackclient(cloud, conn):
    osc = lambda *args: json.loads(openstack(cloud.clouds_yaml, *args, "-f", "json"))  # noqa: E731
    registered = osc("registered", "limit", "create", "--service", "compute", "--default-limit", "10",
                     "--region", "RegionOne", "servers")
    assert registered["default_limit"] == 10 and registered["region_id"] == "RegionOne"
    project, member = member_of_new_project(conn, "limited")
    limit = osc("limit", "create", "--project", project.id, "--service", "compute", "--resource-limit", "5",
                "--region", "RegionOne", "servers")
    assert limit["resource_limit"] == 5 and limit["project_id"] == project.id
    token = conn.session.get_token()
    again = call(cloud, token, "POST", "/identity/v3/limits", json={"limits": [{
        "project_id": project.id, "service_id": registered["service_id"], "region_id": "RegionOne",
        "resource_name": "servers", "resource_limit": 6}]})
    assert again.status_code == 409
    unregistered = call(cloud, token, "POST", "/identity/v3/limits", json={"limits": [{
        "project_id": project.id, "service_id": registered["service_id"], "resource_name": "cores",
        "resource_limit": 6}]})
    assert unregistered.status_code == 403
    held = call(cloud, token, "DELETE", f"/identity/v3/registered_limits/{registered['id']}")
    assert held.status_code == 403  # a project limit refers to it
    own = call(cloud, member.session.get_token(), "GET", "/identity/v3/limits").json()["limits"]
    assert [entry["id"] for entry in own] == [limit["id"]]
    others = member_of_new_project(conn, "unlimited")[1]
    assert call(cloud, others.session.get_token(), "GET", "/identity/v3/limits").json()["limits"] == []
    assert call(cloud, others.session.get_token(), "GET", f"/identity/v3/limits/{limit['id']}").status_code == 403
    assert call(cloud, token, "GET", "/identity/v3/limits/model").json()["model"]["name"] == "flat"
    updated = call(cloud, token, "PATCH", f"/identity/v3/limits/{limit['id']}", json={"limit": {"resource_limit": 7}})
    assert updated.json()["limit"]["resource_limit"] == 7
    conn.identity.delete_project(project)
    assert call(cloud, token, "GET", f"/identity/v3/limits/{limit['id']}").status_code == 404
    assert call(cloud, token, "DELETE", f"/identity/v3/registered_limits/{registered['id']}").status_code == 204


def test_domain_configuration_api_and_a_broken_backend_confined_to_its_domain(cloud, conn):
    token = conn.session.get_token()
    domain = conn.identity.create_domain(name="configured")
    base = f"/identity/v3/domains/{domain.id}/config"
    config = {"identity": {"driver": "no-such-driver"}, "ldap": {"url": "ldap://nowhere.example:389",
                                                                 "password": "s3cret"}}
    made = call(cloud, token, "PUT", base, json={"config": config})
    assert made.status_code == 201 and made.json()["config"] == {
        "identity": {"driver": "no-such-driver"}, "ldap": {"url": "ldap://nowhere.example:389"}}
    assert call(cloud, token, "PUT", base, json={"config": config}).status_code == 200  # replaced
    assert call(cloud, token, "GET", f"{base}/ldap/password").status_code == 404  # sensitive: never shown
    bad_group = call(cloud, token, "PATCH", base, json={"config": {"database": {"connection": "x"}}})
    assert bad_group.status_code == 403 and "database" in bad_group.text
    bad_option = call(cloud, token, "PATCH", f"{base}/identity", json={"config": {"identity": {"admin": "x"}}})
    assert bad_option.status_code == 403 and "admin" in bad_option.text
    limit = call(cloud, token, "PATCH", f"{base}/identity/list_limit", json={"config": {"list_limit": 5}})
    assert limit.status_code == 404  # not set yet: a whole-config PATCH adds it
    assert call(cloud, token, "PATCH", base, json={"config": {"identity": {"list_limit": 5}}}).json()[
        "config"]["identity"] == {"driver": "no-such-driver", "list_limit": 5}
    broken = call(cloud, token, "GET", "/identity/v3/users", params={"domain_id": domain.id})
    assert broken.status_code == 503 and "no-such-driver" in broken.text
    assert call(cloud, token, "GET", "/identity/v3/users", params={"domain_id": "default"}).status_code == 200
    defaults = call(cloud, token, "GET", "/identity/v3/domains/config/identity/default").json()["config"]
    assert defaults == {"identity": {"driver": "sql", "list_limit": 1000}}
    assert call(cloud, token, "GET", "/identity/v3/domains/config/ldap/password/default").status_code == 403
    assert call(cloud, token, "DELETE", f"{base}/identity/driver").status_code == 204
    assert call(cloud, token, "GET", "/identity/v3/users", params={"domain_id": domain.id}).status_code == 200
    assert call(cloud, token, "DELETE", base).status_code == 204
    assert call(cloud, token, "GET", base).status_code == 404
