"""Serialising one project's creates, so counting quotas hold under concurrency."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db.engine import Database, insert_unless_taken


def lock_project(db: Database, session: Session, model: Any, project_id: str) -> None:
    """Lock ``project_id``'s row of ``model`` (a table keyed by ``project_id``) in ``session``.

    SQLite transactions already take turns (BEGIN IMMEDIATE). Elsewhere the row is created
    in a transaction of its own first: concurrent inserts of one key inside the creating
    transactions deadlock on MariaDB.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    with db.transaction() as own:
        if own.get(model, project_id) is None:
            insert_unless_taken(own, model(project_id=project_id))  # or a concurrent request did
    session.scalars(sa.select(model).where(model.project_id == project_id).with_for_update()).one()
