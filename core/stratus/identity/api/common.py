"""Helpers shared by the identity CRUD resources: ids, booleans, filters, collections."""

from __future__ import annotations

import contextlib
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.versions import service_root
from stratus.exceptions import Conflict, Invalid

#: Keystone's string-matching filter suffixes
_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, wanted: wanted in value,
    "icontains": lambda value, wanted: wanted.lower() in value.lower(),
    "startswith": lambda value, wanted: value.startswith(wanted),
    "istartswith": lambda value, wanted: value.lower().startswith(wanted.lower()),
    "endswith": lambda value, wanted: value.endswith(wanted),
    "iendswith": lambda value, wanted: value.lower().endswith(wanted.lower()),
}


@contextlib.contextmanager
def conflict_on_duplicate(message: str) -> Iterator[None]:
    """Turn a unique-constraint violation inside the block into a 409 with ``message``."""
    try:
        yield
    except sa.exc.IntegrityError:
        raise Conflict(message) from None


def new_id() -> str:
    return uuid.uuid4().hex


def parse_bool(value: str | bool | None, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    lowered = value.lower()
    if lowered in ("true", "1", "yes", ""):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid(f"Invalid input for field/attribute {name}. Value: {value}. Expected a boolean.")


def base_url(req: falcon.Request, conf: Any) -> str:
    return service_root(req, conf)


def matches(entity: dict[str, Any], req: falcon.Request, filters: Iterable[str]) -> bool:
    """True when ``entity`` passes every filter of the query string among ``filters``
    (exact match, booleans, and ``name__contains``-style suffixes)."""
    for key, wanted in req.params.items():
        name, _, how = key.partition("__")
        if name not in filters or isinstance(wanted, list):
            continue
        value = entity.get(name)
        if how:
            if how not in _MATCHERS:
                raise Invalid(f"Unknown filter {key}; use one of {', '.join(f'{name}__{m}' for m in _MATCHERS)}")
            if not isinstance(value, str) or not _MATCHERS[how](value, wanted):
                return False
        elif isinstance(value, bool):
            if value != parse_bool(wanted, name):
                return False
        elif (value if value is not None else "") != wanted:
            return False
    return True


def collection(req: falcon.Request, conf: Any, key: str, entities: list[dict[str, Any]],
               filters: Iterable[str] = ()) -> dict[str, Any]:
    """Filter, page and wrap ``entities`` (sorted by id) as Keystone does.

    ``limit``/``marker`` page by id with a ``next`` link; without them the list is cut at
    ``[identity] list_limit`` and marked ``"truncated": true``.
    """
    selected = sorted((e for e in entities if matches(e, req, filters)), key=lambda e: e["id"])
    marker = req.get_param("marker")
    if marker:
        selected = [e for e in selected if e["id"] > marker]
    limit_param = req.get_param("limit")
    root = base_url(req, conf)
    path = f"{root}{req.path}"
    links: dict[str, Any] = {"self": path, "previous": None, "next": None}
    body: dict[str, Any] = {key: selected, "links": links}
    if limit_param is not None:
        try:
            limit = int(limit_param)
            if limit < 1:
                raise ValueError
        except ValueError:
            raise Invalid(f"Invalid input for field/attribute limit. Value: {limit_param}. "
                          "Expected a positive integer.") from None
        if len(selected) > limit:
            body[key] = selected[:limit]
            query = {k: v for k, v in req.params.items() if k not in ("limit", "marker")}
            query.update(limit=limit, marker=selected[limit - 1]["id"])
            links["next"] = f"{path}?{urllib.parse.urlencode(query, doseq=True)}"
    elif len(selected) > conf.identity.list_limit:
        body[key] = selected[: conf.identity.list_limit]
        body["truncated"] = True
    return body
