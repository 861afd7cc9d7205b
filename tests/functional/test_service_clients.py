"""The services' clients keep one contract in both shapes: each test runs with the in-process
client (on the embedded cloud's database) and with the REST client (over the cloud's public
APIs as a service user), and expects the same answers."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import yaml

from stratus import conf as stratus_conf
from stratus.embedded import embedded_overrides
from stratus.exceptions import Conflict, Invalid, NotAuthenticated, NotFound

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(conn):
    return conn.identity.find_project("admin")


def client_conf(cloud, mode: str):
    with open(cloud.clouds_yaml) as f:
        auth = yaml.safe_load(f)["clouds"]["stratus"]["auth"]
    overrides = embedded_overrides(str(cloud.data_dir))
    if mode == "rest":
        overrides["service_credentials"] = {"auth_type": "password", **auth}
        for group in ("identity_client", "image_client", "network_client", "compute_client"):
            overrides[group] = {"mode": "rest"}
    conf = stratus_conf.build([])
    # keystoneauth registers the password plugin's options when it loads it; do it first
    if mode == "rest":
        from keystoneauth1 import loading

        conf.register_opts(loading.get_auth_plugin_conf_options("password"), group="service_credentials")
    for group, values in overrides.items():
        for name, value in values.items():
            conf.set_override(name, value, group=None if group == "DEFAULT" else group)
    return conf


@pytest.fixture(scope="module", params=["local", "rest"])
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def images(cloud, mode):
    from stratus.image import client

    made = client.from_conf(client_conf(cloud, mode))
    yield made
    made.close()


@pytest.fixture(scope="module")
def network(cloud, mode):
    from stratus.network import client

    made = client.from_conf(client_conf(cloud, mode))
    yield made
    made.close()


def test_show_gives_an_image_and_none_for_a_missing_one(images, conn):
    tiny = conn.image.find_image("tiny")
    found = images.show(tiny.id)
    assert (found.id, found.status, found.size, found.checksum) == (tiny.id, "active", tiny.size, tiny.checksum)
    assert (found.disk_format, found.container_format) == (tiny.disk_format, tiny.container_format)
    assert images.show(str(uuid.uuid4())) is None
    assert conn.image.get_image(tiny.id).direct_url is None  # not shown unless [image] show_image_direct_url


def test_download_writes_the_data_checked_and_whole(images, conn, tmp_path):
    tiny = conn.image.find_image("tiny")
    target = tmp_path / "disk"
    images.download(tiny.id, str(target))
    assert hashlib.md5(target.read_bytes(), usedforsecurity=False).hexdigest() == tiny.checksum
    assert not (tmp_path / "disk.part").exists()
    queued = conn.image.create_image(name="queued", disk_format="raw", container_format="bare")
    try:
        with pytest.raises(NotFound):
            images.download(queued.id, str(tmp_path / "never"))
        assert not list(tmp_path.glob("never*"))
    finally:
        conn.image.delete_image(queued)


def test_a_snapshot_is_created_for_the_owner_and_filled(images, conn, project, tmp_path):
    data = tmp_path / "snap"
    data.write_bytes(b"snapshot data" * 1000)
    server = str(uuid.uuid4())
    image_id = images.create_snapshot(project.id, {"name": "snap", "disk_format": "raw", "container_format": "bare",
                                                   "visibility": "private", "image_type": "snapshot",
                                                   "instance_uuid": server, "min_disk": 1})
    try:
        assert images.show(image_id).status == "queued"
        images.upload(image_id, str(data), "qcow2")
        made = conn.image.get_image(image_id)
        assert (made.status, made.size, made.owner, made.disk_format) == ("active", 13000, project.id, "qcow2")
        assert made.instance_uuid == server and made.min_disk == 1
        assert images.show(image_id).properties["image_type"] == "snapshot"
    finally:
        images.delete(image_id)
    assert images.show(image_id) is None
    images.delete(image_id)  # idempotent


def test_an_upload_to_a_deleted_snapshot_is_refused(images, project, tmp_path):
    data = tmp_path / "late"
    data.write_bytes(b"x" * 100)
    image_id = images.create_snapshot(project.id, {"name": "gone", "disk_format": "raw", "container_format": "bare"})
    images.delete(image_id)
    with pytest.raises(Conflict):
        images.upload(image_id, str(data), "raw")


def test_backups_beyond_the_rotation_and_unfinished_snapshots_are_deleted(images, project, tmp_path):
    data = tmp_path / "backup"
    data.write_bytes(b"b" * 10)
    server = str(uuid.uuid4())
    made = []
    for n in range(3):
        image_id = images.create_snapshot(project.id, {
            "name": f"backup-{n}", "disk_format": "raw", "container_format": "bare", "image_type": "backup",
            "backup_type": "daily", "instance_uuid": server})
        images.upload(image_id, str(data), "raw")
        made.append(image_id)
    other = images.create_snapshot(project.id, {"name": "weekly", "disk_format": "raw", "container_format": "bare",
                                                "image_type": "backup", "backup_type": "weekly",
                                                "instance_uuid": server})
    unfinished = images.create_snapshot(project.id, {"name": "cut short", "disk_format": "raw",
                                                     "container_format": "bare", "image_type": "snapshot",
                                                     "instance_uuid": server})
    try:
        assert sorted(images.rotate_backups(server, "daily", 1)) == sorted(made[:2])
        assert images.show(made[2]).status == "active" and images.show(made[0]) is None
        assert sorted(images.drop_unfinished(server)) == sorted([other, unfinished])
        assert images.show(made[2]) is not None
    finally:
        for image_id in [*made, other, unfinished]:
            images.delete(image_id)


def test_a_parked_disk_comes_back_whole_and_goes(images, tmp_path):
    disk = tmp_path / "disk"
    disk.write_bytes(b"disk moving between hosts" * 4096)
    where = images.park(f"resize-{uuid.uuid4()}", str(disk))
    back = tmp_path / "back"
    images.fetch(where, str(back))
    assert back.read_bytes() == disk.read_bytes()
    images.drop(where)
    images.drop(where)
    images.drop(None)
    with pytest.raises(NotFound):
        images.fetch(where, str(tmp_path / "again"))


def test_a_port_made_for_a_server_is_bound_listed_and_deleted(network, conn, project):
    private = conn.network.find_network("private")
    assert (private.id, "private") in network.networks_for(project.id)
    server = str(uuid.uuid4())
    made = network.attach(project.id, server, "host-a", network_id=private.id)
    try:
        assert made.created and made.network_name == "private" and made.fixed_ips and made.mtu
        port = conn.network.get_port(made.port_id)
        assert (port.device_id, port.binding_host_id, port.project_id) == (server, "host-a", project.id)
        assert network.bound_ports(server) == [made.port_id]
        assert network.addresses([made.port_id])[made.port_id]["fixed_ips"] == list(made.fixed_ips)
        assert set(network.port_states([made.port_id])) == {made.port_id}
        subnet_id = made.fixed_ips[0]["subnet_id"]
        assert network.subnets({subnet_id})[subnet_id]["cidr"] == conn.network.get_subnet(subnet_id).cidr
        with pytest.raises(Conflict):
            network.check_port(project.id, made.port_id)
    finally:
        network.detach(server, [(made.port_id, True)])
    assert network.bound_ports(server) == [] and conn.network.find_port(made.port_id) is None
    network.detach(server, [(made.port_id, True)])  # idempotent


def test_a_port_given_to_a_server_is_unbound_not_deleted(network, conn, project):
    private = conn.network.find_network("private")
    given = conn.network.create_port(network_id=private.id, name="given")
    server = str(uuid.uuid4())
    try:
        network.check_port(project.id, given.id)
        made = network.attach(project.id, server, "host-b", port_id=given.id)
        assert not made.created and made.port_id == given.id
        network.release(server, [{"port_id": given.id, "created": False}])
        kept = conn.network.get_port(given.id)
        assert (kept.device_id, kept.binding_host_id) == ("", "")
    finally:
        conn.network.delete_port(given)


def test_floating_addresses_follow_the_port(network, conn, project):
    private = conn.network.find_network("private")
    public = conn.network.find_network("public")
    router = conn.network.create_router(name="to-public", external_gateway_info={"network_id": public.id})
    subnet = next(conn.network.subnets(network_id=private.id))
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    server = str(uuid.uuid4())
    made = network.attach(project.id, server, "host-a", network_id=private.id)
    floating = conn.network.create_ip(floating_network_id=public.id, port_id=made.port_id)
    try:
        fixed = made.fixed_ips[0]["ip_address"]
        assert network.addresses([made.port_id])[made.port_id]["floating_ips"] == {
            fixed: [floating.floating_ip_address]}
    finally:
        network.detach(server, [(made.port_id, True)])
        assert conn.network.get_ip(floating.id).port_id is None
        conn.network.delete_ip(floating)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
        conn.network.delete_router(router)


def test_what_a_project_may_not_take_is_refused(network, conn, project):
    private = conn.network.find_network("private")
    with pytest.raises(NotFound):
        network.check_network(str(uuid.uuid4()), private.id)
    network.check_network(project.id, private.id)
    with pytest.raises(NotFound):
        network.check_network(project.id, str(uuid.uuid4()))
    with pytest.raises(NotFound):
        network.check_security_groups(project.id, ["no-such-group"])
    network.check_security_groups(project.id, ["default"])


def test_tokens_validate_to_the_same_context_in_both_shapes(cloud, conn, mode):
    from stratus.identity import client
    from stratus.identity.service import IdentityService

    conf = client_conf(cloud, mode)
    identity = IdentityService(conf) if mode == "local" else None
    validator = client.from_conf(conf, service=identity)
    try:
        token = conn.session.get_token()
        context = validator.validate(token)
        assert context.user_id == conn.session.get_user_id() and context.project_id == conn.current_project_id
        assert "admin" in context.roles and context.auth_token == token
        with pytest.raises(NotAuthenticated):
            validator.validate("not-a-token")
    finally:
        validator.close()
        if identity is not None:
            identity.close()


def test_a_named_project_is_checked_in_both_shapes(cloud, conn, mode, project):
    """Identity's answer to "does this project exist", asked as the caller (a user's context)."""
    from stratus.identity import client
    from stratus.identity.service import IdentityService
    from stratus.service_auth import ServiceAuth

    conf = client_conf(cloud, mode)
    identity = IdentityService(conf) if mode == "local" else None
    auth = ServiceAuth(conf) if mode == "rest" else None
    validator = client.from_conf(conf, service=identity, auth=auth)
    projects = client.projects_from_conf(conf, service=identity, auth=auth)
    try:
        caller = validator.validate(conn.session.get_token())
        projects.verify(project.id, caller)
        with pytest.raises(Invalid, match="Project ID no-such-project is not a valid project"):
            projects.verify("no-such-project", caller)
    finally:
        validator.close()
        if identity is not None:
            identity.close()
        if auth is not None:
            auth.close()
