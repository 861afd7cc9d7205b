"""Per-project quotas of the networking resources, enforced inside the creating transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db.engine import Database
from stratus.db.locks import lock_project
from stratus.network import errors, models

MODELS: dict[str, Any] = {
    "network": models.Network, "subnet": models.Subnet, "port": models.Port, "router": models.Router,
    "floatingip": models.FloatingIP, "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule,
}


def defaults(conf: Any) -> dict[str, int]:
    return {resource: conf.network[f"quota_{resource}"] for resource in MODELS}


def limits(session: Session, conf: Any, project_id: str) -> dict[str, int]:
    result = defaults(conf)
    result.update({q.resource: q.limit for q in session.scalars(
        sa.select(models.Quota).where(models.Quota.project_id == project_id))})
    return result


def used(session: Session, resource: str, project_id: str) -> int:
    model = MODELS[resource]
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(model.project_id == project_id))
               or 0)


def check(db: Database, session: Session, conf: Any, project_id: str, resource: str, adding: int = 1) -> None:
    """:raises OverQuota: ``project_id`` would have more ``resource`` than its quota allows."""
    if not project_id:
        return  # resources Stratus owns itself (gateway and floating IP ports)
    limit = limits(session, conf, project_id)[resource]
    if limit < 0:
        return
    lock_project(db, session, models.QuotaLock, project_id)
    model = MODELS[resource]
    # a locking read sees rows committed since this transaction's snapshot (MariaDB's
    # REPEATABLE READ would otherwise count from a snapshot taken before the lock)
    current = len(session.scalars(sa.select(model.id).where(model.project_id == project_id)
                                  .with_for_update(read=True)).all())
    if current + adding > limit:
        raise errors.OverQuota(f"Quota exceeded for resources: ['{resource}'].")
