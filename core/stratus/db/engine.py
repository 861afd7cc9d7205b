"""Engines and sessions, one :class:`Database` per service.

SQLite gets WAL, foreign keys and a busy timeout on every connection; PostgreSQL and
MySQL get pooled connections that are pinged when they sat idle and are recycled, and on
PostgreSQL a reading session runs its statements without BEGIN and COMMIT (under its
default READ COMMITTED every statement takes its own snapshot in a transaction too, so
nothing but two round trips changes). Sessions are used as
transactions: ``with db.transaction() as session:`` commits on success and rolls back
on any exception, so a failed request never leaves a half-written row.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from stratus.exceptions import BackendUnavailable, ConfigError


def connection_url(conf: Any, service: str) -> str:
    """The URL ``service`` uses: ``[database] service_connections`` or ``connection``."""
    return conf.database.service_connections.get(service) or conf.database.connection


def _set_sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is bypassed so BEGIN is emitted by SQLAlchemy
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


READ_ONLY = "stratus_read_only"


class _Writers:
    """One SQLite file's writers in this process, queued on a lock before ``BEGIN IMMEDIATE``.

    SQLite makes a writer that finds the file locked sleep and retry (1, 2, 5 ... 100 ms),
    so under load most of a write's wait was sleeping after the lock was already free; a
    thread waiting here is woken the moment the writer before it ends. Writers in other
    processes still meet at SQLite's lock, and a writer that waited here longer than the
    busy timeout goes on to SQLite's own wait rather than hanging.
    """

    def __init__(self, busy_timeout_ms: int) -> None:
        self.lock = threading.Lock()
        self.timeout = busy_timeout_ms / 1000

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # a reader (Database.reading) begins deferred: WAL gives it a snapshot beside the writer
            conn.exec_driver_sql("BEGIN")
            return
        held = self.lock.acquire(timeout=self.timeout)
        try:
            # a writer takes the file's lock at BEGIN instead of on its first write, so two
            # read-then-write transactions wait for each other rather than failing mid-way
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                self.lock.release()
            raise
        conn.info["stratus_writer"] = held

    def end(self, conn: Any) -> None:
        if conn.info.pop("stratus_writer", False):
            self.lock.release()


#: per SQLite file: every service's engine on one file (the embedded cloud's) queues on one lock
_WRITERS: dict[str, _Writers] = {}


def _owner_only(*paths: str) -> None:
    """Take group and others' access away (SQLite makes -wal and -shm with the database's mode)."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode & 0o777
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
        except (FileNotFoundError, PermissionError):
            pass


def _json_loads(value: Any) -> Any:
    """A JSON column's value (SQLite hands back a bare JSON number as a number)."""
    if isinstance(value, (int, float)):
        return value
    return orjson.loads(value)


def create_engine(url: str, conf: Any | None = None) -> sa.Engine:
    """Create an engine for ``url`` with the pragmas and pool settings Stratus relies on.

    :raises ConfigError: the URL's database driver is not installed.
    """
    parsed = make_url(url)
    db = conf.database if conf is not None else None
    # JSON columns (a server's flavor, ports, request) are decoded for every row a list reads
    kwargs: dict[str, Any] = {"json_deserializer": _json_loads}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(database)), exist_ok=True)
        # every API, RPC and periodic thread of a process may hold one; they are cheap
        kwargs.update(connect_args={"check_same_thread": False}, pool_size=20, max_overflow=60)
    else:
        if db is not None:
            kwargs.update(
                pool_size=db.pool_size,
                max_overflow=db.max_overflow,
                pool_timeout=db.pool_timeout,
                pool_recycle=db.connection_recycle_time,
            )
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"database URL {parsed.render_as_string(hide_password=True)!r} needs a driver "
            f"that is not installed ({exc.name}); install stratus[postgresql] or stratus[mysql]"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        busy = db.sqlite_busy_timeout if db is not None else 30000
        event.listen(engine, "connect", _set_sqlite_pragmas(busy))
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            # it holds password hashes and users' data: the owner's alone. chmod, not an open and
            # close of the file: closing any descriptor of it would drop SQLite's POSIX locks
            path = os.path.abspath(parsed.database)
            event.listen(engine, "connect", lambda *_: _owner_only(path, f"{path}-wal", f"{path}-shm"))
        key = os.path.abspath(parsed.database) if parsed.database and parsed.database != ":memory:" else None
        writers = _Writers(busy) if key is None else _WRITERS.setdefault(key, _Writers(busy))
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)
    else:
        _ping_when_idle(engine)
    return engine


