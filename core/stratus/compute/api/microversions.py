"""Compute API microversions: what a request asked for, answered in every response.

A request names its version with ``OpenStack-API-Version: compute 2.x`` (the header may
list several services) or the legacy ``X-OpenStack-Nova-API-Version: 2.x``; none means
the minimum, ``latest`` the maximum. A version outside the advertised range is 406, a
malformed one 400, as in Nova. Handlers read ``req.context.microversion`` (a
:class:`Version`, comparable with ``>=``).
"""

from __future__ import annotations

import functools
import re
from functools import total_ordering
from typing import Any

import falcon

from stratus.exceptions import Invalid, StratusError

HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
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


MIN = Version("2.1")
MAX = Version("2.100")
"""The advertised range: a version enters it only once every implemented resource
behaves as the reference says at that version."""


@functools.lru_cache(maxsize=512)
def _parsed(version: str) -> Version:
    return Version(version)


def at_least(req: Any, version: str) -> bool:
    """Whether the request asked for ``version`` or later (answered once per request and
    version: a list asks it for every field of every server)."""
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
    (the words of the schema error Nova gives for them at older versions)."""
    from stratus.exceptions import Invalid

    if not at_least(req, version):
        for name in fields:
            if name in body:
                raise Invalid(f"Invalid input for field/attribute {name}: Additional properties are not allowed "
                              f"('{name}' was unexpected); it needs microversion {version} or later")


class NotAcceptable(StratusError):
    http_status = 406
    title = "Not Acceptable"


def requested(headers: dict[str, str]) -> Version:
    """The version a request asked for (see the module docstring)."""
    value = None
    for part in (headers.get(HEADER.upper()) or "").split(","):
        service, _, version = part.strip().partition(" ")
        if service.lower() == "compute":
            value = version.strip()
    if value is None:
        value = headers.get(LEGACY_HEADER.upper())
    if not value:
        return MIN
    if value.lower() == "latest":
        return MAX
    version = Version(value)
    if not MIN <= version <= MAX:
        raise NotAcceptable(f"Version {version} is not supported by the API. Minimum is {MIN} and maximum is {MAX}.")
    return version


class Negotiation:
    """Falcon middleware: the request's version into ``req.context.microversion``, and the
    version served into every response's headers.

    ``/v2/...`` is the legacy v2.0 API as Nova keeps it: the v2.1 resources at the minimum
    version, whatever version is asked, with no version headers in the answer."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.microversion = MIN
        req.context.legacy_v2 = req.path.startswith("/v2/")
        if req.context.legacy_v2:
            req.path = "/v2.1/" + req.path[len("/v2/"):]
        elif req.path.startswith("/v2.1/"):  # the version documents answer whatever is asked
            req.context.microversion = requested(req.headers)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        if getattr(req.context, "legacy_v2", False):
            return
        version = getattr(req.context, "microversion", MIN)
        resp.set_header(HEADER, f"compute {version}")
        resp.set_header(LEGACY_HEADER, str(version))
        resp.append_header("Vary", f"{HEADER}, {LEGACY_HEADER}")
