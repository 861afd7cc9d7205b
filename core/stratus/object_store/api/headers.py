"""Headers in and out of the Swift API: metadata with Swift's limits, names from the raw
path, dates and timestamps as Swift writes them.

WSGI hands header values and the path over as latin-1 text standing for the bytes sent;
Swift's names and metadata are UTF-8, so values are turned back into bytes and decoded
(and the reverse on the way out).
"""

from __future__ import annotations

import email.utils
import math
import mimetypes
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import falcon

from stratus.exceptions import Invalid
from stratus.object_store.errors import PreconditionFailed

#: headers kept with an object besides its X-Object-Meta-* (Swift's default allowed_headers)
KEPT_HEADERS = ("content-disposition", "content-encoding", "content-language", "cache-control", "expires",
                "x-robots-tag", "x-object-manifest")


def text(value: str) -> str:
    """A WSGI (latin-1) string as the UTF-8 text it stands for.

    :raises PreconditionFailed: not valid UTF-8, or a NUL in it.
    """
    try:
        decoded = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise PreconditionFailed("Invalid UTF8 or contains NULL") from None
    if "\x00" in decoded:
        raise PreconditionFailed("Invalid UTF8 or contains NULL")
    return decoded


def query(req: falcon.Request) -> dict[str, str]:
    """The query string's parameters (the last of a repeated one), decoded as UTF-8.

    :raises PreconditionFailed: a parameter not valid UTF-8, or with a NUL.
    """
    found = getattr(req.context, "swift_query", None)
    if found is None:
        try:
            pairs = urllib.parse.parse_qsl(req.env.get("QUERY_STRING", ""), keep_blank_values=True,
                                           errors="strict")
        except UnicodeDecodeError:
            raise PreconditionFailed("Invalid UTF8 or contains NULL") from None
        found = dict(pairs)
        if any("\x00" in value for value in found.values()):
            raise PreconditionFailed("Invalid UTF8 or contains NULL")
        req.context.swift_query = found
    return found


def wire(value: str) -> str:
    """Text as a WSGI header value (its UTF-8 bytes as latin-1)."""
    return value.encode("utf-8").decode("latin-1")


def path_names(req: falcon.Request) -> tuple[str, str | None, str | None]:
    """``(account, container, object)`` from the raw path below ``/v1/``."""
    raw = req.env.get("PATH_INFO", "")
    rest = raw.split("/v1/", 1)[1] if "/v1/" in raw else ""
    parts = rest.split("/", 2)
    account = text(parts[0])
    container = text(parts[1]) if len(parts) > 1 and parts[1] != "" else None
    name = text(parts[2]) if len(parts) > 2 and parts[2] != "" else None
    if name is not None and container is None:
        raise PreconditionFailed("Invalid path: an object needs a container")
    return account, container, name


def check_name(conf: Any, kind: str, name: str) -> None:
    limit = conf.object_store.max_container_name_length if kind == "container" \
        else conf.object_store.max_object_name_length
    length = len(name.encode())
    if length > limit:
        raise Invalid(f"{kind.title()} name length of {length} longer than {limit}")


def header(req: falcon.Request, name: str) -> str | None:
    value = req.get_header(name)
    return text(value) if value is not None else None


def metadata_changes(req: falcon.Request, kind: str) -> dict[str, str]:
    """``X-<kind>-Meta-*`` set (lower-cased name without the prefix -> value) and
    ``X-Remove-<kind>-Meta-*`` (-> "")."""
    prefix, remove = f"X-{kind.upper()}-META-", f"X-REMOVE-{kind.upper()}-META-"
    found: dict[str, str] = {}
    for name, value in req.headers.items():
        upper = name.upper()
        if upper.startswith(remove):
            found.setdefault(upper[len(remove):].lower(), "")
        elif upper.startswith(prefix):
            found[upper[len(prefix):].lower()] = text(value).strip()
    return found


