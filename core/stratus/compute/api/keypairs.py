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
from stratus.compute.api.common import context, int_param, page_links
from stratus.compute.api.microversions import at_least, unexpected_before
from stratus.compute.service import ComputeService
from stratus.db.engine import insert_unless_taken
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound, QuotaExceeded

KeyPair = models.KeyPair
CREATE = {"type": "object", "required": ["keypair"], "additionalProperties": False, "properties": {"keypair": {
    "type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "public_key": {"type": "string"}, "type": {"enum": ["ssh", "x509"]},
        "user_id": {"type": "string", "minLength": 1, "maxLength": 255}}}}}


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


def x509_fingerprint(certificate: str) -> str:
    """Nova's fingerprint of an x509 key pair: SHA-1 of the DER certificate, colon-separated.

    :raises Invalid: not a PEM certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        digest = x509.load_pem_x509_certificate(certificate.strip().encode()).fingerprint(hashes.SHA1()).hex()  # noqa: S303 (Nova's format)
    except ValueError:
        raise Invalid("Keypair data is invalid: failed to generate fingerprint") from None
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate_x509(name: str) -> tuple[str, str]:
    """A new key with a self-signed certificate for it: (private key PEM, certificate PEM)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def generate() -> tuple[str, str]:
    """A new RSA key: (private key PEM, OpenSSH public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Stratus"


def _owner(req: falcon.Request, wanted: str | None = None) -> str:
    """Whose key pairs the request is about: the caller's, or (administrators, 2.10) ``user_id``'s."""
    ctx = context(req)
    user_id = wanted or req.get_param("user_id")
    if user_id and user_id != ctx.user_id:
        if not at_least(req, "2.10"):
            raise Invalid("Invalid input: user_id is only accepted from microversion 2.10")
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-keypairs to be performed for another user.")
        return user_id
    return ctx.user_id


def _view(req: falcon.Request, row: KeyPair) -> dict[str, Any]:
    body = {"name": row.name, "public_key": row.public_key, "fingerprint": row.fingerprint}
    if at_least(req, "2.2"):
        body["type"] = row.type
    return body


_SAFE = frozenset("_- abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _check_name(req: falcon.Request, name: str) -> None:
    """Letters, digits, space, ``_`` and ``-`` (from 2.92 also ``@`` and ``.``), no space at either end."""
    safe = _SAFE | {"@", "."} if at_least(req, "2.92") else _SAFE
    if name != name.strip() or any(c not in safe for c in name):
        raise Invalid("Keypair data is invalid: Keypair name contains unsafe characters")


class KeyPairs:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("List the caller's key pairs (administrators: user_id's; limit and marker from 2.35)",
            responses={200: {"type": "object", "required": ["keypairs"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        owner = _owner(req)
        enforce(req, self.policy, "os_compute_api:os-keypairs:index", {"user_id": owner})
        query = sa.select(KeyPair).where(KeyPair.user_id == owner).order_by(KeyPair.name)
        limit = None
        if at_least(req, "2.35"):
            if req.get_param("limit") is not None:
                limit = int_param(req, "limit", 0)
                query = query.limit(limit)
            if req.get_param("marker") is not None:
                query = query.where(KeyPair.name > self._marker(req, owner))
        with self.service.db.reading() as session:
            rows = list(session.scalars(query))
            resp.media = {"keypairs": [{"keypair": _view(req, r)} for r in rows]}
        if limit and len(rows) == limit:
            resp.media["keypairs_links"] = page_links(req, rows[-1].name)

    def _marker(self, req: falcon.Request, owner: str) -> str:
        marker = req.get_param("marker")
        with self.service.db.transaction() as session:
            if session.scalar(sa.select(KeyPair.id).where(KeyPair.user_id == owner, KeyPair.name == marker)) is None:
                raise Invalid(f"Marker {marker} could not be found.")
        return marker

    @schema("Import a public key, or generate a key pair (the private key is shown once); ssh or x509 (2.2)",
            request=CREATE, responses={200: {"type": "object", "required": ["keypair"]}, 201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        body = req.context.body["keypair"]
        unexpected_before(req, "2.2", body, "type")
        unexpected_before(req, "2.10", body, "user_id")
        owner = _owner(req, body.get("user_id"))
        enforce(req, self.policy, "os_compute_api:os-keypairs:create", {"user_id": owner})
        _check_name(req, body["name"])
        if at_least(req, "2.92") and "public_key" not in body:
            raise Invalid("Invalid input for field/attribute keypair: 'public_key' is a required property (key "
                          "pairs are no longer generated from microversion 2.92)")
        kind, private = body.get("type", "ssh"), None
        if "public_key" in body:
            public = body["public_key"].strip()
        else:
            private, public = generate() if kind == "ssh" else generate_x509(body["name"])
        row = KeyPair(user_id=owner, name=body["name"], public_key=public,
                      fingerprint=fingerprint(public) if kind == "ssh" else x509_fingerprint(public),
                      type=kind, created_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
        with self.service.db.transaction() as session:
            limit = quotas.limits(session, self.service.conf, ctx.project_id)["key_pairs"]
            count = session.scalar(sa.select(sa.func.count()).where(KeyPair.user_id == owner))
            if 0 <= limit <= count:
                raise QuotaExceeded("Quota exceeded, too many key pairs.")
            if not insert_unless_taken(session, row):
                raise Conflict(f"Key pair '{row.name}' already exists.")
        result = {**_view(req, row), "user_id": row.user_id}
        if private is not None:
            result["private_key"] = private
        resp.media = {"keypair": result}
        if at_least(req, "2.2"):
            resp.status = 201


class KeyPairItem:
    def __init__(self, service: ComputeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def _find(self, session: Any, req: falcon.Request, name: str) -> KeyPair:
        owner = _owner(req)
        row = session.scalars(sa.select(KeyPair).where(KeyPair.user_id == owner, KeyPair.name == name)).first()
        if row is None:
            raise NotFound(f"Keypair {name} not found for user {owner}")
        return row

    @schema("Show a key pair", responses={200: {"type": "object", "required": ["keypair"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-keypairs:show", {"user_id": _owner(req)})
        with self.service.db.reading() as session:
            row = self._find(session, req, name)
            resp.media = {"keypair": {"id": row.id, **_view(req, row), "user_id": row.user_id,
                                      "created_at": row.created_at.isoformat(), "updated_at": None,
                                      "deleted": False, "deleted_at": None}}

    @schema("Delete a key pair", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-keypairs:delete", {"user_id": _owner(req)})
        with self.service.db.transaction() as session:
            session.delete(self._find(session, req, name))
        resp.status = 204 if at_least(req, "2.2") else 202
