"""Helpers every compute resource shares: the caller, links, query parameters."""

from __future__ import annotations

import datetime
import urllib.parse
import uuid
from typing import Any

import falcon

from stratus.api.versions import service_root
from stratus.exceptions import Invalid, StratusError

_TRUE = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
_FALSE = (False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
#: a boolean as Nova's request schemas accept it: JSON true/false or one of these strings
BOOLEAN = {"type": ["boolean", "string"], "enum": [*_TRUE, *_FALSE]}


def boolean(value: Any) -> bool:
    """A value :data:`BOOLEAN` accepted, as a bool."""
    return value in _TRUE


def context(req: falcon.Request) -> Any:
    return req.context.stratus


def links(req: falcon.Request, conf: Any, collection: str, item_id: str) -> list[dict[str, str]]:
    """Nova's ``self`` (versioned) and ``bookmark`` (unversioned) links of an item."""
    root = service_root(req, conf)
    return [{"rel": "self", "href": f"{root}/v2.1/{collection}/{item_id}"},
            {"rel": "bookmark", "href": f"{root}/{collection}/{item_id}"}]


def page_links(req: falcon.Request, marker: str) -> list[dict[str, str]]:
    query = {k: v for k, v in req.params.items() if k != "marker"}
    query["marker"] = marker
    return [{"rel": "next", "href": f"{req.prefix}{req.path}?{urllib.parse.urlencode(query, doseq=True)}"}]


def integer(value: Any, name: str, minimum: int = 0, kind: str = "field/attribute") -> int:
    """``value`` as an int in [minimum, 2**31-1], or Nova's 400 naming ``name``."""
    prefix = f"Invalid input for {kind} {name}. Value: {value}."
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{prefix} '{value}' is not an integer") from None
    if number < minimum:
        raise Invalid(f"{prefix} {value} is less than the minimum of {minimum}")
    if number > 2 ** 31 - 1:
        raise Invalid(f"{prefix} {value} is greater than the maximum of 2147483647")
    return number


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError):
        return False
    return True


def int_param(req: falcon.Request, name: str, minimum: int = 0) -> int:
    return integer(req.params.get(name), name, minimum, "query parameters")


def bool_param(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes"):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise Invalid(f"Invalid value '{value}' for {name}: use true or false")


def _moment(params: Any, name: str) -> datetime.datetime | None:
    if name not in params:
        return None
    text = params[name]
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"Invalid filter field: {name}. '{text}' is not a valid date-time") from None
    return moment.astimezone(datetime.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def changes(req: falcon.Request, column: Any, before_from: str = "2.66") -> list[Any]:
    """``changes-since`` (and from ``before_from``, ``changes-before``) as conditions on
    ``column``, both inclusive.

    :raises Invalid: a value that is not an ISO 8601 time, or a since after the before."""
    from stratus.compute.api.microversions import at_least

    since = _moment(req.params, "changes-since")
    before = _moment(req.params, "changes-before") if at_least(req, before_from) else None
    if since is not None and before is not None and before < since:
        raise Invalid("The value of changes-since must be less than or equal to changes-before.")
    return ([column >= since] if since is not None else []) + ([column <= before] if before is not None else [])


class NotImplementedByHypervisor(StratusError):
    """Nova's answer to what the server's hypervisor cannot do or tell (501)."""

    http_status = 501
    title = "Not Implemented"


def lacks_capability(session: Any, instance: Any, capability: str) -> bool:
    """Whether the hypervisor of the server's host declares no ``capability`` (a host that has
    recorded no capabilities yet is given the benefit of the doubt)."""
    import sqlalchemy as sa

    from stratus.compute import models

    declared = session.scalar(sa.select(models.ComputeNode.capabilities).where(
        models.ComputeNode.host == instance.host, models.ComputeNode.nodename == instance.node))
    return declared is not None and capability not in declared
