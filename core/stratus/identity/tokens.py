"""Tokens: encrypted, signed, non-persistent (Fernet), carrying no secrets.

A token holds who (user), how (auth methods), for what (scope), until when, its audit ids
and the role names in force when it was issued, packed with msgpack and encrypted with
the primary key of the :class:`~stratus.identity.keys.KeyRepository`. Validation is a
local decryption plus a check against the in-memory revocation index: no database
query per request. Removing a role, disabling a user or project, or changing a password
records a revocation event, so stale role names in older tokens never outlive the change.
"""

from __future__ import annotations

import base64
import datetime
import os
import threading
import time
from dataclasses import dataclass

import msgpack
from cryptography.fernet import InvalidToken, MultiFernet

from stratus.exceptions import NotFound
from stratus.identity.keys import KeyRepository
from stratus.identity.revocation import RevocationList, now_us

FORMAT_VERSION = 1
#: seconds between checks of the key repository for a rotation (one stat call)
KEY_CHECK_INTERVAL = 1.0
INVALID = "Could not recognize Fernet token"


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def isotime(us: int) -> str:
    """Keystone's timestamp form: ``2026-11-22T01:36:06.000000Z``."""
    moment = datetime.datetime.fromtimestamp(us / 1e6, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class TokenData:
    """What a token says. Scope: ``project_id`` or ``domain_id`` or ``system`` or none (unscoped)."""

    user_id: str
    methods: tuple[str, ...]
    issued_at_us: int
    expires_at_us: int
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    roles: tuple[tuple[str, str], ...] = ()
    application_credential_id: str | None = None
    user_domain_id: str | None = None
    project_domain_id: str | None = None

    @property
    def role_names(self) -> list[str]:
        return [name for _, name in self.roles]

    @property
    def role_ids(self) -> list[str]:
        return [role_id for role_id, _ in self.roles]

    @property
    def scoped(self) -> bool:
        return bool(self.project_id or self.domain_id or self.system)

    def pack(self) -> bytes:
        return msgpack.packb([
            FORMAT_VERSION, self.user_id, list(self.methods), self.issued_at_us, self.expires_at_us,
            list(self.audit_ids), self.project_id, self.domain_id, self.system,
            [list(r) for r in self.roles], self.application_credential_id, self.user_domain_id,
            self.project_domain_id,
        ])

    @classmethod
    def unpack(cls, data: bytes) -> TokenData:
        fields = msgpack.unpackb(data)
        if not isinstance(fields, list) or not fields or fields[0] != FORMAT_VERSION:
            raise ValueError("unknown token format")
        (_, user_id, methods, issued, expires, audit_ids, project_id, domain_id, system, roles, app_cred,
         user_domain_id, project_domain_id) = fields
        return cls(user_id, tuple(methods), issued, expires, tuple(audit_ids), project_id, domain_id, system,
                   tuple(tuple(r) for r in roles), app_cred, user_domain_id, project_domain_id)


class TokenProvider:
    """Issues and validates tokens with the keys of ``keys`` and the revocations of ``revocations``."""

    def __init__(self, keys: KeyRepository, revocations: RevocationList, expiration_s: int,
                 allow_expired_window_s: int) -> None:
        self.keys = keys
        self.revocations = revocations
        self.expiration_us = expiration_s * 1_000_000
        self.allow_expired_window_us = allow_expired_window_s * 1_000_000
        self._lock = threading.Lock()
        self._fernet: MultiFernet | None = None
        self._keys_version = -1
        self._checked_at = 0.0
        self._decoded: dict[str, TokenData] = {}

    def _crypto(self, reload: bool = False) -> MultiFernet:
        """The current keys; a rotation (by any process) is noticed within a second, or at
        once when ``reload`` (a token did not decrypt with the keys in memory)."""
        with self._lock:
            now = time.monotonic()
            if self._fernet is None or reload or now - self._checked_at > KEY_CHECK_INTERVAL:
                self._checked_at = now
                version = self.keys.version()
                if self._fernet is None or version != self._keys_version:
                    self._fernet = self.keys.load()
                    self._keys_version = version
                    self._decoded.clear()  # a key rotated out takes its tokens with it
            return self._fernet

    def issue(self, data: TokenData) -> str:
        return self._crypto().encrypt(data.pack()).decode()

    def new_token_data(self, user_id: str, methods: list[str], *, user_domain_id: str,
                       project_id: str | None = None, project_domain_id: str | None = None,
                       domain_id: str | None = None, system: bool = False, roles: list[tuple[str, str]] = (),
                       expires_at_us: int | None = None, parent_audit_id: str | None = None,
                       application_credential_id: str | None = None) -> TokenData:
        issued = now_us()
        expires = issued + self.expiration_us
        if expires_at_us is not None:
            expires = min(expires, expires_at_us)
        audit_ids = (new_audit_id(), parent_audit_id) if parent_audit_id else (new_audit_id(),)
        return TokenData(user_id, tuple(methods), issued, expires, audit_ids, project_id, domain_id, system,
                         tuple(tuple(r) for r in roles), application_credential_id, user_domain_id,
                         project_domain_id)

    #: decoded tokens kept (decrypting is most of a validation; expiry and revocations are
    #: still checked on every use)
    DECODED = 10000

    def decode(self, token: str) -> TokenData:
        """Decrypt and parse; no expiry or revocation check. :raises NotFound: not a valid token."""
        if not token or len(token) > 2048:
            raise NotFound(INVALID)
        self._crypto()  # notices a rotation (at most one look a second)
        decoded = self._decoded
        found = decoded.get(token)
        if found is not None:
            return found
        data = self._decode(token)
        if len(decoded) >= self.DECODED:
            decoded.clear()  # bounded; the next validations fill it again
        decoded[token] = data
        return data

    def _decode(self, token: str) -> TokenData:
        raw = token.encode()
        try:
            payload = self._crypto().decrypt(raw)
        except InvalidToken:
            try:  # keys may have been rotated by another process since they were loaded
                payload = self._crypto(reload=True).decrypt(raw)
            except InvalidToken:
                raise NotFound(INVALID) from None
        try:
            return TokenData.unpack(payload)
        except (ValueError, TypeError, msgpack.UnpackException):
            raise NotFound(INVALID) from None

    def validate(self, token: str, allow_expired: bool = False) -> TokenData:
        """Return the token's data if it is genuine, unexpired and unrevoked.

        :raises NotFound: with Keystone's message, for any invalid token (which reason is
            not told, as Keystone does not tell).
        """
        data = self.decode(token)
        now = now_us()
        limit = data.expires_at_us + (self.allow_expired_window_us if allow_expired else 0)
        if now >= limit:
            raise NotFound(INVALID)
        domains = {d for d in (data.domain_id, data.user_domain_id, data.project_domain_id) if d}
        if self.revocations.is_revoked(data.issued_at_us, data.audit_ids, data.user_id, data.project_id,
                                       domains, data.role_ids, data.application_credential_id):
            raise NotFound(INVALID)
        return data
