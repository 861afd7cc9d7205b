"""Temporary URLs, as Swift's ``tempurl`` middleware serves them: a request without a token
is let through for one object (or every object under a prefix) when its query carries an
HMAC signature, made with one of the account's or the container's temp-URL keys, over the
method, the expiry and the path, and the expiry has not passed.

``temp_url_sig`` is hex (SHA-1, SHA-256 or SHA-512, told apart by length) or
``<digest>:<base64url>``; ``temp_url_expires`` a Unix time or ISO 8601 UTC
(``2030-01-01T00:00:00Z``); ``temp_url_prefix`` makes the signature cover ``prefix:<path>``;
``temp_url_ip_range`` adds ``ip=<range>`` in front. The signed path may start at ``/v1/``
(as Swift's) or carry the mount point in front (the URL's whole path): both are accepted.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Iterable

import falcon

from stratus.object_store.api.access import Requester
from stratus.object_store.api.headers import query

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_BY_HEX_LENGTH = {40: "sha1", 64: "sha256", 128: "sha512"}
KEY_NAMES = ("temp-url-key", "temp-url-key-2")


class TempUrlInvalid(Exception):
    """The query asks for a temp URL that is not valid (answered 401, as Swift does)."""


def asked(req: falcon.Request) -> bool:
    params = query(req)
    return "temp_url_sig" in params or "temp_url_expires" in params


def _expiry(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise TempUrlInvalid("temp_url_expires is not a Unix time or ISO 8601 UTC time") from None


def _signature(value: str) -> tuple[str, bytes]:
    if ":" in value:
        digest, _, encoded = value.partition(":")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise TempUrlInvalid("temp_url_sig is not valid base64") from None
    else:
        digest = _BY_HEX_LENGTH.get(len(value), "")
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise TempUrlInvalid("temp_url_sig is not hex") from None
    if digest not in DIGESTS:
        raise TempUrlInvalid("temp_url_sig uses a digest not allowed (sha1, sha256, sha512)")
    return digest, raw


def verify(req: falcon.Request, keys: Iterable[str], account: str, container: str, name: str) -> str | None:
    """The prefix the URL grants (``name`` itself when not a prefix URL).

    :raises TempUrlInvalid: anything wrong with it (expired, bad signature, wrong method...).
    """
    params = query(req)
    if req.method not in METHODS:
        raise TempUrlInvalid(f"temp URLs do not allow {req.method}")
    signature, expires_text = params.get("temp_url_sig"), params.get("temp_url_expires")
    if not signature or not expires_text:
        raise TempUrlInvalid("temp_url_sig and temp_url_expires are both needed")
    expires = _expiry(expires_text)
    if expires < time.time():
        raise TempUrlInvalid("the temp URL has expired")
    digest, wanted = _signature(signature)
    prefix = params.get("temp_url_prefix")
    if prefix is not None and not name.startswith(prefix):
        raise TempUrlInvalid("the object is not under the temp URL's prefix")
    ip_range = params.get("temp_url_ip_range")
    if ip_range is not None:
        try:
            allowed = ipaddress.ip_network(ip_range, strict=False)
            client = ipaddress.ip_address(req.remote_addr or "")
        except ValueError:
            raise TempUrlInvalid("temp_url_ip_range or the client address is not an address") from None
        if client not in allowed:
            raise TempUrlInvalid("the client's address is outside temp_url_ip_range")
    target = f"{container}/{prefix}" if prefix is not None else f"{container}/{name}"
    mount = req.env.get("SCRIPT_NAME", "").rstrip("/")
    paths = {f"/v1/{account}/{target}", f"{mount}/v1/{account}/{target}"}
    methods = ["HEAD", "GET", "PUT", "POST"] if req.method == "HEAD" else [req.method]  # HEAD rides on them too
    for key in keys:
        for path in paths:
            for method in methods:
                body = f"{method}\n{expires}\n{'prefix:' if prefix is not None else ''}{path}"
                if ip_range is not None:
                    body = f"ip={ip_range}\n{body}"
                made = hmac.new(key.encode(), body.encode(), DIGESTS[digest]).digest()
                if hmac.compare_digest(made, wanted):
                    return prefix if prefix is not None else name
    raise TempUrlInvalid("the temp URL's signature does not match")


class TempUrlRequester(Requester):
    """A request let in by a valid temp URL. The URL's own object was checked by :func:`verify`;
    like Swift's, the rest of the request (an SLO's segments) may read objects of that account,
    but lists nothing and owns nothing."""

    def __init__(self, base: Requester, account: str) -> None:
        self.__dict__.update(base.__dict__)
        self._account = account

    def check_container_read(self, account: str, read_acl: str, *, listing: bool) -> None:
        if listing or account != self._account:
            super().check_container_read(account, read_acl, listing=listing)

    def check_container_write(self, account: str, write_acl: str) -> None:
        if account != self._account:
            super().check_container_write(account, write_acl)
