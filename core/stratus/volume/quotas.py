"""Block-storage quotas: volumes, snapshots, gigabytes, backups; counted, never cached.

A create takes its project's lock row (:mod:`stratus.db.locks`), counts what the project
holds and adds its row in the same transaction, so concurrent creates cannot pass a limit
together. Volumes and snapshots in ``error`` count, as in Cinder, until deleted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db.engine import Database
from stratus.db.locks import lock_project
from stratus.exceptions import StratusError
from stratus.volume import models


class OverLimit(StratusError):
    """A volume quota would be exceeded: 413, as Cinder answers (``overLimit``)."""

    http_status = 413
    title = "Request Entity Too Large"


#: the resources ``os-quota-sets`` shows, with the ``[volume]`` option of each default
RESOURCES = {"volumes": "quota_volumes", "snapshots": "quota_snapshots", "gigabytes": "quota_gigabytes",
             "backups": "quota_backups", "backup_gigabytes": "quota_backup_gigabytes",
             "groups": "quota_groups", "per_volume_gigabytes": "per_volume_size_limit"}


def defaults(conf: Any) -> dict[str, int]:
    return {resource: int(conf.volume[option]) for resource, option in RESOURCES.items()}


def limits(session: Session, conf: Any, project_id: str) -> dict[str, int]:
    """The project's limits: its own where set, else the configured defaults."""
    found = defaults(conf)
    for row in session.scalars(sa.select(models.QuotaLimit).where(models.QuotaLimit.project_id == project_id)):
        if row.resource in found:
            found[row.resource] = row.hard_limit
    return found


def usage(session: Session, project_id: str) -> dict[str, int]:
    volumes = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(models.Volume.size), 0))
                              .where(models.Volume.project_id == project_id)).one()
    snapshots = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(models.Snapshot.size), 0))
                                .where(models.Snapshot.project_id == project_id)).one()
    return {"volumes": int(volumes[0]), "snapshots": int(snapshots[0]),
            "gigabytes": int(volumes[1]) + int(snapshots[1]), "backups": 0, "backup_gigabytes": 0, "groups": 0}


def check(db: Database, session: Session, conf: Any, project_id: str, wanted: dict[str, int]) -> None:
    """Take the project's lock, then :raises OverLimit: holding ``wanted`` more
    (``volumes``, ``snapshots``, ``gigabytes``) would pass one of its limits (Cinder's words)."""
    limit = limits(session, conf, project_id)
    per_volume = limit["per_volume_gigabytes"]
    size = wanted.get("size")
    if size is not None and 0 <= per_volume < size:
        raise OverLimit(f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum "
                            f"allowed limit {per_volume}G.")
    wanted = {r: v for r, v in wanted.items() if r != "size" and v}
    if all(limit[r] < 0 for r in wanted):
        return
    lock_project(db, session, models.QuotaLock, project_id)
    used = usage(session, project_id)
    for resource, more in wanted.items():
        if 0 <= limit[resource] < used[resource] + more:
            if resource == "gigabytes":
                raise OverLimit(f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds "
                                    f"allowed gigabytes quota. Requested {more}G, quota is {limit[resource]}G "
                                    f"and {used[resource]}G has been consumed.")
            kind = {"volumes": "VolumeLimitExceeded", "snapshots": "SnapshotLimitExceeded"}.get(resource, "")
            raise OverLimit(f"{kind}: Maximum number of {resource} allowed ({limit[resource]}) exceeded for "
                                f"quota '{resource}'.")
