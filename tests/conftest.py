"""Shared fixtures: configuration, the dummy driver distribution, and real backing services.

Real services (PostgreSQL, MariaDB, RabbitMQ on 127.0.0.1) are used when reachable and
skipped otherwise — unless ``STRATUS_TEST_REQUIRE`` names them (``postgresql,mysql,rabbitmq``),
as CI sets it, in which case an unreachable service fails the test instead.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from stratus import conf as stratus_conf
from stratus.testing import unavailable
from tests.fixtures import distribution

PG_ADMIN_URL = os.environ.get("STRATUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("STRATUS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql")
RABBIT_URL = os.environ.get("STRATUS_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672//")


def required(service: str) -> bool:
    return service in {s.strip() for s in os.environ.get("STRATUS_TEST_REQUIRE", "").split(",")}


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def conf(tmp_path):
    """A configuration reading no file, with state and SQLite under ``tmp_path``."""
    return stratus_conf.build([], overrides={
        "DEFAULT": {"state_path": str(tmp_path)},
        "database": {"connection": f"sqlite:///{tmp_path}/stratus.sqlite"},
    })


@pytest.fixture
def dummy_distribution(tmp_path_factory):
    """The ``stratus-dummy`` test distribution, installed for the duration of the test."""
    directory = str(tmp_path_factory.mktemp("site"))
    distribution.write_distribution(directory, "stratus-dummy", distribution.DUMMY_ENTRY_POINTS)
    with distribution.installed(directory):
        yield directory


def _throwaway_database(admin_url: str, service: str):
    import sqlalchemy as sa

    name = f"stratus_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # any driver error means the server is not usable here
        unavailable(service, str(exc).splitlines()[0])
    url = sa.engine.make_url(admin_url).set(database=name)
    if service == "mysql":
        url = url.update_query_dict({"charset": "utf8mb4"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql),
                        pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request, tmp_path):
    """A URL of an empty database of each kind: SQLite file, and throwaway PostgreSQL/MariaDB databases."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite"
    elif request.param == "postgresql":
        yield from _throwaway_database(PG_ADMIN_URL, "postgresql")
    else:
        yield from _throwaway_database(MYSQL_ADMIN_URL, "mysql")


def service_database(conf, db_url: str, service: str):
    """``service``'s database at ``db_url``, migrated, for a fixture to yield from (disposed after)."""
    from stratus.db import migration
    from stratus.db.engine import Database

    conf.set_override("connection", db_url, group="database")
    migration.sync(conf, [service])
    db = Database.for_service(conf, service)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def pg_url():
    """A throwaway PostgreSQL database (the test skips, or fails where required, without a server)."""
    yield from _throwaway_database(PG_ADMIN_URL, "postgresql")


@pytest.fixture
def rabbit_url():
    """The machine's RabbitMQ (guest/guest on 127.0.0.1:5672)."""
    if not port_open("127.0.0.1", 5672):
        unavailable("rabbitmq", "nothing listens on 127.0.0.1:5672")
    return RABBIT_URL


@pytest.fixture
def rabbit_vhost_url(rabbit_url):
    """The machine's RabbitMQ with a virtual host of this test's own (nothing it leaves behind,
    and no other process's topics, can meet another test's); deleted afterwards."""
    import shutil
    import subprocess

    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = f"stratus-test-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=60)
        subprocess.run([ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                       capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable("rabbitmq", f"cannot make a virtual host with rabbitmqctl: {exc}")
    yield rabbit_url.rstrip("/") + "/" + vhost
    subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB tmpfs, for what a full disk does (mounting needs root; skipped otherwise)."""
    import subprocess

    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=True)
