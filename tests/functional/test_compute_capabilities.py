"""A hypervisor that lacks a capability: the API refuses what it cannot do, nothing is cast
and no task is left on the server (Nova answers such drivers' actions this way)."""

from __future__ import annotations

import pytest

from tests.functional.accounts import connect
from tests.functional.conftest import start_cloud
from tests.functional.test_compute_servers import boot, nova


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, "[compute]\nresource_update_interval = 1\n"
                        "[fake_hypervisor]\nwithout_capabilities = PAUSE, SUSPEND, CONSOLE_LOG\n")
    yield cloud
    cloud.stop()


def test_actions_the_hypervisor_cannot_do_are_refused_before_anything_is_cast(limited):
    conn = connect(limited.clouds_yaml)
    server = boot(conn, "limited", networks=[{"uuid": conn.network.find_network("private").id}])
    try:
        for action in ({"pause": None}, {"suspend": None}):
            answer = nova(limited, conn, "POST", f"/servers/{server.id}/action", json=action)
            assert answer.status_code == 409, answer.text
            assert "does not support it" in answer.json()["conflictingRequest"]["message"]
        console = nova(limited, conn, "POST", f"/servers/{server.id}/action", json={"os-getConsoleOutput": {}})
        assert console.status_code == 501, console.text
        after = conn.compute.get_server(server.id)
        assert (after.status, after.task_state) == ("ACTIVE", None)
        assert [a.action for a in conn.compute.server_actions(server)] == ["create"]  # none recorded
        stopped = nova(limited, conn, "POST", f"/servers/{server.id}/action", json={"os-stop": None})
        assert stopped.status_code == 202  # what it can do, it does
        conn.compute.wait_for_server(conn.compute.get_server(server.id), status="SHUTOFF", wait=30, interval=0.2)
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        conn.close()


def test_an_unknown_capability_name_is_a_configuration_error(tmp_path):
    from tests.functional.servers import run

    conf = tmp_path / "stratus.conf"
    conf.write_text("[fake_hypervisor]\nwithout_capabilities = PAUZE\n")
    result = run("--config-file", str(conf), "drivers", "--check")
    assert result.returncode == 1 and "unknown capability PAUZE" in result.stdout + result.stderr
