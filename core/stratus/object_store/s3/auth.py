"""AWS signatures on the S3 endpoint: the string to sign rebuilt from the request as received
(``Authorization`` header or presigned query; Signature Version 4, and version 2 which
older clients and boto3's presigned URLs still use), then checked by identity with the EC2
credential's secret (``POST /v3/s3tokens``), which only identity holds.

What is checked here: the request's date against the clock (15 minutes either way) or a
presigned URL's expiry (at most 7 days), and, when the client signed the payload's SHA-256
(``x-amz-content-sha256``), that the body has it (:class:`PayloadCheck`). Chunk signatures
of ``aws-chunked`` uploads are not checked (the request's own signature is).
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import falcon

from stratus.object_store.s3.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 15 * 60
MAX_EXPIRES = 7 * 24 * 3600
UNSIGNED = "UNSIGNED-PAYLOAD"
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class SignedRequest:
    access: str
    string_to_sign: str
    signature: str
    #: ``x-amz-content-sha256`` (or UNSIGNED-PAYLOAD for presigned URLs)
    payload: str
    #: other strings the client may have signed (version 2: the resource without the mount point)
    alternatives: tuple[str, ...] = ()


def _encode(value: str, safe: str) -> str:
    return urllib.parse.quote(value, safe=safe)


def canonical_uri(req: falcon.Request) -> str:
    """The path as S3 clients put it in the canonical request: percent-decoded, then every
    byte but unreserved characters and ``/`` encoded."""
    raw = req.env.get("RAW_URI") or req.env.get("REQUEST_URI")
    if raw:
        path = urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(raw).path)
    else:
        path = (req.env.get("SCRIPT_NAME", "") + req.env.get("PATH_INFO", "")).encode("latin-1")
    return urllib.parse.quote_from_bytes(path, safe="/~") or "/"


def canonical_query(query_string: str, *, drop: str | None = None) -> str:
    pairs = []
    for part in query_string.split("&") if query_string else []:
        key, _, value = part.partition("=")
        key = urllib.parse.unquote(key)
        if key == drop:
            continue
        pairs.append((_encode(key, "-_.~"), _encode(urllib.parse.unquote(value), "-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header(req: falcon.Request, name: str) -> str:
    if name == "host":
        return req.env.get("HTTP_HOST", "")
    value = req.get_header(name) or ""
    return _SPACES.sub(" ", value.strip())


def _amz_time(value: str) -> float:
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403) from None


def _fields(header: str) -> dict[str, str]:
    fields = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields[key.strip()] = value.strip()
    return fields


def signed_request(req: falcon.Request) -> SignedRequest | None:
    """The request's signature and what it signs; None for an anonymous request.

    :raises S3Error: a signature of another algorithm, malformed, too old, or expired.
    """
    query = urllib.parse.parse_qs(req.env.get("QUERY_STRING", ""), keep_blank_values=True)
    authorization = req.get_header("Authorization")
    if authorization is None and "X-Amz-Signature" not in query:
        if "Signature" in query or "AWSAccessKeyId" in query:
            return _v2_query(req, query)
        return None
    if authorization is not None and authorization.startswith("AWS "):
        return _v2_header(req, authorization)
    if authorization is not None:
        found = _AUTH.match(authorization)
        if found is None:
            raise S3Error("InvalidRequest", "Only AWS Signature Versions 4 (AWS4-HMAC-SHA256) and 2 are supported",
                          400)
        fields = _fields(found.group(1))
        try:
            credential, signed_headers, signature = (fields["Credential"], fields["SignedHeaders"],
                                                     fields["Signature"])
        except KeyError:
            raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed", 400) from None
        amz_date = req.get_header("X-Amz-Date") or ""
        if abs(time.time() - _amz_time(amz_date)) > MAX_SKEW:
            raise S3Error("RequestTimeTooSkewed",
                          "The difference between the request time and the current time is too large.", 403)
        payload = req.get_header("X-Amz-Content-SHA256")
        if payload is None:
            raise S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
        drop = None
    else:
        def one(name: str) -> str:
            values = query.get(name)
            if not values:
                raise S3Error("AuthorizationQueryParametersError", f"Query-string authentication needs {name}", 400)
            return values[0]

        if one("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error("AuthorizationQueryParametersError", f"X-Amz-Algorithm must be {ALGORITHM}", 400)
        credential, signed_headers, signature = one("X-Amz-Credential"), one("X-Amz-SignedHeaders"), \
            one("X-Amz-Signature")
        amz_date = one("X-Amz-Date")
        try:
            expires = int(one("X-Amz-Expires"))
        except ValueError:
            raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be a number", 400) from None
        if not 0 < expires <= MAX_EXPIRES:
            raise S3Error("AuthorizationQueryParametersError",
                          f"X-Amz-Expires must be between 1 and {MAX_EXPIRES} seconds", 400)
        if time.time() > _amz_time(amz_date) + expires:
            raise S3Error("AccessDenied", "Request has expired", 403)
        payload = UNSIGNED
        drop = "X-Amz-Signature"
    access, _, scope = credential.partition("/")
    if scope.count("/") != 3 or not scope.endswith("/aws4_request"):
        raise S3Error("AuthorizationHeaderMalformed", f"Invalid credential scope {scope!r}", 400)
    names = signed_headers.lower().split(";")
    if "host" not in names:
        raise S3Error("AccessDenied", "The host header must be signed", 403)
    canonical = "\n".join([
        req.method, canonical_uri(req), canonical_query(req.env.get("QUERY_STRING", ""), drop=drop),
        "".join(f"{name}:{_header(req, name)}\n" for name in names), ";".join(names), payload,
    ])
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return SignedRequest(access, string_to_sign, signature, payload)


#: query parameters that are part of a version 2 signature's resource (as S3 and botocore list them)
V2_SUBRESOURCES = frozenset({
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
    "requestPayment", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "tagging", "restore", "select", "select-type",
})


def _v2_strings(req: falcon.Request, date: str) -> tuple[str, ...]:
    """Signature Version 2's strings to sign: verb, Content-MD5, Content-Type, date (or expiry),
    the x-amz-* headers, then the resource with its sub-resources — the path as sent, or (as
    botocore signs headers) ``/<bucket>/<key>`` without the endpoint's mount point."""
    amz: dict[str, list[str]] = {}
    for name, value in req.headers.items():
        lower = name.lower()
        if lower.startswith("x-amz-"):
            amz.setdefault(lower, []).append(_SPACES.sub(" ", value.strip()))
    headers = "".join(f"{name}:{','.join(values)}\n" for name, values in sorted(amz.items()))
    raw = req.env.get("RAW_URI") or req.env.get("REQUEST_URI")
    path = urllib.parse.urlsplit(raw).path if raw else urllib.parse.quote_from_bytes(
        (req.env.get("SCRIPT_NAME", "") + req.env.get("PATH_INFO", "")).encode("latin-1"), safe="/~")
    resources = []
    for part in (req.env.get("QUERY_STRING") or "").split("&"):
        key, sep, value = part.partition("=")
        if key in V2_SUBRESOURCES:
            resources.append(f"{key}={urllib.parse.unquote(value)}" if sep and value else key)
    mount = urllib.parse.quote(req.env.get("SCRIPT_NAME", "").rstrip("/"), safe="/~")
    paths = [path]
    if mount and path.startswith(mount + "/"):
        inner = path[len(mount):]
        paths.append(inner if inner.count("/") > 1 else inner.rstrip("/") + "/")
    suffix = "?" + "&".join(sorted(resources)) if resources else ""
    head = "\n".join([req.method, req.get_header("Content-MD5") or "", req.get_header("Content-Type") or "", date, ""])
    return tuple(head + headers + candidate + suffix for candidate in paths)


