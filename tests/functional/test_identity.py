"""Identity over HTTP, as openstacksdk, keystoneauth and the openstack CLI use it."""

from __future__ import annotations

import json
import subprocess
import sys

import openstack
import openstack.config
import openstack.connection
import pytest
import requests
import yaml
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from stratus.compute.api import microversions
from stratus.identity.keys import KeyRepository
from stratus.identity.revocation import RevocationList
from stratus.identity.tokens import TokenProvider


@pytest.fixture(scope="module")
def admin(cloud):
    with open(cloud.clouds_yaml) as f:
        return yaml.safe_load(f)["clouds"]["stratus"]["auth"]


@pytest.fixture
def conn(cloud):
    config = openstack.config.OpenStackConfig(config_files=[cloud.clouds_yaml])
    connection = openstack.connection.Connection(config=config.get_one("stratus"))
    yield connection
    connection.close()


def identity(cloud, path):
    return f"{cloud.base_url}/identity{path}"


def password_body(admin, scope=None, password=None, **user):
    user = user or {"name": admin["username"], "domain": {"name": "Default"}}
    body = {"auth": {"identity": {"methods": ["password"],
                                  "password": {"user": {**user, "password": password or admin["password"]}}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def issue(cloud, body, **kw):
    return requests.post(identity(cloud, "/v3/auth/tokens"), json=body, timeout=30, **kw)


def openstack_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_openstack_cli_issues_a_token(cloud_env):
    result = openstack_cli(cloud_env, "token", "issue", "-f", "json")
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout)
    assert token["id"].startswith("gAAAAA") and token["project_id"] and token["user_id"]


def test_openstack_cli_lists_the_catalog(cloud_env, cloud):
    result = openstack_cli(cloud_env, "catalog", "list", "-f", "json")
    assert result.returncode == 0, result.stderr
    types = {entry["Type"] for entry in json.loads(result.stdout)}
    assert types == {"identity", "compute", "image", "block-storage", "volumev3", "network", "object-store"}


def test_openstacksdk_authenticates_and_finds_every_service(conn, cloud):
    assert conn.current_project_id
    urls = {
        "compute": f"{cloud.base_url}/compute/v2.1",
        "network": f"{cloud.base_url}/network",
        "image": f"{cloud.base_url}/image",
        "block-storage": f"{cloud.base_url}/volume/v3/{conn.current_project_id}",
        "object-store": f"{cloud.base_url}/object-store/v1/AUTH_{conn.current_project_id}",
    }
    for service_type, url in urls.items():
        assert conn.session.get_endpoint(service_type=service_type, interface="public") == url
    assert conn.compute.get_endpoint_data().max_microversion == (microversions.MAX.major, microversions.MAX.minor)


def test_token_body_has_keystone_shape(cloud, admin):
    response = issue(cloud, password_body(admin, {"project": {"name": "admin", "domain": {"name": "Default"}}}))
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.headers["X-Subject-Token"].startswith("gAAAAA")
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "admin" and token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "admin" and token["project"]["domain"]["id"] == "default"
    assert {r["name"] for r in token["roles"]} == {"admin", "manager", "member", "reader"}
    assert token["expires_at"].endswith("Z") and len(token["audit_ids"]) == 1
    assert {entry["type"] for entry in token["catalog"]} >= {"compute", "identity"}
    assert "catalog" not in issue(cloud, password_body(admin, {"project": {"name": "admin", "domain": {
        "id": "default"}}}), params={"nocatalog": "1"}).json()["token"]


def test_unscoped_system_and_domain_scoped_tokens(cloud, admin):
    unscoped = issue(cloud, password_body(admin)).json()["token"]
    assert "project" not in unscoped and "roles" not in unscoped and "catalog" not in unscoped
    system = issue(cloud, password_body(admin, {"system": {"all": True}}))
    assert system.status_code == 201 and system.json()["token"]["system"] == {"all": True}
    domain = issue(cloud, password_body(admin, {"domain": {"id": "default"}}))
    assert domain.status_code == 401
    assert "has no access to domain default" in domain.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    lambda admin: password_body(admin, password="wrong"),
    lambda admin: password_body(admin, name="nobody", domain={"name": "Default"}),
    lambda admin: password_body(admin, id="0" * 32),
    lambda admin: password_body(admin, name="admin", domain={"name": "NoSuchDomain"}),
])
def test_bad_credentials_all_get_the_same_401(cloud, admin, body):
    response = issue(cloud, body(admin))
    assert response.status_code == 401
    assert response.json() == {"error": {"code": 401, "title": "Unauthorized",
                                         "message": "The request you have made requires authentication."}}
    assert "X-Subject-Token" not in response.headers


