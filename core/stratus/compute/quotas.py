"""Compute quotas (instances, cores, ram), counted from the servers a project has, checked
inside the creating transaction under the project's lock row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models, states
from stratus.db.engine import Database
from stratus.db.locks import lock_project
from stratus.exceptions import QuotaExceeded

RESOURCES = ("instances", "cores", "ram")
#: every resource os-quota-sets shows, with its default (None: from [compute] quota_<name>)
QUOTA_SET: dict[str, int | None] = {
    "instances": None, "cores": None, "ram": None, "key_pairs": None, "metadata_items": 128,
    "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
    "server_groups": 10, "server_group_members": 10,
    # nova-network's quotas: shown (and settable, never enforced) before 2.36, as Nova keeps them
    "fixed_ips": -1, "floating_ips": -1, "security_groups": -1, "security_group_rules": -1}


DEFAULT_CLASS = "default"


def configured(conf: Any) -> dict[str, int]:
    """The defaults the configuration gives (``[compute] quota_*`` and the fixed ones)."""
    return {r: conf.compute[f"quota_{r}"] if d is None else d for r, d in QUOTA_SET.items()}


def class_limits(session: Session | None, conf: Any, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    """A quota class's limits: the configured defaults, the ``default`` class's values over
    them, and (for another class) its own over those — Nova's rule."""
    result = configured(conf)
    if session is not None:
        for name in dict.fromkeys((DEFAULT_CLASS, class_name)):
            result.update({q.resource: q.limit for q in session.scalars(
                sa.select(models.QuotaClass).where(models.QuotaClass.class_name == name))
                if q.resource in result})
    return result


def defaults(conf: Any, session: Session | None = None) -> dict[str, int]:
    """Every project's defaults: :func:`class_limits` of the ``default`` class."""
    return class_limits(session, conf)


def limits(session: Session | None, conf: Any, project_id: str | None = None) -> dict[str, int]:
    """The project's limits: the defaults with its own settings on top."""
    result = defaults(conf, session)
    if session is not None and project_id:
        result.update({q.resource: q.limit for q in session.scalars(
            sa.select(models.Quota).where(models.Quota.project_id == project_id))})
    return result


def check_metadata(session: Session, conf: Any, project_id: str, count: int) -> None:
    """:raises QuotaExceeded: ``count`` metadata items are more than the project may give a
    server or image (403, as Nova answers)."""
    if count <= 0:
        return  # nothing given can pass a limit: the limits are not read
    limit = limits(session, conf, project_id)["metadata_items"]
    if 0 <= limit < count:
        raise QuotaExceeded(f"Quota exceeded for metadata_items: Requested {count}, but the limit is {limit}")


_LIVE = sa.and_(models.Instance.project_id == sa.bindparam("project"), models.Instance.deleted.is_(False),
                models.Instance.vm_state != states.SOFT_DELETED)
_USAGE = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(models.Instance.flavor["vcpus"].as_integer()), 0),
                   sa.func.coalesce(sa.func.sum(models.Instance.flavor["ram"].as_integer()), 0)).where(_LIVE)
_USAGE_LOCKED = _USAGE.with_for_update(read=True)


def usage(session: Session, project_id: str) -> dict[str, int]:
    """What the project's servers hold: every one not deleted counts, ERROR ones too; soft-deleted
    ones do not (a restore counts them again), as in Nova. Summed by the database (one row,
    whatever the number of servers). On MariaDB the read locks what it counts, so a transaction
    whose snapshot is older than the project's lock still counts the servers committed since;
    PostgreSQL reads committed rows on each statement (and refuses FOR SHARE with an aggregate)."""
    statement = _USAGE_LOCKED if session.get_bind().dialect.name == "mysql" else _USAGE
    count, cores, ram = session.execute(statement, {"project": project_id}).one()
    return {"instances": int(count), "cores": int(cores), "ram": int(ram)}


def lock(db: Database, session: Session, project_id: str) -> None:
    """Take the project's lock row: its creates take turns while they count."""
    lock_project(db, session, models.QuotaLock, project_id)


def check(db: Database, session: Session, conf: Any, project_id: str, count: int, flavor: dict[str, Any]) -> None:
    """:raises QuotaExceeded: ``count`` more servers of ``flavor`` would pass a limit (Nova's message)."""
    check_more(db, session, conf, project_id, {"instances": count, "cores": count * int(flavor["vcpus"]),
                                               "ram": count * int(flavor["ram"])})


def check_more(db: Database, session: Session, conf: Any, project_id: str, wanted: dict[str, int]) -> None:
    """:raises QuotaExceeded: the project's servers would pass a limit holding ``wanted`` more
    (instances, cores, ram; a resize asks for the growth of its flavor)."""
    wanted = {r: max(int(wanted.get(r, 0)), 0) for r in RESOURCES}
    limit = limits(session, conf, project_id)
    if all(limit[r] < 0 or not wanted[r] for r in RESOURCES):
        return
    lock(db, session, project_id)
    used = usage(session, project_id)
    over = [r for r in RESOURCES if limit[r] >= 0 and wanted[r] and used[r] + wanted[r] > limit[r]]
    if over:
        details = ", ".join(f"{r}: Requested {wanted[r]}, but already used {used[r]} of {limit[r]} {r}"
                            for r in over)
        raise QuotaExceeded(f"Quota exceeded for {', '.join(over)}: {details}")
