"""The volume scheduler (``cinder-scheduler``): picks a pool for each new volume and claims
room on it.

The API casts it each volume it has recorded (``creating``). It considers the pools of
volume services that are up and enabled, keeps those that pass every filter — the
volume's availability zone, the type's ``volume_backend_name``, ``multiattach``, the
backend a snapshot or source volume lives on, and capacity — ranks them by the room they
have left (Cinder's capacity weigher) and claims the best with a conditional UPDATE: a
claim that lost a race to another scheduler makes it try the next pool, so pools are never
promised past their capacity. The volume then goes to that pool's volume service; if no
pool fits it goes to ``error`` with the reason, as in Cinder.

Capacity: a pool may hold ``total * (1 - reserved%)`` GiB of volumes, times its
``max_over_subscription_ratio`` when it provisions thinly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.rpc import RPCClient, RPCServer
from stratus.servicegroup.registry import Heartbeat, registry_from_conf
from stratus.volume import models, states
from stratus.volume.models import utcnow
from stratus.volume.topics import SCHEDULER_BINARY, SCHEDULER_TOPIC, VOLUME_BINARY, VOLUME_TOPIC

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What the volume needs of a pool."""

    size: int
    availability_zone: str | None = None
    backend_name: str | None = None
    multiattach: bool = False
    #: ``<host>@<backend>`` a snapshot or source volume lives on: the only place to make it
    backend_host: str | None = None

    @classmethod
    def of(cls, session: Any, volume: models.Volume) -> Request:
        source_host = None
        if volume.snapshot_id:
            snapshot = session.get(models.Snapshot, volume.snapshot_id)
            parent = session.get(models.Volume, snapshot.volume_id) if snapshot is not None else None
            source_host = parent.backend_host if parent is not None else None
        elif volume.source_volid:
            parent = session.get(models.Volume, volume.source_volid)
            source_host = parent.backend_host if parent is not None else None
        return cls(size=volume.size, availability_zone=volume.availability_zone,
                   backend_name=volume.volume_type.specs.get("volume_backend_name"),
                   multiattach=volume.multiattach or volume.volume_type.specs.get("multiattach") == "<is> True",
                   backend_host=source_host)


def capacity(pool: models.Pool) -> float:
    """GiB of volumes the pool may hold in all."""
    usable = pool.total_gb * (1 - pool.reserved_percentage / 100)
    return usable * pool.max_over_subscription_ratio if pool.thin_provisioning else usable


def why_not(pool: models.Pool, request: Request) -> str | None:
    """Why ``pool`` cannot take the volume (None: it can)."""
    if request.backend_host and pool.host != request.backend_host:
        return "not where the source lives"
    if request.availability_zone and pool.availability_zone != request.availability_zone:
        return f"in zone {pool.availability_zone}"
    if request.backend_name and pool.volume_backend_name != request.backend_name:
        return f"backend {pool.volume_backend_name}"
    if request.multiattach and not pool.multiattach:
        return "no multiattach"
    if pool.allocated_gb + request.size > capacity(pool):
        return "not enough capacity"
    if not pool.thin_provisioning and pool.free_gb * (1 - pool.reserved_percentage / 100) < request.size:
        return "not enough free space"
    return None


class VolumeScheduler:
    """The RPC endpoint of topic ``volume-scheduler``."""

    def __init__(self, conf: Any, db: Database, transport: Any, host: str) -> None:
        self.conf, self.db, self.transport, self.host = conf, db, transport, host
        self.services_db = Database.for_service(conf, "servicegroup")
        self.registry = registry_from_conf(conf, self.services_db)
        self.volumes = RPCClient(transport, VOLUME_TOPIC)
        self._heartbeat = Heartbeat(self.registry, host, SCHEDULER_BINARY, SCHEDULER_TOPIC,
                                    conf.service.report_interval)
        self.server: RPCServer | None = None

    def start(self) -> None:
        self.server = RPCServer(self.transport, SCHEDULER_TOPIC, self.host, [self], workers=4)
        self.server.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()
        if self.server is not None:
            self.server.stop()
        self.volumes.close()
        self.services_db.dispose()

    def _serving(self) -> set[str]:
        return {s.host for s in self.registry.list(binary=VOLUME_BINARY) if s.up and not s.disabled}

    def place(self, request: Request) -> str:
        """Claim room for ``request`` on the best pool that fits; its name.

        :raises NoValidBackend: none fits (the message says why, pool by pool).
        """
        serving = self._serving()
        reasons: list[str] = []
        with self.db.reading() as session:
            pools = list(session.scalars(sa.select(models.Pool)))
        candidates = []
        for pool in pools:
            reason = "its volume service is down or disabled" if pool.host not in serving else why_not(pool, request)
            if reason:
                reasons.append(f"{pool.name}: {reason}")
            else:
                candidates.append(pool)
        candidates.sort(key=lambda p: (capacity(p) - p.allocated_gb, p.free_gb), reverse=True)
        for pool in candidates:
            limit = capacity(pool)
            with self.db.transaction() as session:
                claimed = session.execute(sa.update(models.Pool).where(
                    models.Pool.name == pool.name,
                    models.Pool.allocated_gb + request.size <= limit,
                ).values(allocated_gb=models.Pool.allocated_gb + request.size)).rowcount
            if claimed:
                return pool.name
            reasons.append(f"{pool.name}: filled meanwhile")
        raise NoValidBackend("No valid backend was found. " + ("; ".join(reasons) if reasons else
                                                                "No volume service has reported a pool."))

    # -- RPC ---------------------------------------------------------------------------

    def create_volume(self, context: Any, volume_id: str) -> None:
        """Place the ``creating`` volume and cast it to its pool's volume service, or set it
        to ``error`` saying why nothing fits."""
        with self.db.reading() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None or volume.status != states.CREATING or volume.host:
                return
            request = Request.of(session, volume)
        try:
            pool = self.place(request)
        except NoValidBackend as exc:
            LOG.info("volume %s: %s", volume_id, exc)
            with self.db.transaction() as session:
                session.execute(sa.update(models.Volume).where(models.Volume.id == volume_id).values(
                    status=states.ERROR, error=str(exc), updated_at=utcnow()))
            return
        with self.db.transaction() as session:
            placed = session.execute(sa.update(models.Volume).where(
                models.Volume.id == volume_id, models.Volume.host.is_(None)).values(
                host=pool, updated_at=utcnow())).rowcount
            if not placed:  # deleted (or placed by another scheduler) meanwhile: give the room back
                session.execute(sa.update(models.Pool).where(models.Pool.name == pool).values(
                    allocated_gb=models.Pool.allocated_gb - request.size))
                return
        self.volumes.cast(context, "create_volume", server=pool.partition("#")[0], volume_id=volume_id)


class NoValidBackend(Exception):
    """No pool can take the volume."""
