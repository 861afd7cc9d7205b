"""What every S3 operation shares: the request's parts, XML in and out, S3's dates and ETags,
and the buckets of the requester's account (a bucket is a container of the project's
Swift account, so both APIs see the same data)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import falcon
from defusedxml import ElementTree

from stratus.exceptions import NotFound
from stratus.object_store.api import objects as swift_objects
from stratus.object_store.api.access import Requester
from stratus.object_store.s3.auth import UNSIGNED, PayloadCheck, decode_aws_chunked
from stratus.object_store.s3.errors import S3Error
from stratus.object_store.service import ContainerInfo, ObjectInfo, ObjectService

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_BODY = 1024 * 1024
#: object headers S3 clients set and read besides x-amz-meta-* (kept as Swift keeps them)
KEPT = ("content-disposition", "content-encoding", "content-language", "cache-control", "expires")
#: sysmeta of an object completed from a multipart upload: its S3 ETag (``<md5 of part md5s>-<parts>``)
S3_ETAG = "x-object-sysmeta-s3-etag"


@dataclass
class Call:
    """One S3 request: who asks, in which account, about which bucket and key."""

    service: ObjectService
    who: Requester
    account: str
    req: falcon.Request
    resp: falcon.Response
    bucket: str | None
    key: str | None
    query: dict[str, str]


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def etag_of(info: ObjectInfo) -> str:
    return f'"{info.headers.get(S3_ETAG) or info.etag}"'


def element(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def xml(resp: falcon.Response, root: str, inner: str, status: str = falcon.HTTP_200) -> None:
    resp.status = status
    resp.content_type = "application/xml"
    resp.data = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">{inner}</{root}>'.encode()


def read_xml(call: Call) -> Any:
    """The request's XML body, namespaces dropped from tag names.

    :raises S3Error: MalformedXML.
    """
    data = b"".join(body(call, MAX_XML_BODY))
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):  # defusedxml refuses entities with ValueErrors
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                      "published schema.", 400) from None
    for node in root.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    return root


def body(call: Call, max_size: int) -> Iterator[bytes]:
    """The payload: ``aws-chunked`` decoded, its signed SHA-256 checked while it streams."""
    req = call.req
    payload = req.get_header("X-Amz-Content-SHA256") or UNSIGNED
    chunks = swift_objects.body(req, max_size)
    if payload.startswith("STREAMING-") or "aws-chunked" in (req.get_header("Content-Encoding") or ""):
        return _counted(decode_aws_chunked(chunks), req.get_header("X-Amz-Decoded-Content-Length"))
    if len(payload) == 64:
        return iter(PayloadCheck(chunks, payload))
    return chunks


def _counted(chunks: Iterator[bytes], declared: str | None) -> Iterator[bytes]:
    received = 0
    for chunk in chunks:
        received += len(chunk)
        yield chunk
    if declared is not None and declared.isdigit() and int(declared) != received:
        raise S3Error("IncompleteBody", "You did not provide the number of bytes specified by the "
                      "x-amz-decoded-content-length header.", 400)


def bucket(call: Call, name: str | None = None) -> ContainerInfo:
    """The bucket, readable by the requester.

    :raises S3Error: NoSuchBucket, AccessDenied.
    """
    if not call.who.reads(call.account):
        raise S3Error("AccessDenied", "Access Denied", 403)
    try:
        return call.service.container(call.account, name or call.bucket or "")
    except NotFound:
        raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404) from None


def writable(call: Call) -> ContainerInfo:
    info = bucket(call)
    if not call.who.owns(call.account):
        raise S3Error("AccessDenied", "Access Denied", 403)
    return info


def user_metadata(req: falcon.Request) -> dict[str, str]:
    """``x-amz-meta-*`` and the kept headers, as Swift keeps an object's (``x-object-meta-*``)."""
    from stratus.object_store.api.headers import text

    found: dict[str, str] = {}
    for name, value in req.headers.items():
        lower = name.lower()
        if lower.startswith("x-amz-meta-"):
            found["x-object-meta-" + lower[len("x-amz-meta-"):]] = text(value).strip()
        elif lower in KEPT and value:
            found[lower] = text(value).strip()
    return found


def describe(resp: falcon.Response, info: ObjectInfo) -> None:
    from stratus.object_store.api.headers import http_date, wire

    resp.set_header("ETag", etag_of(info))
    resp.set_header("Last-Modified", http_date(info.timestamp))
    resp.set_header("Accept-Ranges", "bytes")
    for name, value in info.headers.items():
        if name.startswith("x-object-meta-"):
            resp.set_header("x-amz-meta-" + name[len("x-object-meta-"):], wire(value))
        elif name in KEPT:
            resp.set_header("-".join(p.capitalize() for p in name.split("-")), wire(value))


def content_md5(call: Call) -> str | None:
    """The hex MD5 a ``Content-MD5`` header promises (None without one). :raises S3Error: InvalidDigest."""
    value = call.req.get_header("Content-MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    return digest.hex()
