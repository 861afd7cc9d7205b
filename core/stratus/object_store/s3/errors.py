"""S3's error answers: ``<Error><Code>…</Code><Message>…</Message>…</Error>`` with the status
S3 gives each code; Stratus's own errors are mapped to the nearest S3 code."""

from __future__ import annotations

from xml.sax.saxutils import escape

import falcon

from stratus.exceptions import (
    BackendUnavailable,
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    StratusError,
)
from stratus.object_store.errors import LengthRequired, PreconditionFailed, RangeNotSatisfiable, Unprocessable


class S3Error(StratusError):
    """An S3 error code with its status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = status  # type: ignore[misc]


def from_stratus(exc: StratusError, *, missing: str = "NoSuchKey") -> S3Error:
    """The S3 error for one of Stratus's (``missing``: the code a 404 stands for here)."""
    if isinstance(exc, S3Error):
        return exc
    for kind, code, status in (
        (NotFound, missing, 404), (NotAuthenticated, "AccessDenied", 403), (Forbidden, "AccessDenied", 403),
        (PayloadTooLarge, "EntityTooLarge", 400), (PreconditionFailed, "PreconditionFailed", 412),
        (RangeNotSatisfiable, "InvalidRange", 416), (Unprocessable, "BadDigest", 400),
        (LengthRequired, "MissingContentLength", 411), (Conflict, "OperationAborted", 409),
        (Invalid, "InvalidArgument", 400), (BackendUnavailable, "ServiceUnavailable", 503),
    ):
        if isinstance(exc, kind):
            if kind is PayloadTooLarge and "quota" in exc.message.lower():
                return S3Error("QuotaExceeded", exc.message, 403)
            return S3Error(code, exc.message, status)
    return S3Error("InternalError", exc.message, 500)


def render(resp: falcon.Response, error: S3Error, resource: str, request_id: str, *, body: bool = True) -> None:
    resp.status = error.http_status
    resp.content_type = "application/xml"
    if not body:
        resp.data = b""
        return
    resp.data = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                 f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
                 f"<Resource>{escape(resource)}</Resource><RequestId>{escape(request_id)}</RequestId></Error>"
                 ).encode()
