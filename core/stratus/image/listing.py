"""Which images a caller sees, and the list query: filters, sorting and keyset pages in SQL."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db import paging
from stratus.exceptions import Invalid
from stratus.image import models

Image = models.Image
Member = models.ImageMember

STATUSES = ("queued", "saving", "uploading", "importing", "active", "deactivated", "killed")
VISIBILITIES = ("public", "private", "shared", "community")
MEMBER_STATUSES = ("accepted", "pending", "rejected")
SORT_KEYS = {name: getattr(Image, name) for name in (
    "name", "status", "container_format", "disk_format", "size", "virtual_size", "id", "created_at", "updated_at",
    "visibility", "owner", "min_disk", "min_ram", "protected", "os_hidden")}
NULLABLE = {"name", "container_format", "disk_format", "size", "virtual_size", "owner"}
IN_FILTERS = ("id", "name", "status", "container_format", "disk_format")
OPERATORS = {"eq": "__eq__", "neq": "__ne__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
#: query parameters that are not filters on extra properties
#: core attributes filtered by exact value, as Glance filters on its image columns
EXACT_INTEGERS = ("size", "virtual_size", "min_ram", "min_disk")
EXACT_TEXT = ("checksum", "os_hash_algo", "os_hash_value")
RESERVED = {"limit", "marker", "sort", "sort_key", "sort_dir", "visibility", "member_status", "tag", "size_min",
            "size_max", "created_at", "updated_at", "os_hidden", "protected", "owner", *IN_FILTERS, *EXACT_INTEGERS,
            *EXACT_TEXT}


def member_of(project_id: Any, statuses: Sequence[str] = MEMBER_STATUSES) -> sa.ColumnElement[bool]:
    return sa.exists().where(Member.image_id == Image.id, Member.member == project_id, Member.status.in_(statuses))


def readable(context: Any) -> sa.ColumnElement[bool]:
    """Images ``context`` may show by id: own, public, community, or shared with its project."""
    return sa.true() if context.is_admin else readable_by(context.project_id)


def readable_by(project: Any) -> sa.ColumnElement[bool]:
    """Images the project (an id, or a bound parameter) may show by id, as :func:`readable`."""
    return sa.or_(Image.owner == project, Image.visibility.in_(("public", "community")),
                  sa.and_(Image.visibility == "shared", member_of(project)))


def load(session: Session, image_id: str, context: Any) -> models.Image | None:
    """The image if it exists, is not deleted and ``context`` may see it."""
    return session.scalars(sa.select(Image).where(Image.id == image_id, Image.status != "deleted",
                                                  readable(context))).first()


@dataclass(frozen=True)
class Page:
    rows: list[models.Image]
    more: bool


def _values(raw: str) -> list[str]:
    return [v.strip().strip('"') for v in raw.split(",") if v.strip()]


def _moment(field: str, raw: str) -> tuple[str, datetime.datetime]:
    op, _, value = raw.partition(":") if raw.split(":", 1)[0] in OPERATORS else ("eq", "", raw)
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"Invalid {field} filter {raw!r}: expected [operator:]ISO-8601 time, with operator one of "
                      f"{', '.join(OPERATORS)}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return OPERATORS[op], moment


def _integer(field: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{field} must be an integer, not {raw!r}") from None
    if value < 0:
        raise Invalid(f"{field} must not be negative")
    return value


def _bool(field: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise Invalid(f"{field} must be true or false, not {raw!r}")
    return raw.lower() == "true"


def sort_order(params: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """``[(key, ascending)]`` from ``sort=k:dir,...`` or ``sort_key``/``sort_dir`` (not both)."""
    def listed(name: str) -> list[str]:
        value = params.get(name)
        return [] if value is None else [value] if isinstance(value, str) else list(value)

    keys, dirs = listed("sort_key"), listed("sort_dir")
    if "sort" in params:
        if keys or dirs:
            raise Invalid("The sort parameter cannot be combined with sort_key or sort_dir")
        keys, dirs = [], []
        for item in _values(",".join(listed("sort"))):
            key, _, direction = item.partition(":")
            keys.append(key)
            dirs.append(direction or "desc")
    if not keys:
        keys = ["created_at"]
    if len(dirs) > len(keys) or (len(dirs) > 1 and len(dirs) != len(keys)):
        raise Invalid("Give one sort_dir, or one for each sort_key")
    dirs = dirs or ["desc"]
    if len(dirs) == 1:
        dirs = dirs * len(keys)
    order = []
    for key, direction in zip(keys, dirs, strict=True):
        if key not in SORT_KEYS:
            raise Invalid(f"Invalid sort key: {key}. Sortable keys: {', '.join(sorted(SORT_KEYS))}")
        if direction not in ("asc", "desc"):
            raise Invalid(f"Invalid sort direction: {direction}. Use asc or desc")
        order.append((key, direction == "asc"))
    return order


def _keys(order: list[tuple[str, bool]]) -> list[paging.SortKey]:
    return paging.sort_keys([(name, SORT_KEYS[name], ascending, name in NULLABLE) for name, ascending in order],
                            ("id", Image.id))


def query(session: Session, params: Mapping[str, Any], context: Any, limit: int) -> Page:
    """One page of the images ``context`` may list, filtered and ordered as ``params`` say.

    :raises Invalid: a filter, sort or marker is not valid (the message names it).
    """
    def one(name: str) -> str | None:
        value = params.get(name)
        return value[-1] if isinstance(value, list) else value

    visibility = one("visibility")
    if visibility is not None and visibility not in (*VISIBILITIES, "all"):
        raise Invalid(f"Invalid visibility value: {visibility}. Use one of {', '.join(VISIBILITIES)} or all")
    member_status = one("member_status") or "accepted"
    if member_status not in (*MEMBER_STATUSES, "all"):
        raise Invalid(f"Invalid member_status value: {member_status}. Use one of "
                      f"{', '.join(MEMBER_STATUSES)} or all")
    statuses = MEMBER_STATUSES if member_status == "all" else (member_status,)
    where: list[sa.ColumnElement[bool]] = [Image.status != "deleted"]
    project = context.project_id
    if not context.is_admin:
        own, shared = Image.owner == project, sa.and_(Image.visibility == "shared", member_of(project, statuses))
        listed = sa.or_(own, Image.visibility == "public", shared)
        where.append({None: listed, "all": sa.or_(listed, Image.visibility == "community"),
                      "public": Image.visibility == "public", "community": Image.visibility == "community",
                      "private": sa.and_(own, Image.visibility == "private"),
                      "shared": sa.and_(Image.visibility == "shared", sa.or_(own, member_of(project, statuses)))}
                     [visibility])
    elif visibility not in (None, "all"):
        where.append(Image.visibility == visibility)
    for field in IN_FILTERS:
        raw = one(field)
        if raw is None:
            continue
        values = _values(raw[3:]) if raw.startswith("in:") else [raw]
        if field == "status":
            bad = [v for v in values if v not in STATUSES]
            if bad:
                raise Invalid(f"Invalid status value: {bad[0]}")
        where.append(getattr(Image, field).in_(values))
    if one("owner") is not None:
        where.append(Image.owner == one("owner"))
    for field in ("protected", "os_hidden"):
        if one(field) is not None:
            where.append(getattr(Image, field).is_(_bool(field, one(field))))
    if one("os_hidden") is None:
        where.append(Image.os_hidden.is_(False))
    for field in EXACT_INTEGERS:
        if one(field) is not None:
            where.append(getattr(Image, field) == _integer(field, one(field)))
    for field in EXACT_TEXT:
        if one(field) is not None:
            where.append(getattr(Image, field) == one(field))
    if one("size_min") is not None:
        where.append(Image.size >= _integer("size_min", one("size_min")))
    if one("size_max") is not None:
        where.append(Image.size <= _integer("size_max", one("size_max")))
    for field in ("created_at", "updated_at"):
        raw_values = params.get(field)
        for raw in [raw_values] if isinstance(raw_values, str) else raw_values or []:
            method, moment = _moment(field, raw)
            where.append(getattr(getattr(Image, field), method)(moment))
    tags = params.get("tag")
    for tag in [tags] if isinstance(tags, str) else tags or []:
        where.append(sa.exists().where(models.ImageTag.image_id == Image.id, models.ImageTag.value == tag))
    for name, value in params.items():
        if name not in RESERVED:
            value = value[-1] if isinstance(value, list) else value
            where.append(sa.exists().where(models.ImageProperty.image_id == Image.id,
                                           models.ImageProperty.name == name, models.ImageProperty.value == value))
    keys = _keys(sort_order(params))
    marker_id = one("marker")
    if marker_id is not None:
        marker = load(session, marker_id, context)
        if marker is None:
            raise Invalid(f"marker {marker_id} could not be found")
        where.append(paging.after(keys, marker))
    statement = sa.select(Image).where(*where).order_by(*paging.order_by(keys)).limit(limit + 1)
    rows = list(session.scalars(statement))
    return Page(rows[:limit], len(rows) > limit)
