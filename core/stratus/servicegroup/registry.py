"""Writing heartbeats and deciding who is up."""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.servicegroup.models import ServiceRecord

LOG = logging.getLogger(__name__)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    uuid: str
    host: str
    binary: str
    topic: str
    disabled: bool
    disabled_reason: str | None
    forced_down: bool
    last_seen_up: datetime.datetime | None
    up: bool


class ServiceRegistry:
    def __init__(self, db: Database, service_down_time: float) -> None:
        self.db = db
        self.service_down_time = service_down_time

    def heartbeat(self, host: str, binary: str, topic: str) -> None:
        """Record that ``binary`` on ``host`` is alive; creates its record the first time.

        Safe when two processes register the same service at once: the loser of the insert
        race updates the winner's row.
        """
        now = utcnow()
        values = {"report_count": ServiceRecord.report_count + 1, "last_seen_up": now, "updated_at": now}
        where = (ServiceRecord.host == host) & (ServiceRecord.binary == binary)
        with self.db.transaction() as session:
            if session.execute(sa.update(ServiceRecord).where(where).values(values)).rowcount:
                return
        try:
            with self.db.transaction() as session:
                session.add(
                    ServiceRecord(
                        uuid=str(uuid.uuid4()), host=host, binary=binary, topic=topic, report_count=1,
                        disabled=False, forced_down=False, created_at=now, last_seen_up=now,
                    )
                )
        except sa.exc.IntegrityError:
            with self.db.transaction() as session:
                session.execute(sa.update(ServiceRecord).where(where).values(values))

    def heartbeat_many(self, hosts: list[str], binary: str, topic: str) -> None:
        """:meth:`heartbeat` for many hosts of one process at once (simulated hosts)."""
        now = utcnow()
        values = {"report_count": ServiceRecord.report_count + 1, "last_seen_up": now, "updated_at": now}
        for start in range(0, len(hosts), 500):
            chunk = hosts[start:start + 500]
            with self.db.transaction() as session:
                session.execute(sa.update(ServiceRecord).where(ServiceRecord.binary == binary,
                                                               ServiceRecord.host.in_(chunk)).values(values))
                known = set(session.scalars(sa.select(ServiceRecord.host).where(
                    ServiceRecord.binary == binary, ServiceRecord.host.in_(chunk))))
            for host in chunk:
                if host not in known:
                    self.heartbeat(host, binary, topic)  # the first time: its own race-safe insert

    def is_up(self, record: ServiceRecord, now: datetime.datetime | None = None) -> bool:
        return self._up(record.forced_down, record.last_seen_up, now or utcnow())

    def _up(self, forced_down: bool, last_seen_up: datetime.datetime | None, now: datetime.datetime) -> bool:
        if forced_down or last_seen_up is None:
            return False
        return (now - last_seen_up).total_seconds() <= self.service_down_time

    def list(self, binary: str | None = None, host: str | None = None) -> list[ServiceStatus]:
        asked = {**({"b_binary": binary} if binary else {}), **({"b_host": host} if host else {})}
        now = utcnow()
        with self.db.reading() as session:
            return [ServiceStatus(*row, self._up(row.forced_down, row.last_seen_up, now))
                    for row in session.execute(_listing(bool(binary), bool(host)), asked)]


@functools.cache
def _listing(by_binary: bool, by_host: bool) -> sa.Select[Any]:
    """The services' statuses, of one binary and host when told: built once (the scheduler and
    every delete ask)."""
    r = ServiceRecord
    query = sa.select(r.uuid, r.host, r.binary, r.topic, r.disabled, r.disabled_reason, r.forced_down,
                      r.last_seen_up).order_by(r.id)
    if by_binary:
        query = query.where(r.binary == sa.bindparam("b_binary"))
    if by_host:
        query = query.where(r.host == sa.bindparam("b_host"))
    return query


class Heartbeat:
    """A daemon thread calling :meth:`ServiceRegistry.heartbeat` every ``interval`` seconds.

    A failed heartbeat (database away) is logged and retried at the next interval; the
    service is then seen as down by others, which is the truth.
    """

    def __init__(self, registry: ServiceRegistry, host: str, binary: str, topic: str, interval: float) -> None:
        self.registry = registry
        self.args = (host, binary, topic)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.args[1]}", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        try:
            self.registry.heartbeat(*self.args)
        except Exception:
            LOG.exception("heartbeat of %s on %s failed", self.args[1], self.args[0])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def stop(self, timeout: float | None = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def registry_from_conf(conf: Any, db: Database) -> ServiceRegistry:
    return ServiceRegistry(db, conf.service.service_down_time)
