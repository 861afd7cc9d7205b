"""A single-node Swift (memcached, account/container/object servers, proxy) on 127.0.0.1,
built in a temporary directory by the tests and stopped by them.

Debian's swift packages provide the servers; they read the hash prefix/suffix from
``/etc/swift/swift.conf`` and everything else from the directory given here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

SERVERS = ("object", "container", "account")
TEMPAUTH_USER, TEMPAUTH_KEY = "test:tester", "testing"


def available() -> str | None:
    """Why Swift cannot run here, or None."""
    for program in ("swift-proxy-server", "swift-object-server", "swift-ring-builder", "memcached"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian packages swift-proxy, swift-object, memcached)"
    if not os.access("/etc/swift/swift.conf", os.R_OK):
        return "/etc/swift/swift.conf (hash prefix/suffix) is missing"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Swift:
    """``auth_pipeline`` is the proxy's auth part: tempauth by default, or keystone
    (``authtoken keystoneauth``) given ``keystone`` = {auth_url, username, password, project}."""

    def __init__(self, base: str, keystone: dict[str, str] | None = None) -> None:
        self.base = Path(base)
        self.keystone = keystone
        self.ports = {name: free_port() for name in (*SERVERS, "proxy", "memcached")}
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth/v1.0"

    def _write_configs(self) -> None:
        etc, devices = self.base / "etc", self.base / "node"
        (devices / "d1").mkdir(parents=True, exist_ok=True)
        etc.mkdir(parents=True, exist_ok=True)
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        for name in SERVERS:
            builder = str(etc / f"{name}.builder")
            for args in (["create", "8", "1", "0"], ["add", f"r1z1-127.0.0.1:{self.ports[name]}/d1", "100"],
                         ["rebalance"]):
                subprocess.run(["swift-ring-builder", builder, *args], capture_output=True, check=False)
            (etc / f"{name}-server.conf").write_text(
                f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {self.ports[name]}\nworkers = 0\n"
                f"devices = {devices}\nmount_check = false\nuser = {user}\ndisable_fallocate = true\n"
                f"swift_dir = {etc}\nlog_level = WARNING\n\n[pipeline:main]\npipeline = healthcheck {name}-server\n\n"
                f"[app:{name}-server]\nuse = egg:swift#{name}\n\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n")
        if self.keystone:
            k = self.keystone
            auth = "authtoken keystoneauth"
            filters = (f"[filter:authtoken]\npaste.filter_factory = keystonemiddleware.auth_token:filter_factory\n"
                       f"www_authenticate_uri = {k['auth_url']}\nauth_url = {k['auth_url']}\nauth_type = password\n"
                       f"username = {k['username']}\npassword = {k['password']}\nproject_name = {k['project']}\n"
                       "user_domain_name = Default\nproject_domain_name = Default\ndelay_auth_decision = false\n"
                       f"memcached_servers = 127.0.0.1:{self.ports['memcached']}\n\n"
                       "[filter:keystoneauth]\nuse = egg:swift#keystoneauth\noperator_roles = admin, member\n")
        else:
            auth = "tempauth"
            filters = (f"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {TEMPAUTH_KEY} .admin\n"
                       "storage_url_scheme = default\n")
        (etc / "proxy-server.conf").write_text(
            f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {self.ports['proxy']}\nworkers = 0\nuser = {user}\n"
            f"swift_dir = {etc}\nlog_level = WARNING\n\n[pipeline:main]\n"
            f"pipeline = catch_errors gatekeeper healthcheck cache listing_formats {auth} copy slo proxy-server\n\n"
            "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\n\n"
            f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{self.ports['memcached']}\n\n"
            "[filter:catch_errors]\nuse = egg:swift#catch_errors\n[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n"
            "[filter:healthcheck]\nuse = egg:swift#healthcheck\n[filter:listing_formats]\n"
            "use = egg:swift#listing_formats\n[filter:copy]\nuse = egg:swift#copy\n[filter:slo]\n"
            f"use = egg:swift#slo\n\n{filters}")

    def _spawn(self, args: list[str], name: str) -> None:
        log = open(self.base / f"{name}.log", "wb")  # noqa: SIM115 - kept open while the server runs
        self.processes.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def start(self, timeout: float = 60) -> None:
        self._write_configs()
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        self._spawn(["memcached", "-l", "127.0.0.1", "-p", str(self.ports["memcached"]), "-U", "0", "-m", "64",
                     "-u", user], "memcached")
        for name in (*SERVERS, "proxy"):
            self._spawn([f"swift-{name}-server", str(self.base / "etc" / f"{name}-server.conf"), "-v"], name)
        deadline = time.monotonic() + timeout
        for name in (*SERVERS, "proxy"):
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[name]}/healthcheck", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop()
                        logs = (self.base / f"{name}.log").read_text(errors="replace")[-2000:]
                        raise RuntimeError(f"swift {name} server did not come up:\n{logs}") from None
                    time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
