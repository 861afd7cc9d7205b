"""The S3-compatible endpoint at ``/s3`` (path-style: ``/s3/<bucket>/<key>``), on the same data
as the Swift API: a bucket is a container of the signing project's account, an object the
same object (``x-amz-meta-*`` are its ``X-Object-Meta-*``).

Requests are signed with AWS Signature Version 4 (header or presigned query) or version 2
with EC2 credentials made in the identity service (``openstack ec2 credentials create``);
identity checks the signature (:mod:`stratus.object_store.s3.auth`). Anonymous requests are
refused.
Supported: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
GetBucketVersioning (never enabled), ListObjects (v1 and v2), ListMultipartUploads,
DeleteObjects, PutObject, CopyObject, GetObject (one range), HeadObject, DeleteObject and
multipart uploads (create, upload part, list parts, complete, abort). Anything else is
``NotImplemented`` (501).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import falcon

from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.exceptions import StratusError
from stratus.object_store.api.access import Requester
from stratus.object_store.s3 import auth, multipart, operations
from stratus.object_store.s3.common import Call
from stratus.object_store.s3.errors import S3Error, from_stratus, render
from stratus.object_store.service import account_of

SPEC = ServiceSpec("s3", "/s3", "s3", ErrorStyle.OBJECT, "x-amz-request-id")
#: query parameters naming an S3 sub-resource this endpoint does not offer
UNSUPPORTED = frozenset({"acl", "policy", "cors", "lifecycle", "tagging", "website", "logging", "notification",
                         "replication", "encryption", "object-lock", "retention", "legal-hold", "torrent",
                         "requestPayment", "accelerate", "analytics", "inventory", "metrics", "ownershipControls",
                         "publicAccessBlock", "intelligent-tiering", "restore", "select", "versions", "attributes"})


def _dispatch(method: str, bucket: str | None, key: str | None, query: dict[str, str]) -> Callable[[Call], None]:
    unsupported = UNSUPPORTED & set(query)
    if unsupported:
        raise S3Error("NotImplemented", f"The {sorted(unsupported)[0]} sub-resource is not implemented", 501)
    if bucket is None:
        if method == "GET":
            return operations.list_buckets
    elif key is None:
        table: dict[str, Callable[[Call], None]] = {"PUT": operations.create_bucket, "HEAD": operations.head_bucket,
                                                    "DELETE": operations.delete_bucket}
        if method == "GET":
            if "location" in query:
                return operations.bucket_location
            if "versioning" in query:
                return operations.bucket_versioning
            if "uploads" in query:
                return multipart.list_uploads
            return operations.list_objects
        if method == "POST" and "delete" in query:
            return operations.delete_objects
        if method in table and not ({"location", "versioning", "uploads"} & set(query)):
            return table[method]
    else:
        upload = "uploadId" in query
        if method == "PUT":
            if upload:
                return multipart.upload_part
            return operations.put_object if "copy" not in query else operations.copy_object
        if method == "GET":
            return multipart.list_parts if upload else operations.get_object
        if method == "HEAD":
            return operations.head_object
        if method == "DELETE":
            return multipart.abort if upload else operations.delete_object
        if method == "POST":
            if "uploads" in query:
                return multipart.initiate
            if upload:
                return multipart.complete
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)


class S3:
    auth_required = False  # requests carry their own signature
    max_body_size = None  # objects and parts stream

    def __init__(self, service: Any, conf: Any, signatures: Any) -> None:
        self.service, self.conf, self.signatures = service, conf, signatures

    def _names(self, req: falcon.Request) -> tuple[str | None, str | None]:
        raw = req.env.get("PATH_INFO", "").lstrip("/")
        bucket, _, key = raw.partition("/")
        try:
            decoded = [part.encode("latin-1").decode("utf-8") for part in (bucket, key)]
        except UnicodeError:
            raise S3Error("InvalidURI", "Couldn't parse the specified URI.", 400) from None
        return decoded[0] or None, decoded[1] or None

    def _serve(self, req: falcon.Request, resp: falcon.Response, **_: Any) -> None:
        resp.set_header("x-amz-id-2", req.context.request_id)
        bucket: str | None = None
        key: str | None = None
        try:
            bucket, key = self._names(req)
            query = dict(urllib.parse.parse_qsl(req.env.get("QUERY_STRING", ""), keep_blank_values=True))
            if key is not None and req.method == "PUT" and req.get_header("X-Amz-Copy-Source"):
                query.setdefault("copy", "")
            operation = _dispatch(req.method, bucket, key, query)
            signed = auth.signed_request(req)
            if signed is None:
                raise S3Error("AccessDenied", "Anonymous access is not allowed; sign requests with EC2 "
                              "credentials (AWS Signature Version 4).", 403)
            context = auth.context_for(self.signatures, signed)
            context.request_id = req.context.request_id
            who = Requester(self.conf, context, None)
            operation(Call(self.service, who, account_of(context.project_id), req, resp, bucket, key, query))
        except StratusError as exc:
            missing = "NoSuchKey" if key is not None else "NoSuchBucket"
            resource = "/" + "/".join(p for p in (bucket, key) if p)
            render(resp, from_stratus(exc, missing=missing), resource, req.context.request_id,
                   body=req.method != "HEAD")

    on_get = on_head = on_put = on_post = on_delete = _serve


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps)
    service, signatures = deps.services.get("object_store"), deps.services.get("s3_signatures")
    if service is not None and signatures is not None:
        s3 = S3(service, deps.conf, signatures)
        app.add_route("/", s3)
        app.add_route("/{bucket}", s3)
        app.add_route("/{bucket}/{key:path}", s3)
    return finish(app)
