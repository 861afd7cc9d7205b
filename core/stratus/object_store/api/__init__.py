"""Object-storage API app, mounted at ``/object-store``; accounts at ``/v1/AUTH_<project>``
(Swift's Object Storage API v1).

Swift has no version document; clients read ``/info`` (capabilities) instead. The root
lists v1 for discovery tools that look. Names come from the raw request path (UTF-8
checked, a trailing slash kept: ``dir/`` is an object name), not from the router's
decoded path.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse
import uuid
from typing import Any

import falcon

from stratus import __version__
from stratus.api import versions as version_documents
from stratus.api.app import ApiDeps, ServiceApp, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.validation import schema
from stratus.exceptions import NotAuthenticated, NotFound
from stratus.object_store.api import accounts, bulk, containers, headers, large, objects, tempurl
from stratus.object_store.api.access import Requester


def transaction_id() -> str:
    """A request id in Swift's transaction-id form (``tx`` + 21 hex digits + ``-`` + the time in hex),
    which Swift's clients and tempest expect in ``X-Trans-Id``."""
    return f"tx{uuid.uuid4().hex[:21]}-{int(time.time()):010x}"


SPEC = ServiceSpec("object-store", "/object-store", "object-store", ErrorStyle.OBJECT, "x-trans-id",
                   request_id_factory=transaction_id)


class SwiftHeaders:
    """Every answer has a Content-Type, as Swift's (text/html for those without a body)."""

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        if not resp.content_type:
            resp.content_type = falcon.MEDIA_JSON if resp.media is not None else "text/html; charset=UTF-8"

#: the Swift release whose Object Storage API behaviour Stratus follows (``/info``'s ``swift.version``)
SWIFT_API_VERSION = "2.34.0"

V1 = version_documents.Version(id="v1.0", path="v1", status="CURRENT", updated="2011-01-01T00:00:00Z",
                      media_type="application/json")


class Info:
    """``GET /info``: the cluster's capabilities, as Swift publishes them."""

    auth_required = False

    def __init__(self, conf: Any) -> None:
        self.conf = conf

    @schema("Object-storage capabilities", responses={200: {
        "type": "object", "required": ["swift"],
        "properties": {"swift": {"type": "object", "required": ["version"]}},
    }})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limits = self.conf.object_store
        resp.media = {
            "swift": {
                # the Swift release whose API this one follows (clients gate features on it)
                "version": SWIFT_API_VERSION,
                "max_file_size": limits.max_file_size,
                "max_meta_name_length": limits.max_meta_name_length,
                "max_meta_value_length": limits.max_meta_value_length,
                "max_meta_count": limits.max_meta_count,
                "max_meta_overall_size": limits.max_meta_overall_size,
                "max_header_size": limits.max_header_size,
                "max_object_name_length": limits.max_object_name_length,
                "max_container_name_length": limits.max_container_name_length,
                "max_account_name_length": limits.max_account_name_length,
                "container_listing_limit": limits.container_listing_limit,
                "account_listing_limit": limits.account_listing_limit,
                "extra_header_count": 0,
                "allow_account_management": False,
                "account_autocreate": True,
                "strict_cors_mode": True,
                "valid_api_versions": ["v1", "v1.0"],
                "policies": [{"name": "Policy-0", "aliases": "Policy-0", "default": True}],
            },
            "slo": {"max_manifest_segments": large.MAX_MANIFEST_SEGMENTS,
                    "max_manifest_size": large.MAX_MANIFEST_SIZE, "min_segment_size": large.MIN_SEGMENT_SIZE,
                    "yield_frequency": 10},
            "tempurl": {"methods": list(tempurl.METHODS), "allowed_digests": sorted(tempurl.DIGESTS),
                        "incoming_remove_headers": [], "incoming_allow_headers": [],
                        "outgoing_remove_headers": [], "outgoing_allow_headers": []},
            "bulk_delete": {"max_deletes_per_request": bulk.MAX_DELETES, "max_failed_deletes": bulk.MAX_DELETES},
            "bulk_upload": {"max_containers_per_extraction": bulk.MAX_CONTAINERS_PER_EXTRACTION,
                            "max_failed_extractions": 1000},
            "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
            "container_quotas": {},
            "account_quotas": {},
            "stratus": {"version": __version__},
        }


class Healthcheck:
    """``GET /healthcheck``: 200 ``OK`` while the service answers (Swift's healthcheck middleware)."""

    auth_required = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/plain; charset=UTF-8"
        resp.text = "OK"


