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


DEFAULT_CLASS = "default"
#: the resources every volume type also has a limit of (``volumes_<type>``...), -1 unless set
PER_TYPE = ("volumes", "gigabytes", "snapshots")


def type_names(session: Session | None) -> list[str]:
    return list(session.scalars(sa.select(models.VolumeType.name).order_by(models.VolumeType.name))) \
        if session is not None else []


def known(session: Session | None) -> set[str]:
    """Every resource a quota set may name: the fixed ones and each volume type's."""
    return set(RESOURCES) | {f"{r}_{t}" for t in type_names(session) for r in PER_TYPE}


def defaults(conf: Any, session: Session | None = None, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    """A quota class's limits: what ``os-quota-class-sets`` set for it, else ``[volume] quota_*``
    (and -1 for each volume type's)."""
    found = {resource: int(conf.volume[option]) for resource, option in RESOURCES.items()}
    found.update({f"{r}_{t}": -1 for t in type_names(session) for r in PER_TYPE})
    if session is not None:
        for row in session.scalars(sa.select(models.QuotaClassLimit).where(
                models.QuotaClassLimit.class_name == class_name)):
            if row.resource in found:
                found[row.resource] = row.hard_limit
    return found


def limits(session: Session, conf: Any, project_id: str) -> dict[str, int]:
    """The project's limits: its own where set, else the default class's."""
    found = defaults(conf, session)
    for row in session.scalars(sa.select(models.QuotaLimit).where(models.QuotaLimit.project_id == project_id)):
        if row.resource in found:
            found[row.resource] = row.hard_limit
    return found


def usage(session: Session, project_id: str) -> dict[str, int]:
    """What the project holds, in all and per volume type."""
    found = {"volumes": 0, "snapshots": 0, "gigabytes": 0, "backups": 0, "backup_gigabytes": 0, "groups": 0}
    names = dict(session.execute(sa.select(models.VolumeType.id, models.VolumeType.name)).tuples().all())
    found.update({f"{r}_{t}": 0 for t in names.values() for r in PER_TYPE})
    volume_size = sa.func.coalesce(sa.func.sum(models.Volume.size), 0)
    snapshot_size = sa.func.coalesce(sa.func.sum(models.Snapshot.size), 0)
    for type_id, count, size in session.execute(
            sa.select(models.Volume.volume_type_id, sa.func.count(), volume_size)
            .where(models.Volume.project_id == project_id).group_by(models.Volume.volume_type_id)):
        found["volumes"] += int(count)
        found["gigabytes"] += int(size)
        if type_id in names:
            found[f"volumes_{names[type_id]}"] += int(count)
            found[f"gigabytes_{names[type_id]}"] += int(size)
    for type_id, count, size in session.execute(
            sa.select(models.Volume.volume_type_id, sa.func.count(), snapshot_size)
            .join(models.Volume, models.Volume.id == models.Snapshot.volume_id)
            .where(models.Snapshot.project_id == project_id).group_by(models.Volume.volume_type_id)):
        found["snapshots"] += int(count)
        found["gigabytes"] += int(size)
        if type_id in names:
            found[f"snapshots_{names[type_id]}"] += int(count)
            found[f"gigabytes_{names[type_id]}"] += int(size)
    backups = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(models.Backup.size), 0))
                              .where(models.Backup.project_id == project_id)).one()
    found["backups"], found["backup_gigabytes"] = int(backups[0]), int(backups[1])
    return found


def check(db: Database, session: Session, conf: Any, project_id: str, wanted: dict[str, int],
          volume_type: str | None = None) -> None:
    """Take the project's lock, then :raises OverLimit: holding ``wanted`` more
    (``volumes``, ``snapshots``, ``gigabytes``; of ``volume_type``'s too) would pass one of its
    limits (Cinder's words)."""
    limit = limits(session, conf, project_id)
    per_volume = limit["per_volume_gigabytes"]
    size = wanted.get("size")
    if size is not None and 0 <= per_volume < size:
        raise OverLimit(f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum "
                        f"allowed limit {per_volume}G.")
    wanted = {r: v for r, v in wanted.items() if r != "size" and v}
    if volume_type is not None:
        wanted.update({f"{r}_{volume_type}": v for r, v in list(wanted.items()) if r in PER_TYPE})
    if all(limit.get(r, -1) < 0 for r in wanted):
        return
    lock_project(db, session, models.QuotaLock, project_id)
    used = usage(session, project_id)
    for resource, more in wanted.items():
        if 0 <= limit.get(resource, -1) < used.get(resource, 0) + more:
            if resource.startswith("gigabytes") or resource == "backup_gigabytes":
                raise OverLimit(f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds "
                                f"allowed {resource} quota. Requested {more}G, quota is {limit[resource]}G "
                                f"and {used[resource]}G has been consumed.")
            kind = "SnapshotLimitExceeded" if resource.startswith("snapshots") else \
                "BackupLimitExceeded" if resource == "backups" else "VolumeLimitExceeded"
            raise OverLimit(f"{kind}: Maximum number of {resource} allowed ({limit[resource]}) exceeded for "
                            f"quota '{resource}'.")