@pytest.mark.parametrize(("body", "field"), [
    ({"auth": {}}, "auth/identity"),
    ({"auth": {"identity": {"methods": ["kerberos"]}}}, "auth/identity/methods/0"),
    ({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}},
     "auth/identity/password/user"),
    ({"auth": {"identity": {"methods": ["password"]}}}, "identity/password"),
])
def test_malformed_auth_requests_get_400_naming_the_field(cloud, body, field):
    response = issue(cloud, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]


def test_unknown_project_scope_is_401(cloud, admin):
    response = issue(cloud, password_body(admin, {"project": {"id": "nope"}}))
    assert response.status_code == 401 and "Could not find project" in response.json()["error"]["message"]


def test_validate_and_revoke_with_keystoneauth(cloud, admin):
    auth = v3.Password(auth_url=identity(cloud, ""), username="admin", password=admin["password"],
                       project_name="admin", user_domain_name="Default", project_domain_name="Default")
    sess = ks_session.Session(auth=auth)
    caller = sess.get_token()
    subject = issue(cloud, password_body(admin, {"system": {"all": True}})).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": caller, "X-Subject-Token": subject}
    validated = requests.get(identity(cloud, "/v3/auth/tokens"), headers=headers, timeout=30)
    assert validated.status_code == 200 and validated.headers["X-Subject-Token"] == subject
    assert validated.json()["token"]["system"] == {"all": True}
    assert requests.head(identity(cloud, "/v3/auth/tokens"), headers=headers, timeout=30).status_code == 200
    assert requests.delete(identity(cloud, "/v3/auth/tokens"), headers=headers, timeout=30).status_code == 204
    gone = requests.get(identity(cloud, "/v3/auth/tokens"), headers=headers, timeout=30)
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == "Could not recognize Fernet token"
    # the revoked token no longer opens any API, at once
    revoked = requests.get(identity(cloud, "/v3/auth/catalog"), headers={"X-Auth-Token": subject}, timeout=30)
    assert revoked.status_code == 401
    assert requests.get(identity(cloud, "/v3/auth/catalog"), headers={"X-Auth-Token": caller},
                        timeout=30).status_code == 200


def test_rescoping_with_the_token_method(cloud, admin):
    unscoped = issue(cloud, password_body(admin)).headers["X-Subject-Token"]
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    response = issue(cloud, body)
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["methods"] == ["token", "password"] and len(token["audit_ids"]) == 2
    assert token["project"]["name"] == "admin"


def test_tampered_and_expired_tokens_are_rejected_everywhere(cloud, admin):
    good = issue(cloud, password_body(admin, {"system": {"all": True}})).headers["X-Subject-Token"]
    tampered = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    # a token that really was issued by this cloud's keys, but has expired
    keys = KeyRepository(str(cloud.data_dir / "token-keys"))
    provider = TokenProvider(keys, RevocationList(None, 1e9, 0), 60, 0)
    provider.revocations.is_revoked = lambda *a: False
    user_id = issue(cloud, password_body(admin)).json()["token"]["user"]["id"]
    expired_data = provider.new_token_data(user_id, ["password"], user_domain_id="default", system=True,
                                           roles=[("x", "admin")], expires_at_us=1)
    expired = provider.issue(expired_data)
    for bad in (tampered, expired, "garbage"):
        for url in (identity(cloud, "/v3/auth/catalog"), f"{cloud.base_url}/identity/v3/auth/projects"):
            response = requests.get(url, headers={"X-Auth-Token": bad}, timeout=30)
            assert response.status_code == 401, (bad[:20], url)


