"""``/v1/AUTH_<project>``: the account's containers and metadata."""

from __future__ import annotations

import falcon

from stratus.exceptions import Forbidden, Invalid
from stratus.object_store.api import headers, listings
from stratus.object_store.api.access import Requester
from stratus.object_store.service import AccountInfo, ObjectService, merge_metadata


def describe(resp: falcon.Response, info: AccountInfo, *, owner: bool) -> None:
    resp.set_header("X-Account-Container-Count", str(info.container_count))
    resp.set_header("X-Account-Object-Count", str(info.object_count))
    resp.set_header("X-Account-Bytes-Used", str(info.bytes_used))
    resp.set_header("X-Timestamp", headers.x_timestamp(info.created_at))
    resp.set_header("X-Account-Storage-Policy-Policy-0-Container-Count", str(info.container_count))
    resp.set_header("X-Account-Storage-Policy-Policy-0-Object-Count", str(info.object_count))
    resp.set_header("X-Account-Storage-Policy-Policy-0-Bytes-Used", str(info.bytes_used))
    headers.set_metadata(resp, "account", info.metadata, owner=owner)


def head(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str) -> None:
    who.check_account(account, write=False)
    describe(resp, service.account(account), owner=who.owns(account))
    resp.status = falcon.HTTP_204
    resp.content_type = "text/plain; charset=utf-8"


def get(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str) -> None:
    who.check_account(account, write=False)
    chosen = listings.media_type(req)
    listing = listings.parse(req, service.conf.object_store.account_listing_limit)
    info = service.account(account)
    entries = service.list_containers(account, listing)
    describe(resp, info, owner=who.owns(account))
    listings.render(resp, "account", account, entries, chosen)


def post(service: ObjectService, who: Requester, req: falcon.Request, resp: falcon.Response, account: str) -> None:
    who.check_account(account, write=True)
    changes = headers.metadata_changes(req, "account")
    for quota in ("Bytes", "Count"):  # Swift 2.34's X-Account-Quota-*, kept where the older header's went
        value = headers.header(req, f"X-Account-Quota-{quota}")
        if value is not None:
            changes[f"quota-{quota.lower()}"] = value.strip()
    for quota in ("quota-bytes", "quota-count"):
        if quota not in changes:
            continue
        if not who.reseller:
            raise Forbidden(f"Only a reseller administrator sets an account's quota (X-Account-Meta-{quota.title()}).")
        value = changes[quota]
        if value and not value.isdigit():
            raise Invalid(f"X-Account-Meta-{quota.title()} must be a non-negative integer")
    headers.check_metadata(service.conf, "account", changes)
    headers.check_metadata(service.conf, "account", merge_metadata(service.account(account).metadata, changes))
    describe(resp, service.update_account(account, changes), owner=True)
    resp.status = falcon.HTTP_204
