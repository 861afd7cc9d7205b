"""Users in projects of their own, for tests of what one project sees of another's."""

from __future__ import annotations

import openstack.config
import openstack.connection
import requests


def connect(clouds_yaml: str) -> openstack.connection.Connection:
    """The admin's connection from the cloud's clouds.yaml."""
    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    return openstack.connection.Connection(config=config.get_one("stratus"))


def member_of_new_project(admin: openstack.connection.Connection, name: str,
                          role: str = "member") -> tuple[object, openstack.connection.Connection]:
    """Create project ``name`` and a user with ``role`` in it; return the project and their connection."""
    project = admin.identity.create_project(name=name, domain_id="default")
    password = f"pw-{name}"
    user = admin.identity.create_user(name=f"{name}-user", password=password, default_project_id=project.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role(role))
    auth = admin.config.config["auth"]
    connection = openstack.connection.Connection(
        auth_url=auth["auth_url"], username=user.name, password=password, project_id=project.id,
        user_domain_id="default", region_name=admin.config.get_region_name(), identity_api_version="3")
    return project, connection


def neutron(cloud: object, conn: openstack.connection.Connection, method: str, path: str,
            **kwargs: object) -> requests.Response:
    """A raw request to the networking API as ``conn``'s user (to see status codes and bodies)."""
    return requests.request(method, f"{cloud.base_url}/network/v2.0{path}",  # type: ignore[attr-defined]
                            headers={"X-Auth-Token": conn.session.get_token()}, timeout=30, **kwargs)
