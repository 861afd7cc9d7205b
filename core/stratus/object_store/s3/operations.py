"""S3's bucket and object operations over the object service: list buckets; create, head,
delete and list buckets (ListObjects v1 and v2); put, get (ranged, conditional), head, copy
and delete objects; delete many at once."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import falcon

from stratus.exceptions import Conflict, NotFound, StratusError
from stratus.object_store.api import headers as swift_headers
from stratus.object_store.api import large, ranges
from stratus.object_store.listing import Listing, Subdir
from stratus.object_store.s3 import common
from stratus.object_store.s3.common import Call, element, etag_of, iso, xml
from stratus.object_store.s3.errors import S3Error, from_stratus
from stratus.object_store.service import ContainerChange, ObjectInfo

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_KEYS = 1000
MAX_DELETE_KEYS = 1000


def _owner(call: Call) -> str:
    context = call.who.context
    return (f"<Owner>{element('ID', context.project_id)}{element('DisplayName', context.project_name or '')}"
            "</Owner>")


# -- buckets --------------------------------------------------------------------------


def list_buckets(call: Call) -> None:
    if not call.who.reads(call.account):
        raise S3Error("AccessDenied", "Access Denied", 403)
    entries = call.service.list_containers(call.account, Listing(limit=10000))
    buckets = "".join(f"<Bucket>{element('Name', b.name)}{element('CreationDate', iso(b.created_at))}</Bucket>"
                      for b in entries if not isinstance(b, Subdir) and not b.name.endswith("+segments"))
    xml(call.resp, "ListAllMyBucketsResult", f"{_owner(call)}<Buckets>{buckets}</Buckets>")


def create_bucket(call: Call) -> None:
    name = call.bucket or ""
    if not _BUCKET.match(name) or ".." in name:
        raise S3Error("InvalidBucketName", "The specified bucket is not valid.", 400)
    if not call.who.owns(call.account):
        raise S3Error("AccessDenied", "Access Denied", 403)
    if call.req.content_length:
        common.read_xml(call)  # a CreateBucketConfiguration: one region here, any constraint is it
    created = call.service.put_container(call.account, name, ContainerChange())
    if not created:
        raise S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded "
                      "and you already own it.", 409)
    call.resp.set_header("Location", f"/{name}")
    call.resp.status = falcon.HTTP_200


def head_bucket(call: Call) -> None:
    common.bucket(call)
    call.resp.status = falcon.HTTP_200


def delete_bucket(call: Call) -> None:
    common.writable(call)
    try:
        call.service.delete_container(call.account, call.bucket or "")
    except Conflict:
        raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", 409) from None
    with contextlib.suppress(NotFound, Conflict):
        call.service.delete_container(call.account, f"{call.bucket}+segments")
    call.resp.status = falcon.HTTP_204


def bucket_location(call: Call) -> None:
    common.bucket(call)
    xml(call.resp, "LocationConstraint", "")


def bucket_versioning(call: Call) -> None:
    common.bucket(call)
    xml(call.resp, "VersioningConfiguration", "")


def _max_keys(call: Call) -> int:
    value = call.query.get("max-keys", str(MAX_KEYS))
    if not value.isdigit():
        raise S3Error("InvalidArgument", "max-keys must be a non-negative integer", 400)
    return min(int(value), MAX_KEYS)


def list_objects(call: Call) -> None:
    common.bucket(call)
    query = call.query
    v2 = query.get("list-type") == "2"
    url = query.get("encoding-type") == "url"
    if query.get("encoding-type") not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
    limit = _max_keys(call)
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    if v2:
        token = query.get("continuation-token")
        if token is not None:
            try:
                marker = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise S3Error("InvalidArgument", "The continuation token provided is incorrect", 400) from None
        else:
            marker = query.get("start-after", "")
    else:
        marker = query.get("marker", "")
    entries: list[Any] = []
    if limit:
        _, entries = call.service.list_objects(call.account, call.bucket or "",
                                               Listing(prefix=prefix, marker=marker, delimiter=delimiter,
                                                       limit=limit + 1))
    truncated = len(entries) > limit
    entries = entries[:limit]

    def name(value: str) -> str:
        return urllib.parse.quote(value, safe="/") if url else value

    contents = "".join(
        f"<Contents>{element('Key', name(e.name))}{element('LastModified', iso(e.timestamp))}"
        f"{element('ETag', etag_of(e))}{element('Size', e.size)}{element('StorageClass', 'STANDARD')}"
        f"{_owner(call) if not v2 or query.get('fetch-owner') == 'true' else ''}</Contents>"
        for e in entries if isinstance(e, ObjectInfo))
    prefixes = "".join(f"<CommonPrefixes>{element('Prefix', name(e.name))}</CommonPrefixes>"
                       for e in entries if isinstance(e, Subdir))
    inner = (f"{element('Name', call.bucket)}{element('Prefix', name(prefix))}"
             f"{element('MaxKeys', limit)}{element('IsTruncated', 'true' if truncated else 'false')}")
    if delimiter:
        inner += element("Delimiter", name(delimiter))
    if url:
        inner += element("EncodingType", "url")
    last = entries[-1].name if entries else ""
    if v2:
        inner += element("KeyCount", len(entries))
        if "continuation-token" in query:
            inner += element("ContinuationToken", query["continuation-token"])
        if "start-after" in query:
            inner += element("StartAfter", name(query["start-after"]))
        if truncated:
            inner += element("NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode())
    else:
        inner += element("Marker", name(marker))
        if truncated and delimiter:
            inner += element("NextMarker", name(last))
    xml(call.resp, "ListBucketResult", inner + contents + prefixes)


def delete_objects(call: Call) -> None:
    common.writable(call)
    root = common.read_xml(call)
    if root.tag != "Delete":
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate.", 400)
    quiet = (root.findtext("Quiet") or "").lower() == "true"
    keys = [node.findtext("Key") for node in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS or any(k is None for k in keys):
        raise S3Error("MalformedXML", f"Between 1 and {MAX_DELETE_KEYS} keys, each with a Key", 400)
    done = []
    for key in keys:
        try:
            _delete_one(call, key)
            if not quiet:
                done.append(f"<Deleted>{element('Key', key)}</Deleted>")
        except StratusError as exc:
            error = from_stratus(exc)
            done.append(f"<Error>{element('Key', key)}{element('Code', error.code)}"
                        f"{element('Message', error.message)}</Error>")
    xml(call.resp, "DeleteResult", "".join(done))


# -- objects --------------------------------------------------------------------------


def put_object(call: Call) -> None:
    common.writable(call)
    key = call.key or ""
    swift_headers.check_name(call.service.conf, "object", key)
    data = common.body(call, call.service.conf.object_store.max_file_size)
    content_type = call.req.get_header("Content-Type") or swift_headers.guess_type(key)
    info = call.service.put_object(call.account, call.bucket or "", key, data, content_type=content_type,
                                   headers=common.user_metadata(call.req), etag=common.content_md5(call))
    call.resp.set_header("ETag", etag_of(info))
    call.resp.status = falcon.HTTP_200


def _source(call: Call) -> tuple[str, str]:
    value = urllib.parse.unquote(call.req.get_header("X-Amz-Copy-Source") or "")
    path = value.split("?", 1)[0].lstrip("/")
    source_bucket, _, source_key = path.partition("/")
    if not source_bucket or not source_key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: "
                      "sourcebucket/sourcekey", 400)
    return source_bucket, source_key


def _readable(call: Call, bucket_name: str, key: str) -> ObjectInfo:
    common.bucket(call, bucket_name)
    try:
        return call.service.head_object(call.account, bucket_name, key)
    except NotFound:
        raise S3Error("NoSuchKey", "The specified key does not exist.", 404) from None


def _assembled(call: Call, info: ObjectInfo) -> large.Assembled | None:
    return large.assemble(call.service, call.account, info, lambda a, c, n: _readable(call, c, n) if n else None)


def copy_object(call: Call) -> None:
    common.writable(call)
    source_bucket, source_key = _source(call)
    info = _readable(call, source_bucket, source_key)
    if not ranges.check_conditions(_CopyConditions(call.req), info.etag, info.timestamp):
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
    directive = (call.req.get_header("X-Amz-Metadata-Directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.", 400)
    replacing = directive == "REPLACE"
    if (call.bucket, call.key) == (source_bucket, source_key) and not replacing:
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata.", 400)
    kept = common.user_metadata(call.req) if replacing else {
        k: v for k, v in info.headers.items() if not k.startswith("x-object-sysmeta-")}
    content_type = (call.req.get_header("Content-Type") if replacing else None) or info.content_type
    assembled = _assembled(call, info)
    if assembled is not None:
        result = call.service.put_object(call.account, call.bucket or "", call.key or "",
                                         large.read(call.service, assembled, 0, assembled.size),
                                         content_type=content_type, headers=kept)
    else:
        result = call.service.copy_object(info, call.account, call.bucket or "", call.key or "",
                                          content_type=content_type, headers=kept)
    xml(call.resp, "CopyObjectResult", element("LastModified", iso(result.timestamp)) + element("ETag",
                                                                                               etag_of(result)))


class _CopyConditions:
    """``x-amz-copy-source-if-*`` seen as the plain conditional headers."""

    def __init__(self, req: falcon.Request) -> None:
        self.req = req

    def get_header(self, name: str) -> str | None:
        return self.req.get_header(f"X-Amz-Copy-Source-{name}")


def get_object(call: Call, *, send: bool = True) -> None:
    info = _readable(call, call.bucket or "", call.key or "")
    resp = call.resp
    common.describe(resp, info)
    resp.content_type = call.query.get("response-content-type") or info.content_type
    for param, header in (("response-content-disposition", "Content-Disposition"),
                          ("response-cache-control", "Cache-Control"),
                          ("response-content-encoding", "Content-Encoding"),
                          ("response-content-language", "Content-Language"), ("response-expires", "Expires")):
        if param in call.query:
            resp.set_header(header, swift_headers.wire(call.query[param]))
    assembled = _assembled(call, info)
    size = assembled.size if assembled is not None else info.stored_size
    if not ranges.check_conditions(call.req, etag_of(info).strip('"'), info.timestamp):
        resp.status = falcon.HTTP_304
        resp.content_length = 0
        return

    def read(offset: int, length: int) -> Iterator[bytes]:
        if assembled is not None:
            return large.read(call.service, assembled, offset, length)
        return call.service.read(info, offset, length)

    try:
        wanted = ranges.parse_ranges(call.req.get_header("Range"), size)
    except StratusError:
        raise S3Error("InvalidRange", "The requested range is not satisfiable", 416) from None
    if wanted is not None and len(wanted) == 1:  # S3 serves one range; several mean the whole object
        start, end = wanted[0]
        resp.status = falcon.HTTP_206
        resp.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        resp.content_length = end - start
        resp.stream = read(start, end - start) if send else None
        return
    resp.status = falcon.HTTP_200
    resp.content_length = size
    resp.stream = read(0, size) if send else None


def head_object(call: Call) -> None:
    get_object(call, send=False)


def _delete_one(call: Call, key: str) -> None:
    try:
        info = call.service.head_object(call.account, call.bucket or "", key)
    except NotFound:
        return  # S3: deleting what is not there succeeds
    if info.kind == "slo" and common.S3_ETAG in info.headers:  # a completed upload: its parts go too
        for entry in large.manifest_entries(call.service, info):
            container, name = large.split_path(entry["name"])
            with contextlib.suppress(NotFound):
                call.service.delete_object(call.account, container, name)
    with contextlib.suppress(NotFound):
        call.service.delete_object(call.account, call.bucket or "", key)


def delete_object(call: Call) -> None:
    common.writable(call)
    _delete_one(call, call.key or "")
    call.resp.status = falcon.HTTP_204