def _v2_header(req: falcon.Request, authorization: str) -> SignedRequest:
    access, _, signature = authorization[4:].strip().rpartition(":")
    if not access or not signature:
        raise S3Error("InvalidArgument", "AWS authorization header is invalid. Expected AwsAccessKeyId:signature",
                      400)
    when = req.get_header("X-Amz-Date") or req.get_header("Date") or ""
    try:
        moment = email.utils.parsedate_to_datetime(when).timestamp()
    except (TypeError, ValueError):
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403) from None
    if abs(time.time() - moment) > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed",
                      "The difference between the request time and the current time is too large.", 403)
    date = "" if req.get_header("X-Amz-Date") else when
    first, *others = _v2_strings(req, date)
    return SignedRequest(access, first, signature, UNSIGNED, tuple(others))


def _v2_query(req: falcon.Request, query: dict[str, list[str]]) -> SignedRequest:
    try:
        access, signature, expires = query["AWSAccessKeyId"][0], query["Signature"][0], query["Expires"][0]
    except KeyError as missing:
        raise S3Error("AccessDenied", f"Query-string authentication needs {missing.args[0]}", 403) from None
    if not expires.isdigit():
        raise S3Error("AccessDenied", "Expires must be a Unix time", 403)
    if time.time() > int(expires):
        raise S3Error("AccessDenied", "Request has expired", 403)
    first, *others = _v2_strings(req, expires)
    return SignedRequest(access, first, signature, UNSIGNED, tuple(others))


