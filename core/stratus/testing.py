"""Public test helpers for the core's tests and for driver packages' own tests."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from stratus.loading import installed_drivers

__all__ = ["EmbeddedCloud", "ProcessCloud", "connect", "installed_drivers", "rabbitmq_vhost",
           "throwaway_postgresql", "unavailable"]


def connect(clouds_yaml: str):  # -> openstack.connection.Connection (openstacksdk: a test dependency)
    """openstacksdk connected as the admin of the cloud ``clouds_yaml`` (cloud ``stratus``) names."""
    import openstack

    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    return openstack.connection.Connection(config=config.get_one("stratus"))


def unavailable(service: str, reason: str | None) -> None:
    """For a test that needs ``service``: nothing when ``reason`` is None; otherwise skip with the
    reason, or fail when ``STRATUS_TEST_REQUIRE`` (comma-separated) names the service, as CI sets it."""
    import os

    import pytest

    if reason is None:
        return
    if service in {s.strip() for s in os.environ.get("STRATUS_TEST_REQUIRE", "").split(",")}:
        pytest.fail(f"{service} is required (STRATUS_TEST_REQUIRE) but unavailable: {reason}")
    pytest.skip(f"{service} unavailable: {reason}")


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

    def connect(self):  # -> openstack.connection.Connection
        """openstacksdk connected to the cloud as its admin."""
        return connect(self.clouds_yaml)


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


#: the services ``ProcessCloud(split=True)`` serves from an API process each, in start order
SPLIT_SERVICES = ("identity", "image", "network", "compute")


class ProcessCloud:
    """The many-hosts shape on one machine: ``stratus api`` (``api_workers`` gunicorn workers),
    ``stratus scheduler``, ``stratus conductor`` and one ``stratus compute`` per entry of ``compute_hosts`` (its
    host name and how many hosts it simulates), on ``database_url`` and ``transport_url``
    (a broker). The compute processes get a configuration of their own without the database
    (compute's state through the conductor, images and ports through the APIs as the admin).
    ``split``: docs/split-services.md's shape instead of one API process: identity, image,
    network and compute each served by an API process of its own (``api_workers`` each, its own
    port and catalog endpoints), every service reaching the others through their REST APIs
    with the admin as service user (``database_urls`` may give each service its own database;
    the others use ``database_url``).
    ``extra`` is appended to every generated configuration. Gives ``base_url`` (the identity
    API's root), ``urls`` (service name -> the root serving its API), ``clouds_yaml`` (cloud
    ``stratus``, user admin) and :meth:`stop`."""

    def __init__(self, data_dir: Path, database_url: str, transport_url: str, *, api_workers: int = 2,
                 compute_hosts: tuple[tuple[str, int], ...] = (("compute", 1),), extra: str = "",
                 split: bool = False, database_urls: dict[str, str] | None = None, timeout: float = 120) -> None:
        ports = {name: _free_port() for name in SPLIT_SERVICES} if split else dict.fromkeys(SPLIT_SERVICES,
                                                                                              _free_port())
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        self.base_url = self.urls["identity"]
        credentials = (
            f"[service_credentials]\nauth_type = password\nauth_url = {self.base_url}/identity\nusername = admin\n"
            "password = admin-pw\nproject_name = admin\nuser_domain_name = Default\nproject_domain_name = Default\n")
        clients = "[image_client]\nmode = rest\n[network_client]\nmode = rest\n"
        common = f"[DEFAULT]\nstate_path = {data_dir}\n[messaging]\ntransport_url = {transport_url}\n"
        host_conf = data_dir / "compute-host.conf"
        host_conf.write_text(f"{common}{clients}{credentials}{extra}")
        conf = data_dir / "stratus.conf"
        if split:
            conf.write_text(f"{common}{clients}[identity_client]\nmode = rest\n[compute_client]\nmode = rest\n"
                            f"{credentials}{extra}")
            own = {name: [*_conf_files(conf), *_conf_files(self._service_conf(
                data_dir, name, (database_urls or {}).get(name, database_url), ports[name], api_workers))]
                for name in SPLIT_SERVICES}
        else:
            conf.write_text(f"{common}[database]\nconnection = {database_url}\n[api]\nworkers = {api_workers}\n"
                            f"port = {ports['compute']}\n{extra}")
            own = dict.fromkeys(SPLIT_SERVICES, _conf_files(conf))
        syncs = [(n, ["manage", "db", "sync", "--service", n]) for n in SPLIT_SERVICES] + [
            ("compute", ["manage", "db", "sync", "--service", "servicegroup"])] if split else [
            ("identity", ["manage", "db", "sync"])]
        for name, command in (("identity", ["manage", "token-keys", "setup"]), *syncs,
                              ("identity", ["manage", "bootstrap", "--password", "admin-pw", "--public-url",
                                            self.base_url])):
            done = subprocess.run([sys.executable, "-m", "stratus.cmd.cli", *own[name], *command],
                                  capture_output=True, text=True, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"stratus {' '.join(command)} failed: {done.stderr}")
        self.clouds_yaml = str(data_dir / "clouds.yaml")
        Path(self.clouds_yaml).write_text(
            "clouds:\n  stratus:\n    auth:\n"
            f"      auth_url: {self.base_url}/identity\n      username: admin\n      password: admin-pw\n"
            "      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n"
            "    region_name: RegionOne\n    identity_api_version: 3\n")
        self.processes: list[_Process] = []
        try:
            for name in SPLIT_SERVICES if split else ("identity",):
                self.processes.append(_Process([*own[name], "api"], r"http://[\d.]+:\d+", timeout,
                                               f"api ({name})" if split else "api"))
                if split and name == "identity":
                    self._point_catalog()
            self.processes.append(_Process([*own["compute"], "scheduler"], "serving over", timeout, "scheduler"))
            self.processes.append(_Process([*own["compute"], "conductor"], "serving over", timeout, "conductor"))
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

    @staticmethod
    def _service_conf(data_dir: Path, name: str, database_url: str, port: int, workers: int) -> Path:
        path = data_dir / f"{name}.conf"
        path.write_text(f"[database]\nconnection = {database_url}\n[api]\nservices = {name}\nport = {port}\n"
                        f"workers = {workers}\n")
        return path

    def _point_catalog(self) -> None:
        """Move the bootstrap's endpoints of the services served elsewhere to their processes,
        through the identity API (as the guide does with ``openstack endpoint set``)."""
        from stratus import registry
        from stratus.defaults import admin_token, call

        token = admin_token(self.base_url, "admin-pw")
        identity = f"{self.base_url}/identity/v3"
        types = {t: s.name for s in registry.SERVICES if s.catalog is not None
                 for t in (s.catalog.type, *(alias for alias, _ in s.catalog.aliases))}
        services = {s["id"]: s["type"] for s in call("GET", f"{identity}/services", token)[0]["services"]}
        for endpoint in call("GET", f"{identity}/endpoints", token)[0]["endpoints"]:
            served_by = types.get(services.get(endpoint["service_id"], ""))
            if served_by in self.urls and endpoint["url"].startswith(self.base_url):
                url = self.urls[served_by] + endpoint["url"][len(self.base_url):]
                call("PATCH", f"{identity}/endpoints/{endpoint['id']}", token, {"endpoint": {"url": url}})

    def stop(self) -> list[int]:
        """Stop every process (computes first); their exit codes, the API's first."""
        return list(reversed([p.stop() for p in reversed(self.processes)]))


def _conf_files(*paths: Path) -> list[str]:
    return [arg for path in paths for arg in ("--config-file", str(path))]


@contextlib.contextmanager
def throwaway_postgresql(admin_url: str, prefix: str = "stratus") -> Iterator[str]:
    """A new database on the PostgreSQL server ``admin_url`` reaches (as a role that may
    create databases), its URL, dropped afterwards with any connection left to it.

    :raises sqlalchemy.exc.OperationalError: the server cannot be reached.
    """
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        admin.dispose()


@contextlib.contextmanager
def rabbitmq_vhost(url: str, prefix: str = "stratus") -> Iterator[str]:
    """A new virtual host on this machine's RabbitMQ (``rabbitmqctl``; user ``guest`` may use
    it), ``url`` pointing at it, deleted afterwards.

    :raises OSError, subprocess.SubprocessError: rabbitmqctl is missing or failed.
    """
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    try:
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                       capture_output=True, timeout=60)
        yield url.rstrip("/") + "/" + vhost
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)
