"""Public test helpers for the core's tests and for driver packages' own tests."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from stratus.loading import installed_drivers

__all__ = ["EmbeddedCloud", "ProcessCloud", "installed_drivers"]


class EmbeddedCloud:
    """``stratus up`` in a subprocess with ``config`` as its stratus.conf, for end-to-end tests
    of a driver: ``base_url``, ``clouds_yaml`` (cloud ``stratus``), and :meth:`stop`.
    ``defaults=False``: without the default network and image (tests that count objects)."""

    def __init__(self, data_dir: Path, config: str, timeout: float = 60, defaults: bool = True) -> None:
        self.data_dir = data_dir
        (data_dir / "stratus.conf").write_text(config)
        self.clouds_yaml = str(data_dir / "clouds.yaml")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stratus.cmd.cli", "--config-file", str(data_dir / "stratus.conf"), "up",
             "--port", "0", "--data-dir", str(data_dir), *([] if defaults else ["--no-defaults"])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout or ()), daemon=True).start()
        deadline = time.monotonic() + timeout
        while "token issue" not in "".join(self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("stratus up did not start:\n" + "".join(self.lines))
            time.sleep(0.05)
        found = re.search(r"http://[\d.]+:\d+", "".join(self.lines))
        assert found is not None
        self.base_url = found.group(0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Process:
    """A ``stratus`` command in a subprocess whose output is collected by a thread."""

    def __init__(self, args: list[str], ready: str, timeout: float, name: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "stratus.cmd.cli", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout or ()), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not re.search(ready, "".join(self.lines)):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"stratus {name} did not start:\n" + "".join(self.lines))
            time.sleep(0.05)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class ProcessCloud:
    """The many-hosts shape on one machine: ``stratus api`` (``api_workers`` gunicorn workers),
    ``stratus scheduler``, ``stratus conductor`` and one ``stratus compute`` per entry of ``compute_hosts`` (its
    host name and how many hosts it simulates), on ``database_url`` and ``transport_url``
    (a broker). The compute processes get a configuration of their own without the database
    (compute's state through the conductor, images and ports through the APIs as the admin).
    ``rest_clients``: the scheduler and conductor are configured to reach identity, image and
    network through their REST APIs as well; the api process serves those APIs itself, so its
    clients stay in-process (separate API processes per service: docs/split-services.md).
    ``extra`` is appended to both generated configurations. Gives ``base_url``,
    ``clouds_yaml`` (cloud ``stratus``, user admin) and :meth:`stop`."""

    def __init__(self, data_dir: Path, database_url: str, transport_url: str, *, api_workers: int = 2,
                 compute_hosts: tuple[tuple[str, int], ...] = (("compute", 1),), extra: str = "",
                 rest_clients: bool = False, timeout: float = 120) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        credentials = (
            f"[service_credentials]\nauth_type = password\nauth_url = {self.base_url}/identity\nusername = admin\n"
            "password = admin-pw\nproject_name = admin\nuser_domain_name = Default\nproject_domain_name = Default\n")
        clients = "[image_client]\nmode = rest\n[network_client]\nmode = rest\n"
        between = f"{clients}[identity_client]\nmode = rest\n{credentials}" if rest_clients else ""
        conf = data_dir / "stratus.conf"
        conf.write_text(f"[DEFAULT]\nstate_path = {data_dir}\n[database]\nconnection = {database_url}\n"
                        f"[messaging]\ntransport_url = {transport_url}\n[api]\nworkers = {api_workers}\n"
                        f"port = {port}\n{between}{extra}")
        base = ["--config-file", str(conf)]
        for command in (["manage", "token-keys", "setup"], ["manage", "db", "sync"],
                        ["manage", "bootstrap", "--password", "admin-pw", "--public-url", self.base_url]):
            done = subprocess.run([sys.executable, "-m", "stratus.cmd.cli", *base, *command], capture_output=True,
                                  text=True, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"stratus {' '.join(command)} failed: {done.stderr}")
        host_conf = data_dir / "compute-host.conf"
        host_conf.write_text(f"[DEFAULT]\nstate_path = {data_dir}\n[messaging]\ntransport_url = {transport_url}\n"
                             f"{clients}{credentials}{extra}")
        self.clouds_yaml = str(data_dir / "clouds.yaml")
        Path(self.clouds_yaml).write_text(
            "clouds:\n  stratus:\n    auth:\n"
            f"      auth_url: {self.base_url}/identity\n      username: admin\n      password: admin-pw\n"
            "      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n"
            "    region_name: RegionOne\n    identity_api_version: 3\n")
        self.processes: list[_Process] = []
        try:
            self.processes.append(_Process([*base, "api"], r"http://[\d.]+:\d+", timeout, "api"))
            self.processes.append(_Process([*base, "scheduler"], "serving over", timeout, "scheduler"))
            self.processes.append(_Process([*base, "conductor"], "serving over", timeout, "conductor"))
            for host, count in compute_hosts:
                with_count = ["--config-file", str(host_conf), "compute", "--host", host]
                if count > 1:
                    override = data_dir / f"{host}.conf"
                    override.write_text(f"[compute]\nsimulated_hosts = {count}\n")
                    with_count = ["--config-file", str(host_conf), "--config-file", str(override), "compute",
                                  "--host", host]
                self.processes.append(_Process(with_count, "serving over", timeout, f"compute --host {host}"))
        except Exception:
            self.stop()
            raise

    def stop(self) -> list[int]:
        """Stop every process (computes first); their exit codes, the API's first."""
        return list(reversed([p.stop() for p in reversed(self.processes)]))