def test_auth_projects_and_catalog_for_the_token(cloud, conn):
    token = conn.session.get_token()
    projects = requests.get(identity(cloud, "/v3/auth/projects"), headers={"X-Auth-Token": token}, timeout=30)
    assert [p["name"] for p in projects.json()["projects"]] == ["admin"]
    catalog = requests.get(identity(cloud, "/v3/auth/catalog"), headers={"X-Auth-Token": token}, timeout=30)
    assert {e["type"] for e in catalog.json()["catalog"]} >= {"compute", "network"}


def test_restart_keeps_the_admin_password_and_tokens(tmp_path):
    from tests.functional.servers import Server

    first = Server("up", "--port", "0", "--data-dir", str(tmp_path))
    first.wait_for(__import__("re").compile("token issue"), 30)
    with open(tmp_path / "clouds.yaml") as f:
        password = yaml.safe_load(f)["clouds"]["stratus"]["auth"]["password"]
    body = password_body({"username": "admin", "password": password}, {"system": {"all": True}})
    token = requests.post(f"{first.base_url}/identity/v3/auth/tokens", json=body, timeout=30)
    first.stop()
    second = Server("up", "--port", "0", "--data-dir", str(tmp_path))
    try:
        second.wait_for(__import__("re").compile("token issue"), 30)
        with open(tmp_path / "clouds.yaml") as f:
            assert yaml.safe_load(f)["clouds"]["stratus"]["auth"]["password"] == password
        again = requests.get(f"{second.base_url}/identity/v3/auth/catalog",
                             headers={"X-Auth-Token": token.headers["X-Subject-Token"]}, timeout=30)
        assert again.status_code == 200  # same keys, same password: earlier tokens stay valid
    finally:
        second.stop()


def test_keystoneauth_reports_a_wrong_password_as_unauthorized(cloud):
    auth = v3.Password(auth_url=identity(cloud, ""), username="admin", password="wrong",
                       project_name="admin", user_domain_name="Default", project_domain_name="Default")
    with pytest.raises(ks_exceptions.Unauthorized):
        ks_session.Session(auth=auth).get_token()


def test_token_documents_follow_changes_at_once(cloud, conn):
    """What token documents are made of is kept between requests; a change shows in the next one."""
    project = conn.identity.create_project(name="named-once", domain_id="default")
    user = conn.identity.create_user(name="doc-user", password="pw-doc", default_project_id=project.id)
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    try:
        auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "doc-user", "domain": {"id": "default"}, "password": "pw-doc"}}},
            "scope": {"project": {"id": project.id}}}}
        token = requests.post(identity(cloud, "/v3/auth/tokens"), json=auth, timeout=30).headers["X-Subject-Token"]
        headers = {"X-Auth-Token": conn.session.get_token(), "X-Subject-Token": token}

        def document():
            return requests.get(identity(cloud, "/v3/auth/tokens"), headers=headers, timeout=30).json()["token"]

        first = document()
        assert first["project"]["name"] == "named-once" and first["user"]["name"] == "doc-user"
        conn.identity.update_project(project, name="named-twice")
        conn.identity.update_user(user, name="doc-user-2")
        service = conn.identity.create_service(type="doc-test", name="doc-test")
        endpoint = conn.identity.create_endpoint(service_id=service.id, interface="public",
                                                 url="http://doc.example/v1", region_id="RegionOne")
        after = document()
        assert after["project"]["name"] == "named-twice" and after["user"]["name"] == "doc-user-2"
        assert "doc-test" in {entry["type"] for entry in after["catalog"]}
        conn.identity.delete_endpoint(endpoint)
        conn.identity.delete_service(service)
        assert "doc-test" not in {entry["type"] for entry in document()["catalog"]}
    finally:
        conn.identity.delete_user(user)
        conn.identity.delete_project(project)
