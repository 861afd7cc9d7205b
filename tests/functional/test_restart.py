"""`stratus up` killed and started again on its data dir: the cloud goes on as it was.

The master is SIGKILLed (its workers must notice and exit on their own); what the kill
interrupted is simulated as it would stand in the database and on the hypervisor (a stop
and a build cut short, a guest that shut itself down, a guest the hypervisor lost).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

from stratus.interfaces.hypervisor import PowerState
from tests.functional.accounts import connect
from tests.functional.conftest import start_cloud
from tests.functional.servers import Server
from tests.functional.test_compute_servers import boot, wait_status

CONFIG = "[compute]\nresource_update_interval = 1\n"


def survivors(data_dir) -> str:
    return subprocess.run(["pgrep", "-af", f"--data-dir {data_dir}"], capture_output=True, text=True).stdout


def guest_file(data_dir, server):
    return data_dir / "fake-hypervisor" / server.compute_host / f"{server.id}.json"


def test_every_server_stays_usable_after_the_cloud_is_killed_and_started_again(tmp_path_factory):
    cloud = start_cloud(tmp_path_factory, CONFIG)
    data_dir = cloud.data_dir
    try:
        conn = connect(cloud.clouds_yaml)
        net = [{"uuid": conn.network.find_network("private").id}]
        names = ("active", "stopped", "stopping", "building", "selfstop", "lost")
        servers = {name: boot(conn, name, networks=net) for name in names}
        conn.compute.stop_server(servers["stopped"])
        wait_status(conn, servers["stopped"], "SHUTOFF")
        console = conn.compute.get_server_console_output(servers["active"])["output"]
        conn.close()
    finally:
        cloud.process.send_signal(signal.SIGKILL)
        cloud.stop()
    deadline = time.monotonic() + 30
    while survivors(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = survivors(data_dir)
    if left:  # nothing outlives the test, whatever it found
        subprocess.run(["pkill", "-9", "-f", f"--data-dir {data_dir}"], check=False)
    assert left == "", f"the workers outlived their master: {left}"

    # what the kill could have cut short, as it would stand
    with sqlite3.connect(data_dir / "stratus.sqlite") as db:
        db.execute("update instances set task_state = 'powering-off' where uuid = ?", (servers["stopping"].id,))
        db.execute("update instances set vm_state = 'building', task_state = 'spawning' where uuid = ?",
                   (servers["building"].id,))
    selfstop = guest_file(data_dir, servers["selfstop"])
    state = json.loads(selfstop.read_text())
    selfstop.write_text(json.dumps({**state, "power": PowerState.SHUTDOWN.value}))
    guest_file(data_dir, servers["lost"]).unlink()

    again = Server("--config-file", str(data_dir / "stratus.conf"), "up", "--port", "0", "--data-dir",
                   str(data_dir))
    try:
        conn = connect(str(data_dir / "clouds.yaml"))
        lost = wait_status(conn, servers["lost"], "ERROR")
        assert "no longer has its guest" in lost.fault["message"]
        assert wait_status(conn, servers["selfstop"], "SHUTOFF").task_state is None
        assert wait_status(conn, servers["stopping"], "SHUTOFF").task_state is None
        assert wait_status(conn, servers["building"], "ACTIVE").task_state is None

        active = servers["active"]
        assert conn.compute.get_server_console_output(active)["output"].startswith(console)
        conn.compute.stop_server(active)
        wait_status(conn, active, "SHUTOFF")
        conn.compute.start_server(active)
        wait_status(conn, active, "ACTIVE")
        conn.compute.reboot_server(active, "SOFT")
        wait_status(conn, active, "ACTIVE")
        assert "soft reboot" in conn.compute.get_server_console_output(active)["output"]
        conn.compute.resize_server(active, conn.compute.find_flavor("m1.small").id)
        wait_status(conn, active, "VERIFY_RESIZE")
        conn.compute.confirm_server_resize(active)
        assert wait_status(conn, active, "ACTIVE").flavor["original_name"] == "m1.small"
        for name in ("stopped", "selfstop", "stopping"):
            conn.compute.start_server(servers[name])
            wait_status(conn, servers[name], "ACTIVE")
        for server in servers.values():
            conn.compute.delete_server(server)
        for server in servers.values():
            conn.compute.wait_for_delete(server, wait=60, interval=0.3)
        assert list(conn.network.ports(device_owner="compute:nova")) == []
        leftover = list((data_dir / "fake-hypervisor").rglob("*.json"))
        assert leftover == [], "guests outlived their servers"
        conn.close()
    finally:
        assert again.stop() == 0
