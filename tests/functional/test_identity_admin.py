"""Identity management over HTTP: projects, users, groups, roles, assignments, the catalog,
what each role may do, and how changes revoke tokens at once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import openstack.config
import openstack.connection
import pytest
import requests
from openstack import exceptions as sdk_exceptions


def connect(cloud, **auth):
    config = openstack.config.OpenStackConfig(config_files=[cloud.clouds_yaml])
    region = config.get_one("stratus", **({"auth": auth} if auth else {}))
    return openstack.connection.Connection(config=region)


@pytest.fixture(scope="module")
def admin(cloud):
    connection = connect(cloud)
    yield connection
    connection.close()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def member(cloud, admin):
    """A new user with the member role on a new project, and a connection as that user."""
    project = admin.identity.create_project(name=unique("proj"), domain_id="default")
    user = admin.identity.create_user(name=unique("user"), password="pw-member", domain_id="default")
    member_role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member_role)
    connection = connect(cloud, auth_url=f"{cloud.base_url}/identity", username=user.name, password="pw-member",
                         project_name=project.name, user_domain_name="Default", project_domain_name="Default")
    yield user, project, connection
    connection.close()


def token_of(cloud, username, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": username, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"id": project}}}}
    return requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=body, timeout=30)


def still_valid(cloud, token):
    return requests.get(f"{cloud.base_url}/identity/v3/auth/catalog", headers={"X-Auth-Token": token},
                        timeout=30).status_code == 200


def test_project_lifecycle_with_the_sdk(admin):
    parent = admin.identity.create_project(name=unique("parent"), domain_id="default", description="p")
    child = admin.identity.create_project(name=unique("child"), parent_id=parent.id, tags=["b", "a"])
    assert child.domain_id == "default" and child.parent_id == parent.id and child.tags == ["a", "b"]
    assert admin.identity.get_project(parent.id).parent_id == "default"
    with pytest.raises(sdk_exceptions.ConflictException):
        admin.identity.create_project(name=child.name, domain_id="default")
    with pytest.raises(sdk_exceptions.ForbiddenException, match="not a leaf"):
        admin.identity.delete_project(parent)
    admin.identity.update_project(child, description="changed", enabled=False)
    assert admin.identity.get_project(child.id).is_enabled is False
    assert [p.id for p in admin.identity.projects(name=child.name)] == [child.id]
    admin.identity.delete_project(child)
    admin.identity.delete_project(parent)
    with pytest.raises(sdk_exceptions.NotFoundException):
        admin.identity.get_project(parent.id)


def test_user_and_group_management(admin):
    user = admin.identity.create_user(name=unique("bob"), password="pw1", email="bob@example.org")
    assert user.email == "bob@example.org" and user.domain_id == "default"
    group = admin.identity.create_group(name=unique("grp"), description="g")
    admin.identity.add_user_to_group(user, group)
    assert admin.identity.check_user_in_group(user, group)
    assert [u.id for u in admin.identity.group_users(group)] == [user.id]
    assert [g.id for g in admin.identity.user_groups(user)] == [group.id]
    admin.identity.remove_user_from_group(user, group)
    assert not admin.identity.check_user_in_group(user, group)
    renamed = user.name + "-renamed"
    admin.identity.update_user(user, name=renamed)
    assert admin.identity.get_user(user.id).name == renamed
    with pytest.raises(sdk_exceptions.ConflictException):
        admin.identity.create_user(name=renamed, password="x")
    admin.identity.delete_group(group)
    admin.identity.delete_user(user)
    with pytest.raises(sdk_exceptions.NotFoundException):
        admin.identity.get_user(user.id)


def test_list_filters_and_pagination(admin, cloud):
    prefix = unique("page")
    made = [admin.identity.create_project(name=f"{prefix}-{i}", domain_id="default") for i in range(5)]
    token = admin.session.get_token()
    url = f"{cloud.base_url}/identity/v3/projects"
    found = requests.get(url, params={"name__startswith": prefix}, headers={"X-Auth-Token": token}, timeout=30)
    assert sorted(p["name"] for p in found.json()["projects"]) == [f"{prefix}-{i}" for i in range(5)]
    first = requests.get(url, params={"name__startswith": prefix, "limit": 2}, headers={"X-Auth-Token": token},
                         timeout=30).json()
    assert len(first["projects"]) == 2 and first["links"]["next"]
    second = requests.get(first["links"]["next"], headers={"X-Auth-Token": token}, timeout=30).json()
    assert len(second["projects"]) == 2
    assert not {p["id"] for p in first["projects"]} & {p["id"] for p in second["projects"]}
    bad = requests.get(url, params={"limit": "many"}, headers={"X-Auth-Token": token}, timeout=30)
    assert bad.status_code == 400 and "limit" in bad.json()["error"]["message"]
    for project in made:
        admin.identity.delete_project(project)


def test_role_assignments_and_names(admin, member):
    user, project, _ = member
    listing = list(admin.identity.role_assignments(user_id=user.id, include_names=True))
    assert len(listing) == 1
    entry = listing[0]
    assert entry.role["name"] == "member" and entry.scope["project"]["name"] == project.name
    effective = list(admin.identity.role_assignments(user_id=user.id, effective=True))
    assert {a.role["id"] for a in effective} == {admin.identity.find_role("member").id,
                                                 admin.identity.find_role("reader").id}


def test_roles_through_groups_are_effective_and_removable(admin, cloud):
    project = admin.identity.create_project(name=unique("gp"), domain_id="default")
    user = admin.identity.create_user(name=unique("carol"), password="pw-carol")
    group = admin.identity.create_group(name=unique("team"))
    admin.identity.add_user_to_group(user, group)
    admin.identity.assign_project_role_to_group(project, group, admin.identity.find_role("member"))
    response = token_of(cloud, user.name, "pw-carol", project.id)
    assert response.status_code == 201
    assert {r["name"] for r in response.json()["token"]["roles"]} == {"member", "reader"}
    admin.identity.remove_user_from_group(user, group)
    assert not still_valid(cloud, response.headers["X-Subject-Token"])
    assert token_of(cloud, user.name, "pw-carol", project.id).status_code == 401


def test_a_member_can_read_own_things_but_not_administer(member, admin):
    user, project, connection = member
    assert connection.identity.get_project(project.id).name == project.name
    assert connection.identity.get_user(user.id).name == user.name
    other = admin.identity.create_project(name=unique("other"), domain_id="default")
    for forbidden in (lambda: connection.identity.get_project(other.id),
                      lambda: list(connection.identity.users()),
                      lambda: list(connection.identity.projects()),
                      lambda: connection.identity.create_project(name="mine", domain_id="default"),
                      lambda: connection.identity.create_user(name="evil", password="x"),
                      lambda: connection.identity.get_user(admin.current_user_id)):
        with pytest.raises(sdk_exceptions.ForbiddenException):
            forbidden()
    admin.identity.delete_project(other)


def test_changes_revoke_tokens_at_once(admin, cloud):
    project = admin.identity.create_project(name=unique("rv"), domain_id="default")
    member_role = admin.identity.find_role("member")

    def fresh_user():
        user = admin.identity.create_user(name=unique("dave"), password="pw-dave")
        admin.identity.assign_project_role_to_user(project, user, member_role)
        token = token_of(cloud, user.name, "pw-dave", project.id).headers["X-Subject-Token"]
        assert still_valid(cloud, token)
        return user, token

    user, token = fresh_user()
    admin.identity.unassign_project_role_from_user(project, user, member_role)
    assert not still_valid(cloud, token), "role removal"
    user, token = fresh_user()
    admin.identity.update_user(user, enabled=False)
    assert not still_valid(cloud, token), "user disabled"
    assert token_of(cloud, user.name, "pw-dave", project.id).status_code == 401
    user, token = fresh_user()
    admin.identity.update_user(user, password="pw-new")
    assert not still_valid(cloud, token), "password set by an admin"
    assert token_of(cloud, user.name, "pw-new", project.id).status_code == 201
    user, token = fresh_user()
    admin.identity.update_project(project, enabled=False)
    assert not still_valid(cloud, token), "project disabled"
    admin.identity.update_project(project, enabled=True)


def test_users_change_their_own_password(member, cloud):
    user, project, _ = member
    old = token_of(cloud, user.name, "pw-member", project.id).headers["X-Subject-Token"]
    url = f"{cloud.base_url}/identity/v3/users/{user.id}/password"
    wrong = requests.post(url, json={"user": {"password": "new-pw", "original_password": "nope"}},
                          headers={"X-Auth-Token": old}, timeout=30)
    assert wrong.status_code == 401
    changed = requests.post(url, json={"user": {"password": "new-pw", "original_password": "pw-member"}},
                            headers={"X-Auth-Token": old}, timeout=30)
    assert changed.status_code == 204
    assert not still_valid(cloud, old)
    assert token_of(cloud, user.name, "new-pw", project.id).status_code == 201


def test_catalog_management(admin):
    region = admin.identity.create_region(id=unique("Region"), description="test region")
    service = admin.identity.create_service(type="dns", name="designate", description="DNS")
    endpoint = admin.identity.create_endpoint(service_id=service.id, interface="public",
                                              url="http://dns.example/v2", region_id=region.id)
    assert endpoint.region_id == region.id and endpoint.url == "http://dns.example/v2"
    assert [e.id for e in admin.identity.endpoints(service_id=service.id)] == [endpoint.id]
    with pytest.raises(sdk_exceptions.ConflictException):
        admin.identity.delete_region(region)  # an endpoint still uses it
    with pytest.raises(sdk_exceptions.BadRequestException, match="Could not find service"):
        admin.identity.create_endpoint(service_id="nope", interface="public", url="http://x")
    with pytest.raises(sdk_exceptions.BadRequestException, match="interface"):
        admin.identity.create_endpoint(service_id=service.id, interface="private", url="http://x")
    admin.identity.delete_service(service)  # takes its endpoints along
    assert list(admin.identity.endpoints(service_id=service.id)) == []
    admin.identity.delete_region(region)


def test_domains_must_be_disabled_before_deletion(admin):
    domain = admin.identity.create_domain(name=unique("dom"))
    project = admin.identity.create_project(name="inside", domain_id=domain.id)
    with pytest.raises(sdk_exceptions.ForbiddenException, match="disable it first"):
        admin.identity.delete_domain(domain)
    admin.identity.update_domain(domain, is_enabled=False)
    admin.identity.delete_domain(domain)
    with pytest.raises(sdk_exceptions.NotFoundException):
        admin.identity.get_project(project.id)
    with pytest.raises(sdk_exceptions.ForbiddenException):
        admin.identity.delete_domain("default")


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v3/projects", {"project": {"name": ""}}, "project/name"),
    ("/v3/projects", {"project": {"name": "x", "parent_id": "missing"}}, "project/parent_id"),
    ("/v3/projects", {"project": {"name": "x", "domain_id": "missing"}}, "project/domain_id"),
    ("/v3/users", {"user": {"name": "x", "enabled": "yes"}}, "user/enabled"),
    ("/v3/users", {"user": {"name": "x", "default_project_id": "missing"}}, "user/default_project_id"),
    ("/v3/roles", {"role": {}}, "role/name"),
    ("/v3/endpoints", {"endpoint": {"service_id": "s", "interface": "public", "url": "not a url"}},
     "endpoint/url"),
])
def test_bad_input_gets_400_naming_the_field_and_writes_nothing(admin, cloud, path, body, field):
    token = admin.session.get_token()
    before = requests.get(f"{cloud.base_url}/identity{path}", headers={"X-Auth-Token": token}, timeout=30).json()
    response = requests.post(f"{cloud.base_url}/identity{path}", json=body, headers={"X-Auth-Token": token},
                             timeout=30)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]
    after = requests.get(f"{cloud.base_url}/identity{path}", headers={"X-Auth-Token": token}, timeout=30).json()
    assert after == before


def test_openstack_cli_manages_identity(cloud_env):
    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], env=cloud_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    project, user = unique("cli"), unique("cliuser")
    cli("project", "create", project)
    cli("user", "create", user, "--password", "pw", "--project", project)
    cli("role", "add", "--project", project, "--user", user, "member")
    rows = json.loads(cli("role", "assignment", "list", "--names", "--user", user, "-f", "json"))
    assert [(r["Role"], r["Project"]) for r in rows] == [("member", f"{project}@Default")]
    cli("role", "remove", "--project", project, "--user", user, "member")
    cli("user", "delete", user)
    cli("project", "delete", project)


def test_application_credentials_delegate_a_subset_of_roles(member, cloud, admin):
    user, project, connection = member
    credential = connection.identity.create_application_credential(
        user.id, name=unique("ci"), roles=[{"name": "reader"}], description="for CI")
    assert credential.secret and [r["name"] for r in credential.roles] == ["reader"]
    assert credential.project_id == project.id
    listed = list(connection.identity.application_credentials(user.id))
    assert [c.id for c in listed] == [credential.id] and not listed[0].secret
    body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": credential.id, "secret": credential.secret}}}}
    issued = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert [r["name"] for r in token["roles"]] == ["reader"] and token["project"]["id"] == project.id
    assert token["application_credential"]["id"] == credential.id
    by_name = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "name": credential.name, "user": {"id": user.id}, "secret": credential.secret}}}}
    assert requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=by_name, timeout=30).status_code == 201
    wrong = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": credential.id, "secret": "guess"}}}}
    assert requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=wrong, timeout=30).status_code == 401
    with pytest.raises(sdk_exceptions.ForbiddenException, match="not held"):
        connection.identity.create_application_credential(user.id, name=unique("x"), roles=[{"name": "admin"}])
    connection.identity.delete_application_credential(user.id, credential)
    assert not still_valid(cloud, issued.headers["X-Subject-Token"])
    assert requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=body, timeout=30).status_code == 401
