"""Account and container listings in Swift's three formats: plain text (one name per line),
JSON and XML, chosen by ``format`` or else by ``Accept``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import falcon

from stratus.exceptions import StratusError
from stratus.object_store.api.headers import listing_time, query
from stratus.object_store.errors import PreconditionFailed
from stratus.object_store.listing import Listing, Subdir
from stratus.object_store.service import ContainerInfo, ObjectInfo

_FORMATS = {"json": "application/json", "xml": "application/xml", "plain": "text/plain"}
_OFFERED = ("text/plain", "application/json", "application/xml", "text/xml")


class NotAcceptable(StratusError):
    http_status = 406
    title = "Not Acceptable"


def media_type(req: falcon.Request) -> str:
    """The listing's media type: ``format`` (unknown values mean plain), else ``Accept``."""
    chosen = query(req).get("format")
    if chosen is not None:
        return _FORMATS.get(chosen.lower(), "text/plain")
    accept = req.get_header("Accept")
    if not accept:
        return "text/plain"
    best = req.client_prefers(list(_OFFERED))
    if best is None:
        raise NotAcceptable("None of the listing formats (text/plain, application/json, application/xml) "
                            "is acceptable.")
    return "application/xml" if best == "text/xml" else best


def parse(req: falcon.Request, maximum: int) -> Listing:
    """The listing parameters of a GET.

    :raises PreconditionFailed: a limit over ``maximum``, or a parameter not valid UTF-8.
    """
    params = query(req)

    def param(name: str) -> str:
        return params.get(name, "")

    limit = maximum
    given = params.get("limit")
    if given is not None and given.isdigit():
        limit = int(given)
        if limit > maximum:
            raise PreconditionFailed(f"Maximum limit is {maximum}")
    reverse = param("reverse").lower() in ("true", "1", "yes", "on", "t", "y")
    return Listing(prefix=param("prefix"), marker=param("marker"), end_marker=param("end_marker"), limit=limit,
                   delimiter=param("delimiter"), reverse=reverse)


def _object_entry(entry: ObjectInfo | Subdir) -> dict[str, Any]:
    if isinstance(entry, Subdir):
        return {"subdir": entry.name}
    return {"name": entry.name, "hash": entry.etag, "bytes": entry.size, "content_type": entry.content_type,
            "last_modified": listing_time(entry.timestamp)}


def _container_entry(entry: ContainerInfo | Subdir) -> dict[str, Any]:
    if isinstance(entry, Subdir):
        return {"subdir": entry.name}
    return {"name": entry.name, "count": entry.object_count, "bytes": entry.bytes_used,
            "last_modified": listing_time(entry.changed_at)}


def render(resp: falcon.Response, kind: str, owner: str, entries: Sequence[Any], chosen: str) -> None:
    """Answer a listing of ``kind`` (``account`` listing containers, ``container`` listing objects)."""
    shape = _container_entry if kind == "account" else _object_entry
    item = "container" if kind == "account" else "object"
    if chosen == "application/json":
        body = json.dumps([shape(entry) for entry in entries], ensure_ascii=False).encode()
    elif chosen == "application/xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{kind} name={quoteattr(owner)}>"]
        for entry in entries:
            fields = shape(entry)
            if "subdir" in fields:
                parts.append(f"<subdir name={quoteattr(fields['subdir'])}><name>{escape(fields['subdir'])}</name>"
                             "</subdir>")
                continue
            inner = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in fields.items())
            parts.append(f"<{item}>{inner}</{item}>")
        parts.append(f"</{kind}>")
        body = "\n".join(parts[:2]).encode() + "".join(parts[2:]).encode()
    else:
        if not entries:
            resp.status = falcon.HTTP_204
            resp.content_type = "text/plain; charset=utf-8"
            return
        body = "".join(f"{entry.name}\n" for entry in entries).encode()
    resp.status = falcon.HTTP_200
    resp.content_type = f"{chosen}; charset=utf-8"
    resp.data = body