class PayloadCheck:
    """Wraps a body whose SHA-256 the client signed: raises at its end when it differs (so
    the write that consumed it keeps nothing)."""

    def __init__(self, chunks: Iterator[bytes], expected: str) -> None:
        self.chunks, self.expected, self.digest = chunks, expected.lower(), hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.digest.update(chunk)
            yield chunk
        if self.digest.hexdigest() != self.expected:
            raise S3Error("XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)


def decode_aws_chunked(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The payload of an ``aws-chunked`` body (``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``
    ... ``0...\\r\\n`` then trailers), trailers dropped.

    :raises S3Error: a malformed body.
    """
    buffer = bytearray()
    source = iter(chunks)

    def fill(wanted: int) -> bool:
        while len(buffer) < wanted:
            chunk = next(source, None)
            if chunk is None:
                return False
            buffer.extend(chunk)
        return True

    def line() -> bytes:
        while True:
            end = buffer.find(b"\r\n")
            if end >= 0:
                found = bytes(buffer[:end])
                del buffer[:end + 2]
                return found
            if len(buffer) > 4096 or not fill(len(buffer) + 1):
                raise S3Error("IncompleteBody", "The aws-chunked body is malformed", 400)

    while True:
        head = line()
        try:
            size = int(head.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise S3Error("IncompleteBody", "The aws-chunked body is malformed", 400) from None
        if size == 0:
            return
        if not fill(size + 2):
            raise S3Error("IncompleteBody", "The aws-chunked body ended early", 400)
        yield bytes(buffer[:size])
        del buffer[:size + 2]


def context_for(signatures: Any, signed: SignedRequest) -> Any:
    """Who signed (identity's answer)."""
    from stratus.exceptions import NotAuthenticated

    for alternative in signed.alternatives:
        try:
            return signatures.check(signed.access, signed.string_to_sign, signed.signature)
        except NotAuthenticated:
            signed = SignedRequest(signed.access, alternative, signed.signature, signed.payload)
    try:
        return signatures.check(signed.access, signed.string_to_sign, signed.signature)
    except NotAuthenticated as exc:
        code = "InvalidAccessKeyId" if "not known" in str(exc) else "SignatureDoesNotMatch"
        raise S3Error(code, "The request signature we calculated does not match the signature you provided."
                      if code == "SignatureDoesNotMatch" else
                      "The AWS Access Key Id you provided does not exist in our records.", 403) from None
