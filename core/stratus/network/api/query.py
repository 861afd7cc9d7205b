"""Neutron's list semantics: filter on any attribute (repeat a parameter for OR), ``fields=``,
``sort_key``/``sort_dir``, ``limit``/``marker``/``page_reverse`` and ``<collection>_links``."""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import falcon
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db import paging
from stratus.exceptions import Invalid
from stratus.network import tags

CONTROL = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}


@dataclass(frozen=True)
class Attribute:
    """An API attribute stored in ``column``; ``parse`` turns a query value into the column's type."""

    column: Any
    parse: Callable[[str], Any] = str
    nullable: bool = False


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0"):
        raise ValueError(value)
    return lowered in ("true", "1")


def _values(req: falcon.Request, name: str) -> list[str]:
    value = req.params.get(name)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def fields_of(req: falcon.Request) -> list[str]:
    return [f for value in _values(req, "fields") for f in value.split(",") if f]


def project(body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in fields} if fields else body


@dataclass(frozen=True)
class Collection:
    """How one resource lists: its model, filterable/sortable attributes and view."""

    name: str  # "networks"
    model: Any
    attributes: Mapping[str, Attribute]

    def where(self, req: falcon.Request, skip: tuple[str, ...] = ()) -> list[sa.ColumnElement[bool]]:
        tagged = hasattr(self.model, "tag_rows")
        clauses = tags.where(self.model, req.params) if tagged else []
        for name in req.params:
            if name in CONTROL or name in skip or (tagged and name in tags.FILTERS):
                continue
            attribute = self.attributes.get(name)
            if attribute is None:
                raise Invalid(f"{name} is an invalid filter for {self.name}")
            values = []
            for raw in _values(req, name):
                try:
                    values.append(None if raw == "" and attribute.nullable else attribute.parse(raw))
                except ValueError:
                    raise Invalid(f"Invalid input for {name}. Reason: '{raw}' is not valid.") from None
            clauses.append(attribute.column.in_([v for v in values if v is not None])
                           if None not in values else attribute.column.is_(None))
        return clauses

    def page(self, session: Session, req: falcon.Request, visible: sa.ColumnElement[bool], max_limit: int,
             skip: tuple[str, ...] = ()) -> tuple[list[Any], list[dict[str, str]] | None]:
        """The rows of one page and, if ``limit`` was given or the rows went past
        ``max_limit``, the ``<name>_links`` value (a next link while there are more).

        ``skip`` names filters the caller turned into clauses of ``visible`` itself.
        """
        keys_raw, dirs = _values(req, "sort_key"), _values(req, "sort_dir")
        if len(keys_raw) != len(dirs) and dirs:
            raise Invalid("The number of sort_keys and sort_dirs must be same")
        order = []
        for i, key in enumerate(keys_raw):
            direction = dirs[i] if dirs else "asc"
            if key not in self.attributes or direction not in ("asc", "desc"):
                raise Invalid(f"{key} {direction} is an invalid sort for {self.name}")
            order.append((key, self.attributes[key].column, direction == "asc", self.attributes[key].nullable))
        keys = paging.sort_keys(order, ("id", self.model.id))
        reverse = parse_bool(req.get_param("page_reverse") or "false")
        statement = sa.select(self.model).where(visible, *self.where(req, skip))
        limit_raw = req.get_param("limit")
        try:
            limit = min(int(limit_raw), max_limit) if limit_raw else max_limit
            if limit < 0:
                raise ValueError
        except ValueError:
            raise Invalid(f"Bad limit request: limit must be a non-negative integer, not {limit_raw}") from None
        marker_id = req.get_param("marker")
        if marker_id:
            marker = session.scalars(sa.select(self.model).where(self.model.id == marker_id, visible)).first()
            if marker is None:
                raise Invalid(f"Marker {marker_id} could not be found in {self.name}")
            statement = statement.where(paging.after(keys, marker, reverse))
        rows = list(session.scalars(statement.order_by(*paging.order_by(keys, reverse)).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        if reverse:
            rows.reverse()
        if not limit_raw and not more:
            return rows, None  # everything there is: no links, as Neutron without paging
        # a page: asked for with limit, or cut at [network] pagination_max_limit (the next link says there is more)
        base = {k: v for k, v in req.params.items() if k not in ("marker", "page_reverse")}
        forward_more, backward_more = (bool(marker_id), more) if reverse else (more, bool(marker_id))
        links = []
        if rows and forward_more:
            links.append({"rel": "next", "href": self._href(req, base, rows[-1].id, False)})
        if rows and backward_more:
            links.append({"rel": "previous", "href": self._href(req, base, rows[0].id, True)})
        return rows, links

    def _href(self, req: falcon.Request, base: dict[str, Any], marker: str, reverse: bool) -> str:
        query = {**base, "marker": marker, **({"page_reverse": "True"} if reverse else {})}
        return f"{req.prefix}{req.path}?{urllib.parse.urlencode(query, doseq=True)}"


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def respond_list(service: Any, req: falcon.Request, resp: falcon.Response, collection: Collection,
                 visible: sa.ColumnElement[bool], render: Callable[[Session, Any], dict[str, Any]],
                 skip: tuple[str, ...] = ()) -> None:
    """Answer a list request: one page of ``collection`` as ``render`` shows each row, ``fields``
    applied, and ``<name>_links`` when the caller paged."""
    with service.db.transaction() as session:
        rows, links = collection.page(session, req, visible, service.conf.network.pagination_max_limit, skip)
        fields = fields_of(req)
        body: dict[str, Any] = {collection.name: [project(render(session, row), fields) for row in rows]}
    if links is not None:
        body[f"{collection.name}_links"] = links
    resp.media = body
