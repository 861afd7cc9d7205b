"""S3 multipart uploads, kept as Swift's s3api keeps them: the parts are objects
``<key>/<upload id>/<part number>`` of the container ``<bucket>+segments``, next to a marker
object ``<key>/<upload id>`` holding the upload's content type and metadata; completing
writes a Static Large Object over the parts at ``<key>`` (so the Swift API reads it too)
with S3's ETag (the MD5 of the parts' binary MD5s, ``-<count>``) and drops the marker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid

import falcon

from stratus.exceptions import NotFound
from stratus.object_store.api import headers as swift_headers
from stratus.object_store.api import large
from stratus.object_store.listing import Listing
from stratus.object_store.s3 import common
from stratus.object_store.s3.common import Call, element, iso, xml
from stratus.object_store.s3.errors import S3Error
from stratus.object_store.service import ContainerChange, ObjectInfo

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
UPLOAD = "x-object-sysmeta-s3-upload"


def segments(call: Call) -> str:
    return f"{call.bucket}+segments"


def _marker(call: Call, upload_id: str) -> ObjectInfo:
    try:
        info = call.service.head_object(call.account, segments(call), f"{call.key}/{upload_id}")
    except NotFound:
        info = None
    if info is None or UPLOAD not in info.headers:
        raise S3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                      "upload may have been aborted or completed.", 404)
    return info


def _upload_id(call: Call) -> str:
    upload_id = call.query.get("uploadId", "")
    if not upload_id.isalnum():
        raise S3Error("NoSuchUpload", "The specified upload does not exist.", 404)
    return upload_id


def initiate(call: Call) -> None:
    common.writable(call)
    swift_headers.check_name(call.service.conf, "object", call.key or "")
    call.service.put_container(call.account, segments(call), ContainerChange())
    upload_id = uuid.uuid4().hex
    kept = common.user_metadata(call.req)
    kept[UPLOAD] = json.dumps({"content_type": call.req.get_header("Content-Type")
                               or swift_headers.guess_type(call.key or "")})
    call.service.put_object(call.account, segments(call), f"{call.key}/{upload_id}", [],
                            content_type="application/directory", headers=kept)
    xml(call.resp, "InitiateMultipartUploadResult",
        element("Bucket", call.bucket) + element("Key", call.key) + element("UploadId", upload_id))


def upload_part(call: Call) -> None:
    common.writable(call)
    upload_id = _upload_id(call)
    number = call.query.get("partNumber", "")
    if not number.isdigit() or not 1 <= int(number) <= MAX_PART_NUMBER:
        raise S3Error("InvalidArgument", f"Part number must be an integer between 1 and {MAX_PART_NUMBER}", 400)
    _marker(call, upload_id)
    if call.req.get_header("X-Amz-Copy-Source"):
        raise S3Error("NotImplemented", "UploadPartCopy is not implemented", 501)
    info = call.service.put_object(call.account, segments(call), f"{call.key}/{upload_id}/{int(number):05d}",
                                   common.body(call, MAX_PART_SIZE), content_type="application/octet-stream",
                                   headers={}, etag=common.content_md5(call))
    call.resp.set_header("ETag", f'"{info.etag}"')
    call.resp.status = falcon.HTTP_200


def _parts(call: Call, upload_id: str) -> list[ObjectInfo]:
    _, entries = call.service.list_objects(call.account, segments(call),
                                           Listing(prefix=f"{call.key}/{upload_id}/", limit=MAX_PART_NUMBER))
    return [entry for entry in entries if isinstance(entry, ObjectInfo)]


def list_parts(call: Call) -> None:
    common.bucket(call)
    upload_id = _upload_id(call)
    _marker(call, upload_id)
    parts = "".join(
        f"<Part>{element('PartNumber', int(p.name.rsplit('/', 1)[1]))}{element('LastModified', iso(p.timestamp))}"
        f"{element('ETag', chr(34) + p.etag + chr(34))}{element('Size', p.size)}</Part>"
        for p in _parts(call, upload_id))
    xml(call.resp, "ListPartsResult",
        element("Bucket", call.bucket) + element("Key", call.key) + element("UploadId", upload_id)
        + element("StorageClass", "STANDARD") + element("IsTruncated", "false") + parts)


def complete(call: Call) -> None:
    common.writable(call)
    upload_id = _upload_id(call)
    marker = _marker(call, upload_id)
    root = common.read_xml(call)
    wanted = []
    for node in root.findall("Part"):
        number, etag = node.findtext("PartNumber"), (node.findtext("ETag") or "").strip().strip('"')
        if number is None or not number.strip().isdigit():
            raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag", 400)
        wanted.append((int(number), etag))
    if not wanted:
        raise S3Error("MalformedXML", "You must specify at least one part", 400)
    if [n for n, _ in wanted] != sorted({n for n, _ in wanted}):
        raise S3Error("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be "
                      "specified in order by part number.", 400)
    stored = {int(p.name.rsplit("/", 1)[1]): p for p in _parts(call, upload_id)}
    if any(number not in stored or stored[number].etag != etag for number, etag in wanted):
        raise S3Error("InvalidPart", "One or more of the specified parts could not be found. The part may not "
                      "have been uploaded, or the specified entity tag may not match the part's entity tag.", 400)
    manifest, binary = [], b""
    for index, (number, _) in enumerate(wanted):
        part = stored[number]
        if part.size < MIN_PART_SIZE and index < len(wanted) - 1:
            raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object "
                          "size.", 400)
        manifest.append({"path": f"/{segments(call)}/{part.name}", "etag": part.etag, "size_bytes": part.size})
        binary += bytes.fromhex(part.etag)
    body, total, slo_etag = large.build_manifest(
        manifest, call.account, lambda a, c, n: call.service.head_object(a, c, n))
    settings = json.loads(marker.headers[UPLOAD])
    kept = {k: v for k, v in marker.headers.items() if k != UPLOAD}
    kept[common.S3_ETAG] = f"{hashlib.md5(binary, usedforsecurity=False).hexdigest()}-{len(wanted)}"
    info = call.service.put_object(call.account, call.bucket or "", call.key or "", [body],
                                   content_type=settings["content_type"], headers=kept, kind="slo",
                                   listed=(total, slo_etag))
    for number, part in stored.items():  # parts uploaded but left out of the object
        if number not in {n for n, _ in wanted}:
            call.service.delete_object(call.account, segments(call), part.name)
    call.service.delete_object(call.account, segments(call), marker.name)
    xml(call.resp, "CompleteMultipartUploadResult",
        element("Location", f"/{call.bucket}/{call.key}") + element("Bucket", call.bucket)
        + element("Key", call.key) + element("ETag", common.etag_of(info)))


def abort(call: Call) -> None:
    common.writable(call)
    upload_id = _upload_id(call)
    marker = _marker(call, upload_id)
    for part in _parts(call, upload_id):
        with contextlib.suppress(NotFound):
            call.service.delete_object(call.account, segments(call), part.name)
    call.service.delete_object(call.account, segments(call), marker.name)
    call.resp.status = falcon.HTTP_204


def list_uploads(call: Call) -> None:
    common.bucket(call)
    prefix = call.query.get("prefix", "")
    try:
        _, entries = call.service.list_objects(call.account, segments(call), Listing(prefix=prefix, limit=10000))
    except NotFound:
        entries = []
    uploads = "".join(
        f"<Upload>{element('Key', e.name.rsplit('/', 1)[0])}{element('UploadId', e.name.rsplit('/', 1)[1])}"
        f"{element('Initiated', iso(e.timestamp))}{element('StorageClass', 'STANDARD')}</Upload>"
        for e in entries if isinstance(e, ObjectInfo) and UPLOAD in e.headers)
    xml(call.resp, "ListMultipartUploadsResult",
        element("Bucket", call.bucket) + element("Prefix", prefix) + element("MaxUploads", 1000)
        + element("IsTruncated", "false") + uploads)
