"""Tags on networking resources (Neutron's standard-attr-tag): setting them, and the
``tags``/``tags-any``/``not-tags``/``not-tags-any`` list filters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.exceptions import Invalid
from stratus.network import models
from stratus.network.api.common import now

MAX_TAG_LEN = 255
MAX_TAGS = 50
FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")
#: a tag as a request body or a ``tags`` attribute holds it
TAG = {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LEN}
TAG_LIST = {"type": "array", "items": TAG, "uniqueItems": True}

Tag = models.ResourceTag


def check(tag: str) -> str:
    """:raises Invalid: not a tag Neutron would take (empty, too long)."""
    if not tag or len(tag) > MAX_TAG_LEN:
        raise Invalid(f"Invalid input for operation: '{tag}' is not a valid tag: it must be 1 to {MAX_TAG_LEN} "
                      "characters.")
    return tag


def replace(session: Any, row: Any, tags: Iterable[str], bump: bool = True) -> list[str]:
    """Make ``row``'s tags exactly ``tags``; bump its revision when they changed (``bump``:
    not for a row being created). The tags, sorted.

    :raises Invalid: more than :data:`MAX_TAGS`, or a bad tag.
    """
    wanted = {check(tag) for tag in tags}
    if len(wanted) > MAX_TAGS:
        raise Invalid(f"The number of tags exceed the per-resource limit of {MAX_TAGS}")
    current = set(session.scalars(sa.select(Tag.tag).where(Tag.resource_id == row.id)))
    if wanted != current:
        if current - wanted:
            session.execute(sa.delete(Tag).where(Tag.resource_id == row.id, Tag.tag.in_(current - wanted)))
        session.add_all(Tag(resource_id=row.id, tag=tag) for tag in wanted - current)
        session.flush()
        if bump:
            _touch(row)
    session.expire(row, ["tag_rows"])
    return sorted(wanted)


def add(session: Any, row: Any, tag: str) -> None:
    current = set(session.scalars(sa.select(Tag.tag).where(Tag.resource_id == row.id)))
    if check(tag) not in current:
        replace(session, row, current | {tag})


def remove(session: Any, row: Any, tag: str) -> bool:
    """Whether ``row`` had ``tag`` (now gone)."""
    gone = session.execute(sa.delete(Tag).where(Tag.resource_id == row.id, Tag.tag == tag)).rowcount
    if gone:
        _touch(row)
        session.expire(row, ["tag_rows"])
    return bool(gone)


def forget(session: Any, resource_ids: Any) -> None:
    """Drop the tags of resources deleted in bulk (``resource_ids``: ids, or a select of them);
    a resource deleted through ``session.delete`` loses them by itself (:func:`_deleted`)."""
    session.execute(sa.delete(Tag).where(Tag.resource_id.in_(resource_ids)))


TAGGED = (models.Network, models.Subnet, models.Port, models.Router, models.SecurityGroup, models.FloatingIP,
          models.SubnetPool)


@sa.event.listens_for(Session, "before_flush")
def _deleted(session: Session, flush_context: Any, instances: Any) -> None:
    """A tagged resource deleted in the session takes its tags with it."""
    gone = [row.id for row in session.deleted if isinstance(row, TAGGED)]
    if gone:
        session.execute(sa.delete(Tag).where(Tag.resource_id.in_(gone)))


def _touch(row: Any) -> None:
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = now()


def where(model: Any, params: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The clauses of the tag filters among ``params`` (comma-separated, a parameter may repeat)."""
    clauses = []
    for name in FILTERS:
        raw = params.get(name)
        if raw is None:
            continue
        values = [t for value in ([raw] if isinstance(raw, str) else raw) for t in value.split(",") if t]
        if not values:
            continue
        def has(*wanted: str) -> sa.ColumnElement[bool]:
            return sa.exists(sa.select(Tag.resource_id).where(Tag.resource_id == model.id, Tag.tag.in_(wanted)))
        every = sa.and_(*(has(tag) for tag in values))
        clause = {"tags": every, "tags-any": has(*values), "not-tags": sa.not_(every),
                  "not-tags-any": sa.not_(has(*values))}[name]
        clauses.append(clause)
    return clauses