#: a pooled connection back in the pool for longer than this is pinged before it is used again
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle: one that a request gave back
    a moment ago is used without the extra round trip (SQLAlchemy's ``pool_pre_ping`` pings on
    every checkout: a sixth of a busy service's statements). A connection found dead makes the
    pool connect anew; one that died within the idle window fails its statement (the caller
    gets BackendUnavailable), which invalidates the pool as well."""
    def touched(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["stratus_returned"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("stratus_returned")
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # as pool_pre_ping: the database went away (or restarted), so every pooled
            # connection is suspect; the pool connects anew and the caller never sees it
            raise sa.exc.InvalidatePoolError(f"a pooled connection did not answer a ping: {exc}") from exc

    event.listen(engine, "connect", touched)
    event.listen(engine, "checkin", touched)
    event.listen(engine, "checkout", checkout)


_UNREACHABLE = ("connect", "unable to open database", "server has gone away", "lost connection")


@contextlib.contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Turn "cannot reach the database" into :class:`BackendUnavailable`; other errors pass."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        text = str(exc.orig).lower()
        if exc.connection_invalidated or any(marker in text for marker in _UNREACHABLE):
            first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            raise BackendUnavailable(f"database unavailable: {first_line}") from exc
        raise


class Database:
    """The engine and session factory of one service."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        readers = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            readers["isolation_level"] = "AUTOCOMMIT"
        self._readers = sessionmaker(bind=engine.execution_options(**readers), expire_on_commit=False)

    def on_commit_of_writes(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each committed transaction of :meth:`transaction` that wrote
        something (ORM changes or INSERT/UPDATE/DELETE statements)."""
        def wrote(session: Session, *_: Any) -> None:
            session.info["wrote"] = True

        def executed(state: Any) -> None:
            if state.is_insert or state.is_update or state.is_delete:
                state.session.info["wrote"] = True

        def committed(session: Session) -> None:
            if session.info.pop("wrote", False):
                callback()

        def rolled_back(session: Session, *_: Any) -> None:
            session.info.pop("wrote", None)

        sa.event.listen(self._sessions, "after_flush", wrote)
        sa.event.listen(self._sessions, "do_orm_execute", executed)
        sa.event.listen(self._sessions, "after_commit", committed)
        sa.event.listen(self._sessions, "after_rollback", rolled_back)

    @classmethod
    def for_service(cls, conf: Any, service: str) -> Database:
        return cls(create_engine(connection_url(conf, service), conf))

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        :raises BackendUnavailable: the database cannot be reached.
        """
        return self._begun(self._sessions)

    def reading(self) -> contextlib.AbstractContextManager[Session]:
        """A session in one transaction that only reads: on SQLite it does not take the
        write lock, so readers run beside a writer (each sees the last commit before it
        began). Writing in it may fail with "database is locked"; use :meth:`transaction`.

        :raises BackendUnavailable: the database cannot be reached.
        """
        return self._begun(self._readers)

    @staticmethod
    @contextlib.contextmanager
    def _begun(factory: sessionmaker) -> Iterator[Session]:
        session = factory()
        try:
            with unavailable_as_error(), session.begin():
                yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A connection in one transaction (for migrations and bulk work).

        :raises BackendUnavailable: the database cannot be reached.
        """
        with unavailable_as_error(), self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def service_base(service: str) -> type[DeclarativeBase]:
    """A declarative base whose metadata holds only ``service``'s tables."""
    naming = {
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
    return type(
        f"{service.title().replace('-', '')}Base",
        (DeclarativeBase,),
        {"metadata": sa.MetaData(naming_convention=naming), "__abstract__": True},
    )


def insert_unless_taken(session: Session, row: Any) -> bool:
    """Add ``row`` in a savepoint; False (and nothing added) if a unique key is already taken.

    The way to claim a scarce thing (an address, a segment id) exactly once when several
    transactions race for it: the database's unique constraint decides.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:
        return False
    return True
