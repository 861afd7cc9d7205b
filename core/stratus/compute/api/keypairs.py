"""``/os-keypairs`` (Nova v2.1): a user's SSH public keys, imported or generated here."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import Any

import falcon
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas
from stratus.compute.api.common import context
from stratus.compute.service import ComputeService
from stratus.db.engine import insert_unless_taken
from stratus.exceptions import Conflict, Invalid, NotFound, QuotaExceeded

KeyPair = models.KeyPair
CREATE = {"type": "object", "required": ["keypair"], "additionalProperties": False, "properties": {"keypair": {
    "type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "public_key": {"type": "string"}}}}}


def fingerprint(public_key: str) -> str:
    """Nova's fingerprint: MD5 of the key blob, colon-separated.

    :raises Invalid: not an OpenSSH public key.
    """
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, TypeError, base64.binascii.Error):
        raise Invalid("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """A new RSA key: (private key PEM, OpenSSH public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Stratus"


def _check_name(name: str) -> None:
    if name != name.strip() or any(not (c.isalnum() or c in " _-.@") for c in name):
        raise Invalid("Keypair data is invalid: Keypair name contains unsafe characters")


class KeyPairs:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List the caller's key pairs", responses={200: {"type": "object", "required": ["keypairs"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-keypairs:index", {"user_id": ctx.user_id})
        with self.service.db.transaction() as session:
            rows = session.scalars(sa.select(KeyPair).where(KeyPair.user_id == ctx.user_id).order_by(KeyPair.name))
            resp.media = {"keypairs": [{"keypair": {"name": r.name, "public_key": r.public_key,
                                                    "fingerprint": r.fingerprint}} for r in rows]}

    @schema("Import a public key, or generate a key pair (the private key is shown once)", request=CREATE,
            responses={200: {"type": "object", "required": ["keypair"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-keypairs:create", {"user_id": ctx.user_id})
        body = req.context.body["keypair"]
        _check_name(body["name"])
        private = None
        if "public_key" in body:
            public = body["public_key"].strip()
        else:
            private, public = generate()
        row = KeyPair(user_id=ctx.user_id, name=body["name"], public_key=public, fingerprint=fingerprint(public),
                      type="ssh", created_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
        with self.service.db.transaction() as session:
            limit = quotas.limits(session, self.service.conf, ctx.project_id)["key_pairs"]
            count = session.scalar(sa.select(sa.func.count()).where(KeyPair.user_id == ctx.user_id))
            if 0 <= limit <= count:
                raise QuotaExceeded("Quota exceeded, too many key pairs.")
            if not insert_unless_taken(session, row):
                raise Conflict(f"Key pair '{row.name}' already exists.")
        result = {"name": row.name, "public_key": row.public_key, "fingerprint": row.fingerprint,
                  "user_id": row.user_id}
        if private is not None:
            result["private_key"] = private
        resp.media = {"keypair": result}


class KeyPairItem:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def _find(self, session: Any, req: falcon.Request, name: str) -> KeyPair:
        row = session.scalars(sa.select(KeyPair).where(KeyPair.user_id == context(req).user_id,
                                                       KeyPair.name == name)).first()
        if row is None:
            raise NotFound(f"Keypair {name} not found for user {context(req).user_id}")
        return row

    @schema("Show a key pair", responses={200: {"type": "object", "required": ["keypair"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-keypairs:show", {"user_id": ctx.user_id})
        with self.service.db.transaction() as session:
            row = self._find(session, req, name)
            resp.media = {"keypair": {"id": row.id, "name": row.name, "public_key": row.public_key,
                                      "fingerprint": row.fingerprint, "user_id": row.user_id,
                                      "created_at": row.created_at.isoformat(), "updated_at": None,
                                      "deleted": False, "deleted_at": None}}

    @schema("Delete a key pair", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-keypairs:delete", {"user_id": ctx.user_id})
        with self.service.db.transaction() as session:
            session.delete(self._find(session, req, name))
        resp.status = 202