def check_metadata(conf: Any, kind: str, metadata: Mapping[str, str]) -> None:
    """Swift's metadata limits, over what the resource would hold.

    :raises Invalid: a name or value too long, too many items, too large in all.
    """
    limits = conf.object_store
    count = size = 0
    for name, value in metadata.items():
        if value == "":
            continue
        if not name:
            raise Invalid("Metadata name cannot be empty")
        name_size, value_size = len(name.encode()), len(value.encode())
        if name_size > limits.max_meta_name_length:
            raise Invalid(f"Metadata name too long: X-{kind.title()}-Meta-{name}; max {limits.max_meta_name_length}")
        if value_size > limits.max_meta_value_length:
            raise Invalid(f"Metadata value longer than {limits.max_meta_value_length}: "
                          f"X-{kind.title()}-Meta-{name}")
        count += 1
        size += name_size + value_size
    if count > limits.max_meta_count:
        raise Invalid(f"Too many metadata items; max {limits.max_meta_count}")
    if size > limits.max_meta_overall_size:
        raise Invalid(f"Total metadata too large; max {limits.max_meta_overall_size}")


#: metadata only the owner sees (Swift hides the temp-URL keys from everyone else)
OWNER_ONLY_METADATA = ("temp-url-key", "temp-url-key-2")


def set_metadata(resp: falcon.Response, kind: str, metadata: Mapping[str, str], *, owner: bool = True) -> None:
    for name, value in metadata.items():
        if not owner and name in OWNER_ONLY_METADATA:
            continue
        resp.set_header(f"X-{kind.title()}-Meta-{name.title()}", wire(value))


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(math.ceil(timestamp), usegmt=True)


def parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.timestamp() if parsed.tzinfo else None


def x_timestamp(timestamp: float) -> str:
    return f"{timestamp:016.05f}"


def listing_time(timestamp: float) -> str:
    """``last_modified`` of JSON and XML listings (UTC, microseconds, no zone)."""
    seconds = math.floor(timestamp)
    micro = round((timestamp - seconds) * 1_000_000)
    if micro >= 1_000_000:
        seconds, micro = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micro:06d}"


def delete_at(req: falcon.Request, now: float) -> int | None:
    """The expiry an object PUT or POST asks for (``X-Delete-At`` or ``X-Delete-After``).

    :raises Invalid: not an integer, or in the past.
    """
    at, after = req.get_header("X-Delete-At"), req.get_header("X-Delete-After")
    if after is not None:
        try:
            seconds = int(after)
        except ValueError:
            raise Invalid("Non-integer X-Delete-After") from None
        if seconds < 0:
            raise Invalid("X-Delete-After in past")
        return int(now + seconds)
    if at is not None:
        try:
            moment = int(float(at))
        except ValueError:
            raise Invalid("Non-integer X-Delete-At") from None
        if moment <= now:
            raise Invalid("X-Delete-At in past")
        return moment
    return None


def content_type(req: falcon.Request, name: str) -> str:
    """The type given, or guessed from the name when absent or ``X-Detect-Content-Type`` asks."""
    given = header(req, "Content-Type")
    detect = (req.get_header("X-Detect-Content-Type") or "").lower() in ("true", "1", "yes", "on")
    if given and not detect:
        return given
    return guess_type(name)


def guess_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def kept_headers(req: falcon.Request) -> dict[str, str]:
    """An object's headers from a PUT or POST: X-Object-Meta-* and :data:`KEPT_HEADERS`."""
    kept: dict[str, str] = {}
    for name, value in req.headers.items():
        lower = name.lower()
        if lower.startswith("x-object-meta-") or lower in KEPT_HEADERS:
            kept[lower] = text(value).strip()
    return {k: v for k, v in kept.items() if v or k.startswith("x-object-meta-")}


def object_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """The X-Object-Meta-* of kept headers, as :func:`check_metadata` counts them."""
    return {k[len("x-object-meta-"):]: v for k, v in headers.items() if k.startswith("x-object-meta-")}
