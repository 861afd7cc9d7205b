"""Nothing of a deleted server stays on a host: not the guest of a server deleted while it
moved between hosts, not the disk parked for that move, not the guest of a server deleted
while its host was down (each host reaps those, as Nova's running_deleted_instance_action)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from pathlib import Path

import requests

from tests.functional.accounts import connect
from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import boot, image


def nova(cloud, conn, method, path, version="2.11", **kwargs):
    return requests.request(method, f"{cloud.base_url}/compute/v2.1{path}", timeout=30, **kwargs, headers={
        "X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": f"compute {version}"})


def files_naming(data_dir: Path, *names: str) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if any(n in p.name for n in names))


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@contextlib.contextmanager
def cloud_and_admin(tmp_path_factory, config):
    """``stratus up`` with ``config`` and an admin connection to it, both stopped after."""
    cloud = start_cloud(tmp_path_factory, config)
    conn = connect(cloud.clouds_yaml)
    try:
        image(conn)
        yield cloud, conn
    finally:
        conn.close()
        cloud.stop()


def test_a_server_deleted_while_it_moves_leaves_no_guest_or_parked_disk(tmp_path_factory):
    with cloud_and_admin(tmp_path_factory, "[compute]\nsimulated_hosts = 2\nresource_update_interval = 1\n"
                         "running_deleted_instance_poll_interval = -1\n[fake_hypervisor]\nspawn_latency = 2\n"
                         ) as (cloud, conn):
        server = boot(conn, "mover")
        assert files_naming(cloud.data_dir, server.id)  # the fake hypervisor keeps the guest's disk beside the cache
        assert nova(cloud, conn, "POST", f"/servers/{server.id}/action", json={"migrate": None}).status_code == 202
        wait_until(lambda: conn.compute.get_server(server.id).task_state == "resize_finish")
        found = nova(cloud, conn, "GET", f"/os-migrations?instance_uuid={server.id}", "2.59").json()["migrations"]
        assert len(found) == 1
        conn.compute.delete_server(server)  # the destination is spawning it
        conn.compute.wait_for_delete(server, wait=30, interval=0.3)

        def ended():
            return nova(cloud, conn, "GET", f"/os-migrations?instance_uuid={server.id}",
                        "2.59").json()["migrations"][0]["status"] == "error"

        wait_until(ended)
        assert files_naming(cloud.data_dir, server.id, found[0]["uuid"]) == []
        wait_until(lambda: [h["running_vms"] for h in nova(cloud, conn, "GET", "/os-hypervisors/detail",
                                                            "2.87").json()["hypervisors"]] == [0, 0])


def test_guests_of_servers_deleted_while_their_host_was_down_are_reaped(tmp_path_factory):
    with cloud_and_admin(tmp_path_factory, "[DEFAULT]\nhost = stratus\n[compute]\nresource_update_interval = 1\n"
                         "running_deleted_instance_poll_interval = 1\n") as (cloud, conn):
        server = boot(conn, "orphan")
        kept = boot(conn, "kept")
        host = conn.compute.get_server(server.id).compute_host
        service = next(s for s in conn.compute.services() if s.binary == "nova-compute" and s.host == host)
        down = nova(cloud, conn, "PUT", f"/os-services/{service.id}", "2.53", json={"forced_down": True})
        assert down.status_code == 200, down.text
        try:
            conn.compute.delete_server(server)  # deleted here, as Nova's local delete: the host never hears of it
            conn.compute.wait_for_delete(server, wait=30, interval=0.3)
        finally:
            assert nova(cloud, conn, "PUT", f"/os-services/{service.id}", "2.53",
                        json={"forced_down": False}).status_code == 200
        wait_until(lambda: not files_naming(cloud.data_dir, server.id))
        assert files_naming(cloud.data_dir, kept.id)  # a live server's guest stays
        assert conn.compute.get_server(kept.id).status == "ACTIVE"


def test_servers_deleted_while_they_are_built_leave_no_port_or_guest(tmp_path_factory):
    with cloud_and_admin(tmp_path_factory, "[compute]\nresource_update_interval = 1\n"
                         "[fake_hypervisor]\nspawn_latency = 0.3\n") as (cloud, conn):
        network, flavor, made = conn.network.find_network("private"), conn.compute.find_flavor("m1.nano"), []
        conn.set_compute_quotas(conn.current_project_id, instances=-1, cores=-1, ram=-1)
        conn.set_network_quotas(conn.current_project_id, port=-1)

        def create_then_delete(pause):  # before placement, during it, while networking, while spawning
            server = conn.compute.create_server(name=f"short-lived-{pause}", image_id=image(conn).id,
                                                flavor_id=flavor.id, networks=[{"uuid": network.id}])
            time.sleep(pause)
            conn.compute.delete_server(server)
            return server.id

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            made = list(pool.map(create_then_delete, [n * 0.013 for n in range(30)]))
        for server_id in made:
            wait_until(lambda sid=server_id: conn.compute.find_server(sid) is None)
        # nothing the builds made outlives the servers: ports, guests, what the host counts
        wait_until(lambda: not [p for p in conn.network.ports() if p.device_id in made])
        wait_until(lambda: not files_naming(cloud.data_dir, *made))
        wait_until(lambda: [h["running_vms"] for h in nova(cloud, conn, "GET", "/os-hypervisors/detail",
                                                            "2.87").json()["hypervisors"]] == [0])