class Swift:
    """Every account, container and object path: dispatched by depth and method."""

    auth_required = False  # anonymous requests may pass ACLs; each operation decides
    max_body_size = None  # objects are streamed, limited by [object_store] max_file_size

    _LEVELS = {
        "account": {"GET": accounts.get, "HEAD": accounts.head, "POST": accounts.post},
        "container": {"GET": containers.get, "HEAD": containers.head, "PUT": containers.put,
                      "POST": containers.post, "DELETE": containers.delete},
        "object": {"GET": objects.get, "HEAD": objects.head, "PUT": objects.put, "POST": objects.post,
                   "DELETE": objects.delete, "COPY": objects.copy},
    }

    def __init__(self, service: Any, conf: Any) -> None:
        self.service = service
        self.conf = conf

    def _serve(self, req: falcon.Request, resp: falcon.Response, **_: Any) -> None:
        account, container, name = headers.path_names(req)
        level = "object" if name is not None else "container" if container is not None else "account"
        who = Requester(self.conf, req.context.stratus, req.get_header("Referer"))
        if name is not None and tempurl.asked(req):
            who = self._temp_url(req, who, account, container, name)
        if self._bulk(req, resp, who, level, account, container):
            return
        handler = self._LEVELS[level].get(req.method)
        if handler is None:
            raise falcon.HTTPMethodNotAllowed(sorted(self._LEVELS[level]))
        args = [a for a in (account, container, name) if a is not None]
        handler(self.service, who, req, resp, *args)
        if isinstance(who, tempurl.TempUrlRequester) and req.method == "GET" and resp.status == falcon.HTTP_200:
            params = headers.query(req)
            if "inline" in params:
                resp.set_header("Content-Disposition", "inline")
            else:
                filename = params.get("filename") or name.rsplit("/", 1)[-1]
                quoted = urllib.parse.quote(filename)
                resp.set_header("Content-Disposition", f'attachment; filename="{quoted}"; '
                                                       f"filename*=UTF-8''{quoted}")

    on_get = on_head = on_put = on_post = on_delete = on_copy = _serve

    def _bulk(self, req: falcon.Request, resp: falcon.Response, who: Requester, level: str, account: str,
              container: str | None) -> bool:
        """Serve a bulk delete or an archive extraction; False for any other request."""
        params = headers.query(req)
        service = self.service
        if "bulk-delete" in params and level == "account" and req.method in ("POST", "DELETE"):
            data = b"".join(objects.body(req, bulk.MAX_DELETE_BODY))
            bulk.delete(req, resp, data, lambda c, n: objects.delete_one(service, who, account, c, n),
                        lambda c: containers.delete_one(service, who, account, c))
            return True
        if "extract-archive" in params and level != "object" and req.method == "PUT":
            chunks = objects.body(req, self.conf.object_store.max_file_size)
            bulk.extract(req, resp, params["extract-archive"], chunks, container,
                         lambda c: containers.ensure(service, who, account, c),
                         lambda c, n, data: objects.put_one(service, who, account, c, n, data),
                         lambda kind, value: headers.check_name(self.conf, kind, value))
            return True
        return False

    def _temp_url(self, req: falcon.Request, who: Requester, account: str, container: str,
                  name: str) -> Requester:
        if req.get_header("X-Copy-From") is not None:
            raise NotAuthenticated("Temp URLs do not copy objects (X-Copy-From).")
        keys = [v for k, v in self.service.account(account).metadata.items() if k in tempurl.KEY_NAMES]
        with contextlib.suppress(NotFound):
            keys += [v for k, v in self.service.container(account, container).metadata.items()
                     if k in tempurl.KEY_NAMES]
        try:
            tempurl.verify(req, keys, account, container, name)
        except tempurl.TempUrlInvalid as exc:
            raise NotAuthenticated(f"Temp URL invalid: {exc}") from None
        return tempurl.TempUrlRequester(who, account)

    on_get = on_head = on_put = on_post = on_delete = on_copy = _serve


def create_app(deps: ApiDeps) -> ServiceApp:
    app = create_service_app(SPEC, deps, [SwiftHeaders()])
    app.add_route("/", version_documents.VersionDocument(
        deps.conf, lambda root: (200, {"versions": [V1.document(root)]}),
        "Object Storage API versions", version_documents.VERSIONS_LIST_SCHEMA,
    ))
    app.add_route("/info", Info(deps.conf))
    app.add_route("/healthcheck", Healthcheck())
    service = deps.services.get("object_store")
    if service is not None:
        swift = Swift(service, deps.conf)
        app.add_route("/v1/{account}", swift)
        app.add_route("/v1/{account}/{container}", swift)
        app.add_route("/v1/{account}/{container}/{name:path}", swift)
    return finish(app)
