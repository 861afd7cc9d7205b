"""``/v1/AUTH_<project>/<container>/<object>``: store, read, describe, change, copy and
delete objects."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections.abc import Iterator

import falcon

from stratus.exceptions import Invalid, NotFound, PayloadTooLarge, StratusError
from stratus.object_store.api import bulk, containers, headers, large, ranges, versions
from stratus.object_store.api.access import Requester
from stratus.object_store.errors import LengthRequired, PreconditionFailed
from stratus.object_store.service import ContainerInfo, ObjectInfo, ObjectService

#: bytes read from a request body at a time (a large read costs less per byte; memory stays bounded)
CHUNK = 1 << 20
#: headers the service keeps for itself (an S3 upload's ETag...): never shown, never set by clients
SYSMETA = "x-object-sysmeta-"


class ClientDisconnect(Invalid):
    http_status = 499
    title = "Client Disconnect"


def describe(resp: falcon.Response, info: ObjectInfo) -> None:
    resp.set_header("ETag", info.etag)
    resp.set_header("Last-Modified", headers.http_date(info.timestamp))
    resp.set_header("X-Timestamp", headers.x_timestamp(info.timestamp))
    resp.set_header("Accept-Ranges", "bytes")
    if info.delete_at is not None:
        resp.set_header("X-Delete-At", str(info.delete_at))
    for name, value in info.headers.items():
        if not name.startswith(SYSMETA):
            resp.set_header("-".join(part.capitalize() for part in name.split("-")), headers.wire(value))


def body(req: falcon.Request, max_size: int) -> Iterator[bytes]:
    """The request body in chunks: exactly ``Content-Length`` bytes, or up to the end of a
    chunked body; never more than ``max_size``.

    :raises LengthRequired: neither Content-Length nor chunked.
    :raises PayloadTooLarge: more than ``max_size`` bytes.
    """
    stream = req.env["wsgi.input"]
    declared = req.content_length
    chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
    if declared is None and not chunked:
        raise LengthRequired("Missing Content-Length and not chunked")
    if declared is not None and declared > max_size:
        raise PayloadTooLarge("Your request is too large.")

    def read() -> Iterator[bytes]:
        received = 0
        while declared is None or received < declared:
            wanted = CHUNK if declared is None else min(CHUNK, declared - received)
            chunk = stream.read(wanted)
            if not chunk:
                if declared is not None:
                    raise ClientDisconnect(f"The body ended after {received} of {declared} bytes.")
                return
            received += len(chunk)
            if received > max_size:
                raise PayloadTooLarge("Your request is too large.")
            yield chunk

    return read()


def _source(req: falcon.Request, value: str, account: str) -> tuple[str, str, str]:
    """``(account, container, object)`` named by X-Copy-From or Destination (URL-quoted)."""
    try:
        path = urllib.parse.unquote(headers.text(value), errors="strict")
    except UnicodeDecodeError:
        raise PreconditionFailed("Invalid UTF8 or contains NULL") from None
    container, _, name = path.lstrip("/").partition("/")
    if not container or not name:
        raise PreconditionFailed("A copy source or destination must be <container>/<object>.")
    return account, container, name


def _readable(service: ObjectService, who: Requester, account: str, container: str,
              name: str | None) -> ObjectInfo:
    if name is None:
        info = containers.visible(service, who, account, container)
        who.check_container_read(account, info.read_acl, listing=False)
        return None  # type: ignore[return-value]
    try:
        info, found = service.lookup(account, container, name)
    except NotFound:
        if not who.reads(account):
            raise who.refuse(f"use account {account}") from None
        raise
    who.check_container_read(account, info.read_acl, listing=False)
    if found is None:
        raise NotFound(f"Object {name} not found")
    return found


def _writable(service: ObjectService, who: Requester, account: str, container: str) -> ContainerInfo:
    info = containers.visible(service, who, account, container)
    who.check_container_write(account, info.write_acl)
    return info


def _manifest_param(req: falcon.Request) -> str:
    return headers.query(req).get("multipart-manifest", "").lower()


def head(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
         container: str, name: str) -> None:
    get(service, who, req, resp, account, container, name, send=False)


def get(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
        container: str, name: str, send: bool = True) -> None:
    info = _readable(service, who, account, container, name)
    describe(resp, info)
    resp.content_type = info.content_type
    readable = lambda a, c, n: _readable(service, who, a, c, n)  # noqa: E731
    assembled = None
    if _manifest_param(req) == "get":
        if info.kind == "slo":
            resp.set_header("X-Static-Large-Object", "True")
            resp.content_type = "application/json; charset=utf-8"
            if headers.query(req).get("format") == "raw":
                body_bytes = json.dumps(large.raw_manifest(large.manifest_entries(service, info))).encode()
                resp.set_header("ETag", hashlib.md5(body_bytes, usedforsecurity=False).hexdigest())
                resp.content_length = len(body_bytes)
                resp.data = body_bytes if send else None
                resp.status = falcon.HTTP_200
                return
    else:
        assembled = large.assemble(service, account, info, readable)
    if info.kind == "slo":
        resp.set_header("X-Static-Large-Object", "True")
    etag = info.etag
    if assembled is not None:
        resp.set_header("ETag", assembled.etag)
        etag = assembled.etag.strip('"')
    if not ranges.check_conditions(req, etag, info.timestamp):
        resp.status = falcon.HTTP_304
        resp.content_length = 0
        return
    size = info.stored_size if assembled is None else assembled.size
    if assembled is not None:
        def read(offset: int = 0, length: int | None = None) -> Iterator[bytes]:
            return large.read(service, assembled, offset, size - offset if length is None else length)
    else:
        def read(offset: int = 0, length: int | None = None) -> Iterator[bytes]:
            return service.read(info, offset, length)
    try:
        wanted = ranges.parse_ranges(req.get_header("Range"), size)
    except Exception:
        resp.set_header("Content-Range", f"bytes */{size}")
        raise
    if wanted is None:
        resp.status = falcon.HTTP_200
        resp.content_length = size
        if send:
            resp.stream = read()
        return
    resp.status = falcon.HTTP_206
    if len(wanted) == 1:
        start, end = wanted[0]
        resp.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        resp.content_length = end - start
        if send:
            resp.stream = read(start, end - start)
        return
    media, length, parts = ranges.multipart(wanted, size, info.content_type, read)
    resp.content_type = media
    resp.content_length = length
    resp.stream = parts if send else None


def put(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
        container: str, name: str) -> None:
    headers.check_name(service.conf, "object", name)
    target = _writable(service, who, account, container)
    writable = lambda a, c: _writable(service, who, a, c)  # noqa: E731
    copy_from = req.get_header("X-Copy-From")
    if copy_from is not None:
        source_account = headers.header(req, "X-Copy-From-Account") or account
        _copy(service, who, req, resp, _source(req, copy_from, source_account), (account, container, name), target)
        return
    if_none_match = req.get_header("If-None-Match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise Invalid("If-None-Match only supports *")
    now = time.time()
    kept = headers.kept_headers(req)
    headers.check_metadata(service.conf, "object", headers.object_metadata(kept))
    expires = headers.delete_at(req, now)
    versions.archive_current(service, account, target, name, writable)
    if _manifest_param(req) == "put":
        segments = large.parse_manifest(b"".join(body(req, large.MAX_MANIFEST_SIZE)))
        manifest, total, etag = large.build_manifest(
            segments, account, lambda a, c, n: _readable(service, who, a, c, n))
        kept.pop("x-object-manifest", None)
        info = service.put_object(account, container, name, [manifest], content_type=headers.content_type(req, name),
                                  headers=kept, delete_at=expires, kind="slo", listed=(total, etag),
                                  if_none_match=if_none_match is not None)
        _created(resp, info)
        resp.set_header("ETag", f'"{etag}"')
        return
    if req.content_length is not None and req.content_length > CHUNK:  # refuse early what cannot fit
        service.check_quota(account, target, name, req.content_length)
    data = body(req, service.conf.object_store.max_file_size)
    info = service.put_object(account, container, name, data, content_type=headers.content_type(req, name),
                              headers=kept, delete_at=expires, etag=req.get_header("ETag"),
                              if_none_match=if_none_match is not None)
    _created(resp, info)


def _created(resp: falcon.Response, info: ObjectInfo) -> None:
    resp.status = falcon.HTTP_201
    resp.set_header("ETag", info.etag)
    resp.set_header("Last-Modified", headers.http_date(info.timestamp))
    resp.content_type = "text/html; charset=UTF-8"
    resp.content_length = 0


def copy(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
         container: str, name: str) -> None:
    destination = req.get_header("Destination")
    if not destination:
        raise PreconditionFailed("A COPY needs a Destination header: <container>/<object>.")
    target_account = headers.header(req, "Destination-Account") or account
    _, target_container, target_name = _source(req, destination, target_account)
    headers.check_name(service.conf, "object", target_name)
    target_info = _writable(service, who, target_account, target_container)
    _copy(service, who, req, resp, (account, container, name), (target_account, target_container, target_name),
          target_info)


def _copy(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response,
          source: tuple[str, str, str], target: tuple[str, str, str], destination: ContainerInfo) -> None:
    """Copy ``source`` to ``target`` (account, container, name); ``destination`` is the target's
    container, already checked writable."""
    if req.content_length:
        raise Invalid("A copy takes no body (Content-Length: 0).")
    try:
        info = _readable(service, who, *source)
    except NotFound:
        raise NotFound(f"Copy source {source[1]}/{source[2]} not found") from None
    fresh = (req.get_header("X-Fresh-Metadata") or "").lower() in ("true", "1", "yes", "on")
    kept = {} if fresh else dict(info.headers)
    given = headers.kept_headers(req)
    kept.update(given)
    headers.check_metadata(service.conf, "object", headers.object_metadata(kept))
    now = time.time()
    content_type = headers.header(req, "Content-Type") or info.content_type
    expires = headers.delete_at(req, now)
    versions.archive_current(service, target[0], destination, target[2],
                             lambda a, c: _writable(service, who, a, c))
    assembled = None
    if _manifest_param(req) != "get":
        assembled = large.assemble(service, source[0], info,
                                   lambda a, c, n: _readable(service, who, a, c, n))
    if assembled is not None:  # a large object is copied as the bytes it stands for
        kept.pop("x-object-manifest", None)
        kept = {k: v for k, v in kept.items() if not k.startswith(SYSMETA)}
        result = service.put_object(*target, large.read(service, assembled, 0, assembled.size),
                                    content_type=content_type, headers=kept, delete_at=expires)
    else:
        result = service.copy_object(info, *target, content_type=content_type, headers=kept, delete_at=expires)
    _created(resp, result)
    for header_name, value in result.headers.items():  # Swift's copy answers with the new object's metadata
        if header_name.startswith(SYSMETA):
            continue
        resp.set_header("-".join(part.capitalize() for part in header_name.split("-")), headers.wire(value))
    resp.set_header("X-Copied-From", headers.wire(urllib.parse.quote(f"{source[1]}/{source[2]}")))
    resp.set_header("X-Copied-From-Last-Modified", headers.http_date(info.timestamp))
    if source[0] != target[0]:
        resp.set_header("X-Copied-From-Account", headers.wire(source[0]))


def post(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
         container: str, name: str) -> None:
    _writable(service, who, account, container)
    kept = headers.kept_headers(req)
    headers.check_metadata(service.conf, "object", headers.object_metadata(kept))
    content_type = headers.header(req, "Content-Type")
    now = time.time()
    current = service.head_object(account, container, name)
    expires = headers.delete_at(req, now)
    if expires is None and req.get_header("X-Remove-Delete-At") is None:
        expires = current.delete_at
    if "x-object-manifest" not in kept and "x-object-manifest" in current.headers:
        kept["x-object-manifest"] = current.headers["x-object-manifest"]
    service.post_object(account, container, name, headers=kept, content_type=content_type, delete_at=expires)
    resp.status = falcon.HTTP_202
    resp.content_type = "text/html; charset=UTF-8"


def delete(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
           container: str, name: str) -> None:
    if _manifest_param(req) == "delete":
        _writable(service, who, account, container)
        _delete_slo(service, who, req, resp, account, container, name)
        return
    delete_one(service, who, account, container, name)
    resp.status = falcon.HTTP_204


def delete_one(service: ObjectService, who: Requester, account: str, container: str, name: str) -> None:
    """Delete one object as a DELETE of it would (write access, versioning)."""
    target = _writable(service, who, account, container)
    if not versions.delete(service, account, target, name, lambda a, c: _writable(service, who, a, c)):
        service.delete_object(account, container, name)


def put_one(service: ObjectService, who: Requester, account: str, container: str, name: str,
            data: Iterator[bytes]) -> None:
    """Store one object as a plain PUT of it would (write access, versioning), its type from its name."""
    target = _writable(service, who, account, container)
    versions.archive_current(service, account, target, name, lambda a, c: _writable(service, who, a, c))
    service.put_object(account, container, name, data, content_type=headers.guess_type(name), headers={})


def _delete_slo(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
                container: str, name: str) -> None:
    """Delete a static large object's segments, then its manifest (Swift's bulk-delete answer)."""
    info = _readable(service, who, account, container, name)
    deleted = missing = 0
    errors: list[list[str]] = []
    if info.kind == "slo":
        for entry in large.manifest_entries(service, info):
            segment_container, segment = large.split_path(entry["name"])
            try:
                _writable(service, who, account, segment_container)
                service.delete_object(account, segment_container, segment)
                deleted += 1
            except NotFound:
                missing += 1
            except StratusError as exc:
                errors.append([entry["name"], f"{exc.http_status} {exc.title}"])
    service.delete_object(account, container, name)
    bulk.answer(req, resp, bulk.delete_outcome(deleted + 1, missing, errors))
