"""Compute API microversions: what a request asked for, answered in every response.

A request names its version with ``OpenStack-API-Version: compute 2.x`` (the header may
list several services) or the legacy ``X-OpenStack-Nova-API-Version: 2.x``; none means
the minimum, ``latest`` the maximum. A version outside the advertised range is 406, a
malformed one 400, as in Nova. Handlers read ``req.context.microversion`` (a
:class:`Version`, comparable with ``>=``).
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.microversions import HEADER, NotAcceptable, Range, Version, at_least, unexpected_before

__all__ = ["HEADER", "LEGACY_HEADER", "MAX", "MIN", "NotAcceptable", "Version", "at_least", "requested",
           "unexpected_before"]

LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
MIN = Version("2.1")
MAX = Version("2.100")
"""The advertised range: a version enters it only once every implemented resource
behaves as the reference says at that version."""
RANGE = Range("compute", MIN, MAX, LEGACY_HEADER)


def requested(headers: dict[str, str]) -> Version:
    """The version a request asked for (see the module docstring)."""
    return RANGE.requested(headers)


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
