"""``/v1/AUTH_<project>/<container>``: create, list, describe, change and delete containers."""

from __future__ import annotations

import urllib.parse

import falcon

from stratus.exceptions import Invalid, NotFound
from stratus.object_store.api import headers, listings
from stratus.object_store.api.access import Requester, normalize_acl
from stratus.object_store.service import ContainerChange, ContainerInfo, ObjectService, merge_metadata

#: versioning mode -> the header naming its archive container (X-<name>-Location)
VERSION_MODES = {"stack": "Versions", "history": "History"}


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
        if info.versions_location and info.versions_mode in VERSION_MODES:
            resp.set_header(f"X-{VERSION_MODES[info.versions_mode]}-Location",
                            headers.wire(urllib.parse.quote(info.versions_location)))
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
    if req.get_header("X-Container-Sync-To") is not None:
        raise Invalid("X-Container-Sync-To: container sync is not supported by this object store")
    return ContainerChange(metadata=metadata, read_acl=acls["read"], write_acl=acls["write"],
                           versioning=_versioning(service, who, req, account))


def _versioning(service: ObjectService, who: Requester, req: falcon.Request, account: str) -> tuple[str, str] | None:
    """(mode, archive container) a PUT or POST asks for; ("", "") turns versioning off."""
    asked = {mode: headers.header(req, f"X-{kind}-Location") for mode, kind in VERSION_MODES.items()}
    for mode, kind in VERSION_MODES.items():
        if req.get_header(f"X-Remove-{kind}-Location") is not None:
            asked[mode] = ""
    given = {mode: value for mode, value in asked.items() if value is not None}
    if not given:
        return None
    who.check_owner(account, "set a container's versioning")
    chosen = {mode: value for mode, value in given.items() if value}
    if len(chosen) > 1:
        raise Invalid("Only one of X-Versions-Location or X-History-Location may be set")
    if not chosen:
        return ("", "")
    mode, value = next(iter(chosen.items()))
    location = urllib.parse.unquote(value)
    if "/" in location or not location:
        raise Invalid(f"X-{VERSION_MODES[mode]}-Location must name a container (no '/')")
    headers.check_name(service.conf, "container", location)
    return (mode, location)


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
    delete_one(service, who, account, container)
    resp.status = falcon.HTTP_204


def delete_one(service: ObjectService, who: Requester, account: str, container: str) -> None:
    who.check_owner(account, f"delete container {container}")
    service.delete_container(account, container)


def ensure(service: ObjectService, who: Requester, account: str, container: str) -> None:
    """Create the container unless it exists (an archive extraction's containers)."""
    who.check_owner(account, f"create container {container}")
    service.put_container(account, container, ContainerChange())


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
