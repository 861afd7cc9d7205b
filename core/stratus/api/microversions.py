"""Microversions as the OpenStack APIs negotiate them (compute, block storage...).

A request names its version with ``OpenStack-API-Version: <service> X.Y`` (the header
may list several services) or a service's legacy header; none means the minimum,
``latest`` the maximum. A version outside the advertised range is 406, a malformed one
400. Handlers read ``req.context.microversion`` (a :class:`Version`, comparable with
``>=``) or ask :func:`at_least`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

import falcon

from stratus.exceptions import Invalid, StratusError

HEADER = "OpenStack-API-Version"
_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@total_ordering
class Version:
    def __init__(self, text: str) -> None:
        match = _VERSION.match(text.strip())
        if not match:
            raise Invalid(f"API Version String {text} is of invalid format. Must be of format "
                          "MajorNum.MinorNum.")
        self.major, self.minor = int(match.group(1)), int(match.group(2))

    def __eq__(self, other: object) -> bool:
        other = Version(other) if isinstance(other, str) else other
        return isinstance(other, Version) and (self.major, self.minor) == (other.major, other.minor)

    def __lt__(self, other: object) -> bool:
        other = Version(other) if isinstance(other, str) else other
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __hash__(self) -> int:
        return hash((self.major, self.minor))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@functools.lru_cache(maxsize=512)
def _parsed(version: str) -> Version:
    return Version(version)


def at_least(req: Any, version: str) -> bool:
    """Whether the request asked for ``version`` or later (answered once per request and
    version: a list asks it for every field of every item)."""
    answers = req.context.get("at_least") if hasattr(req.context, "get") else None
    if answers is None:
        answers = {}
        try:
            req.context.at_least = answers
        except AttributeError:
            return req.context.microversion >= _parsed(version)
    found = answers.get(version)
    if found is None:
        found = answers[version] = req.context.microversion >= _parsed(version)
    return found


def unexpected_before(req: Any, version: str, body: dict[str, Any], *fields: str) -> None:
    """:raises Invalid: ``body`` has one of ``fields``, which only exist from ``version``
    (the words of the schema error the services give for them at older versions)."""
    if not at_least(req, version):
        for name in fields:
            if name in body:
                raise Invalid(f"Invalid input for field/attribute {name}: Additional properties are not allowed "
                              f"('{name}' was unexpected); it needs microversion {version} or later")


class NotAcceptable(StratusError):
    http_status = 406
    title = "Not Acceptable"


@dataclass(frozen=True)
class Range:
    """What one API advertises: the ``service`` word of the header, and its versions."""

    service: str
    min: Version
    max: Version
    legacy_header: str | None = None

    def requested(self, headers: dict[str, str]) -> Version:
        """The version a request asked for (see the module docstring)."""
        value = None
        for part in (headers.get(HEADER.upper()) or "").split(","):
            service, _, version = part.strip().partition(" ")
            if service.lower() == self.service:
                value = version.strip()
        if value is None and self.legacy_header:
            value = headers.get(self.legacy_header.upper())
        if not value:
            return self.min
        if value.lower() == "latest":
            return self.max
        version = Version(value)
        if not self.min <= version <= self.max:
            raise NotAcceptable(f"Version {version} is not supported by the API. Minimum is {self.min} and "
                                f"maximum is {self.max}.")
        return version


class Negotiation:
    """Falcon middleware: the request's version into ``req.context.microversion`` for paths
    under ``prefix`` (elsewhere the minimum: version documents answer whatever is asked),
    and the version served into every response's headers."""

    def __init__(self, versions: Range, prefix: str) -> None:
        self.versions, self.prefix = versions, prefix

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.microversion = self.versions.min
        if req.path.startswith(self.prefix):
            req.context.microversion = self.versions.requested(req.headers)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        version = getattr(req.context, "microversion", self.versions.min)
        resp.set_header(HEADER, f"{self.versions.service} {version}")
        headers = HEADER if self.versions.legacy_header is None else f"{HEADER}, {self.versions.legacy_header}"
        if self.versions.legacy_header:
            resp.set_header(self.versions.legacy_header, str(version))
        resp.append_header("Vary", headers)
