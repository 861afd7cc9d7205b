"""The object service's refusals that have no general Stratus equivalent (Swift's statuses)."""

from __future__ import annotations

from stratus.exceptions import StratusError


class PreconditionFailed(StratusError):
    """412: a name that is not valid UTF-8, a listing limit over the maximum, a failed
    ``If-Match``/``If-None-Match``/``If-Unmodified-Since``."""

    http_status = 412
    title = "Precondition Failed"


class LengthRequired(StratusError):
    """411: an object PUT with neither ``Content-Length`` nor chunked transfer encoding."""

    http_status = 411
    title = "Length Required"


class RangeNotSatisfiable(StratusError):
    """416: no range of ``Range`` overlaps the object."""

    http_status = 416
    title = "Requested Range Not Satisfiable"


class Unprocessable(StratusError):
    """422: the bytes received do not match the ``ETag`` the client sent."""

    http_status = 422
    title = "Unprocessable Entity"
