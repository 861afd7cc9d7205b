"""Engines, transactions and migrations on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import importlib
import threading

import pytest
import sqlalchemy as sa

from stratus.db import migration
from stratus.db.engine import Database, create_engine
from stratus.servicegroup.models import ServiceRecord
from stratus.servicegroup.registry import ServiceRegistry, utcnow


@pytest.fixture
def db_conf(conf, db_url):
    conf.set_override("connection", db_url, group="database")
    return conf


def test_sync_creates_each_service_table_and_is_idempotent(db_conf, db_url):
    heads = {service: migration.head(service) for service in migration.SERVICES}
    assert migration.status(db_conf) == {service: (None, head) for service, head in heads.items()}
    assert migration.sync(db_conf) == heads
    assert migration.sync(db_conf) == heads
    engine = create_engine(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"services", "alembic_version_servicegroup", "alembic_version_identity", "projects"} <= tables


def test_models_and_migrations_agree(db_conf, db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migration.sync(db_conf)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        for service, package in migration.SERVICES.items():
            metadata = importlib.import_module(f"{package}.models").Base.metadata

            def own(name, type_, parent_names, tables=frozenset(metadata.tables)):
                return type_ != "table" or name in tables

            context = MigrationContext.configure(connection, opts={"include_name": own})
            differences = compare_metadata(context, metadata)
            assert differences == [], f"{service}: models and migrations differ: {differences}"
    engine.dispose()


def test_a_service_can_live_in_its_own_database(db_conf, tmp_path):
    other = f"sqlite:///{tmp_path}/servicegroup.sqlite"
    db_conf.set_override("service_connections", {"servicegroup": other}, group="database")
    migration.sync(db_conf)
    engine = create_engine(other)
    assert "services" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_unknown_service_is_refused(db_conf):
    with pytest.raises(ValueError, match="unknown service"):
        migration.sync(db_conf, ["nova"])


def test_failed_transaction_leaves_nothing(db_conf):
    migration.sync(db_conf)
    db = Database.for_service(db_conf, "servicegroup")
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(ServiceRecord(uuid="u1", host="h", binary="b", topic="t", report_count=0,
                                  disabled=False, forced_down=False, created_at=utcnow()))
        session.flush()
        raise RuntimeError("fails after the write")
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceRecord)) == 0
    db.dispose()


def test_concurrent_heartbeats_of_one_service_make_one_record(db_conf):
    migration.sync(db_conf)
    db = Database.for_service(db_conf, "servicegroup")
    registry = ServiceRegistry(db, service_down_time=60)
    errors = []

    def beat():
        try:
            for _ in range(5):
                registry.heartbeat("host1", "nova-compute", "compute")
        except Exception as exc:  # collected: an exception in a thread would vanish
            errors.append(exc)

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    services = registry.list()
    assert len(services) == 1 and services[0].up
    with db.transaction() as session:
        assert session.scalar(sa.select(ServiceRecord.report_count)) == 20
    db.dispose()


def test_a_service_without_recent_heartbeat_is_down(db_conf):
    migration.sync(db_conf)
    db = Database.for_service(db_conf, "servicegroup")
    registry = ServiceRegistry(db, service_down_time=60)
    registry.heartbeat("host1", "nova-compute", "compute")
    with db.transaction() as session:
        session.execute(sa.update(ServiceRecord).values(last_seen_up=utcnow().replace(year=2000)))
    assert registry.list(binary="nova-compute")[0].up is False
    db.dispose()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/x.sqlite")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_files_are_the_owners_alone(tmp_path):
    import os
    import stat

    import sqlalchemy as sa

    from stratus.db.engine import create_engine

    older = tmp_path / "old.sqlite"
    older.touch(mode=0o644)
    os.chmod(older, 0o644)
    for path in (tmp_path / "new.sqlite", older):
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(sa.text("create table if not exists t (x int)"))
            connection.execute(sa.text("insert into t values (1)"))
        for made in tmp_path.glob(f"{path.name}*"):
            assert stat.S_IMODE(made.stat().st_mode) & 0o077 == 0, made
        engine.dispose()


def test_json_columns_hold_any_json_value_on_every_database(db_url):
    """Documents, lists and bare numbers and strings come back as written (SQLite keeps a bare
    JSON number as a number, which the decoder must take as it is)."""
    engine = create_engine(db_url)
    table = sa.Table("json_values", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("value", sa.JSON))
    values = [{"a": [1, 2.5, None, "é"]}, [True, {"b": {}}], 5, 2.5, "text", True]
    try:
        table.create(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), [{"id": i, "value": v} for i, v in enumerate(values, start=1)])
        with engine.connect() as connection:
            found = [row.value for row in connection.execute(sa.select(table).order_by(table.c.id))]
        assert found == values
    finally:
        table.drop(engine, checkfirst=True)
        engine.dispose()


def _backend_id(connection: sa.Connection) -> int:
    query = "SELECT pg_backend_pid()" if connection.dialect.name == "postgresql" else "SELECT CONNECTION_ID()"
    return connection.exec_driver_sql(query).scalar_one()


def _drop_backend(url: str, backend: int) -> None:
    """End a connection from the server's side, as a database restart or an idle timeout does."""
    admin = create_engine(url)
    try:
        with admin.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
            else:
                connection.exec_driver_sql(f"KILL {int(backend)}")
    finally:
        admin.dispose()


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "just-returned"])
def test_a_pooled_connection_the_server_dropped(db_url, monkeypatch, idle):
    """A pooled connection that sat idle is pinged and replaced unseen; one given back a moment
    ago is used without a ping, so a drop in that window fails one statement as unavailable,
    and the pool's next connection is a new one."""
    from stratus.db import engine as engine_module
    from stratus.exceptions import BackendUnavailable

    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to drop a connection")
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0 if idle else 3600.0)
    db = Database(create_engine(db_url))
    try:
        with db.transaction() as session:
            backend = _backend_id(session.connection())
        _drop_backend(db_url, backend)
        if not idle:
            with pytest.raises(BackendUnavailable), db.reading() as session:
                session.execute(sa.text("SELECT 1"))
        with db.reading() as session:
            assert _backend_id(session.connection()) != backend
    finally:
        db.dispose()


@pytest.mark.postgresql
def test_reading_on_postgresql_opens_no_transaction(db_url):
    """Under PostgreSQL's READ COMMITTED each statement takes its own snapshot, in a transaction
    or not; a reading session sends its statements without BEGIN and COMMIT, writers still
    get their transaction."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    db = Database(create_engine(db_url))
    try:
        with db.reading() as session:
            session.execute(sa.text("SELECT 1"))
            assert session.connection().connection.dbapi_connection.info.transaction_status.name == "IDLE"
        with db.transaction() as session:
            session.execute(sa.text("SELECT 1"))
            assert session.connection().connection.dbapi_connection.info.transaction_status.name == "INTRANS"
    finally:
        db.dispose()
