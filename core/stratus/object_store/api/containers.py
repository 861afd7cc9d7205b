"""``/v1/AUTH_<project>/<container>``: create, list, describe, change and delete containers."""

from __future__ import annotations

import falcon

from stratus.exceptions import Invalid, NotFound
from stratus.object_store.api import headers, listings
from stratus.object_store.api.access import Requester, normalize_acl
from stratus.object_store.service import ContainerChange, ContainerInfo, ObjectService, merge_metadata


def visible(service: ObjectService, who: Requester, account: str, container: str) -> ContainerInfo:
    """The container, or a refusal (not a 404) for whoever may not know whether it exists."""
    try:
        return service.container(account, container)
    except NotFound:
        if not who.reads(account):
            raise who.refuse(f"use account {account}") from None
        raise


def describe(resp: falcon.Response, info: ContainerInfo, *, owner: bool) -> None:
    resp.set_header("X-Container-Object-Count", str(info.object_count))
    resp.set_header("X-Container-Bytes-Used", str(info.bytes_used))
    resp.set_header("X-Timestamp", headers.x_timestamp(info.created_at))
    resp.set_header("X-Put-Timestamp", headers.x_timestamp(info.changed_at))
    resp.set_header("Last-Modified", headers.http_date(info.changed_at))
    resp.set_header("X-Storage-Policy", "Policy-0")
    if owner:  # ACLs and versioning are the owner's to see (keystoneauth hides them from grantees)
        if info.read_acl:
            resp.set_header("X-Container-Read", headers.wire(info.read_acl))
        if info.write_acl:
            resp.set_header("X-Container-Write", headers.wire(info.write_acl))
    headers.set_metadata(resp, "container", info.metadata, owner=owner)


def _change(service: ObjectService, who: Requester, req: falcon.Request, account: str,
            current: ContainerInfo | None) -> ContainerChange:
    metadata = headers.metadata_changes(req, "container")
    for quota in ("quota-bytes", "quota-count"):
        value = metadata.get(quota)
        if value and not value.isdigit():
            raise Invalid(f"X-Container-Meta-{quota.title()} must be a non-negative integer")
    headers.check_metadata(service.conf, "container", metadata)
    headers.check_metadata(service.conf, "container", merge_metadata(current.metadata if current else {}, metadata))
    acls: dict[str, str | None] = {"read": None, "write": None}
    for kind in acls:
        value = headers.header(req, f"X-Container-{kind.title()}")
        if req.get_header(f"X-Remove-Container-{kind.title()}") is not None:
            value = ""
        if value is not None:
            who.check_owner(account, "set a container's ACL")
            acls[kind] = normalize_acl(value, read=kind == "read")
    for name in ("X-Versions-Location", "X-History-Location", "X-Container-Sync-To"):
        if req.get_header(name) is not None:
            raise Invalid(f"{name} is not supported by this object store yet")
    return ContainerChange(metadata=metadata, read_acl=acls["read"], write_acl=acls["write"])


def put(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
        container: str) -> None:
    who.check_owner(account, f"create container {container}")
    headers.check_name(service.conf, "container", container)
    try:
        current: ContainerInfo | None = service.container(account, container)
    except NotFound:
        current = None
    created = service.put_container(account, container, _change(service, who, req, account, current))
    resp.status = falcon.HTTP_201 if created else falcon.HTTP_202
    resp.content_type = "text/html; charset=UTF-8"


def post(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
         container: str) -> None:
    who.check_owner(account, f"change container {container}")
    current = service.container(account, container)
    service.post_container(account, container, _change(service, who, req, account, current))
    resp.status = falcon.HTTP_204


def delete(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
           container: str) -> None:
    who.check_owner(account, f"delete container {container}")
    service.delete_container(account, container)
    resp.status = falcon.HTTP_204


def head(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
         container: str) -> None:
    info = visible(service, who, account, container)
    who.check_container_read(account, info.read_acl, listing=True)
    describe(resp, info, owner=who.owns(account))
    resp.status = falcon.HTTP_204
    resp.content_type = "text/plain; charset=utf-8"


def get(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str,
        container: str) -> None:
    chosen = listings.media_type(req)
    listing = listings.parse(req, service.conf.object_store.container_listing_limit)
    info = visible(service, who, account, container)
    who.check_container_read(account, info.read_acl, listing=True)
    info, entries = service.list_objects(account, container, listing)
    describe(resp, info, owner=who.owns(account))
    listings.render(resp, "container", container, entries, chosen)
