"""The image status machine, as Glance's.

``queued`` → ``saving`` (PUT .../file) → ``active``; ``queued`` → ``uploading`` (stage) →
``importing`` → ``active``; ``queued`` → ``importing`` (web-download); a failed upload,
stage or import returns to ``queued``; data that arrived but failed verification leaves the
image ``killed`` (it can only be deleted); ``active`` ⇄ ``deactivated``; any state →
``deleted``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.image import models

TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"saving", "uploading", "importing", "active", "deleted"}),
    "saving": frozenset({"active", "killed", "queued", "deleted"}),
    "uploading": frozenset({"importing", "queued", "deleted"}),
    "importing": frozenset({"active", "queued", "deleted"}),
    "active": frozenset({"deactivated", "deleted"}),
    "deactivated": frozenset({"active", "deleted"}),
    "killed": frozenset({"deleted"}),
    "deleted": frozenset(),
}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def move(db: Database, image_id: str, expected: str | Iterable[str], to: str,
         locations: Iterable[tuple[str, str]] = (), **values: Any) -> bool:
    """Set ``image_id``'s status to ``to`` if it is still ``expected``; False if it was not.

    The check and the write are one UPDATE, so of two racing requests exactly one wins;
    ``locations`` (store, url) are recorded in the same transaction when it does.
    """
    sources = {expected} if isinstance(expected, str) else set(expected)
    if not all(to in TRANSITIONS[s] or to == s for s in sources):
        raise ValueError(f"no transition from {sources} to {to}")
    with db.transaction() as session:
        moved = bool(session.execute(
            sa.update(models.Image).where(models.Image.id == image_id, models.Image.status.in_(sources))
            .values(status=to, updated_at=now(), **values)).rowcount)
        if moved:
            session.add_all(models.ImageLocation(image_id=image_id, store=store, url=url) for store, url in locations)
        return moved


LIVE = tuple(s for s in TRANSITIONS if s != "deleted")
