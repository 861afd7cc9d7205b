"""Helpers every compute resource shares: the caller, links, query parameters."""

from __future__ import annotations

import urllib.parse
from typing import Any

import falcon

from stratus.api.versions import service_root
from stratus.exceptions import Invalid


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


def int_param(req: falcon.Request, name: str, minimum: int = 0) -> int:
    value = req.params.get(name)
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(f"Invalid input for query parameters {name}. Value: {value}. '{value}' is not an integer"
                      ) from None
    if number < minimum:
        raise Invalid(f"Invalid input for query parameters {name}. Value: {value}. {value} is less than the "
                      f"minimum of {minimum}")
    return number


def bool_param(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes"):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise Invalid(f"Invalid value '{value}' for {name}: use true or false")
