"""``/v3/credentials`` and EC2 credentials (``/v3/users/{id}/credentials/OS-EC2``).

A credential is a user's secret blob of some type (``ec2``, ``cert``, ``totp``, ...), kept
encrypted (:meth:`IdentityService.credential_cipher`). An ``ec2`` credential belongs to a
project and its blob is JSON with ``access`` and ``secret``; its id is the SHA-256 of the
access key, as Keystone makes it, so the EC2 API finds it by access key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.identity import ec2, models
from stratus.identity.api.common import base_url, collection, new_id
from stratus.identity.api.views import token_body
from stratus.identity.service import IdentityService

Credential = models.Credential
_FIELDS = {"blob": {"type": "string"}, "type": {"type": "string", "minLength": 1, "maxLength": 255},
           "user_id": {"type": "string", "minLength": 1, "maxLength": 64},
           "project_id": {"type": ["string", "null"], "maxLength": 64}}
CREATE = {"type": "object", "required": ["credential"], "properties": {"credential": {
    "type": "object", "required": ["blob", "type", "user_id"], "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["credential"], "properties": {"credential": {
    "type": "object", "minProperties": 1, "properties": _FIELDS}}}
EC2_CREATE = {"type": "object", "required": ["tenant_id"], "properties": {
    "tenant_id": {"type": "string", "minLength": 1, "maxLength": 64}}}


def _encrypt(identity: IdentityService, blob: str) -> str:
    return identity.credential_cipher().encrypt(blob.encode()).decode()


def _decrypt(identity: IdentityService, row: Credential) -> str:
    return identity.credential_cipher().decrypt(row.encrypted_blob.encode()).decode()


def _view(identity: IdentityService, row: Credential, base: str) -> dict[str, Any]:
    return {**(row.extra or {}), "id": row.id, "user_id": row.user_id, "project_id": row.project_id,
            "type": row.type, "blob": _decrypt(identity, row), "links": {"self": f"{base}/v3/credentials/{row.id}"}}


def _ec2_id(body: dict[str, Any]) -> str:
    """Keystone's id of an ec2 credential: the SHA-256 of its access key (400 without one)."""
    try:
        access = json.loads(body["blob"])["access"]
    except (ValueError, KeyError, TypeError):
        raise Invalid("Invalid blob in credential: an ec2 credential's blob is JSON with an access key.") from None
    if not body.get("project_id"):
        raise Invalid("project_id is required for an ec2 credential.")
    return hashlib.sha256(str(access).encode()).hexdigest()


def _find(session: Any, credential_id: str) -> Credential:
    row = session.get(Credential, credential_id)
    if row is None:
        raise NotFound(f"Could not find credential: {credential_id}.")
    return row


class Credentials:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a credential (an administrator's, or one's own)", request=CREATE,
            responses={201: {"type": "object", "required": ["credential"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["credential"]
        enforce(req, self.policy, "identity:create_credential", {"target_user_id": body["user_id"]})
        self.identity.backend.get_user(body["user_id"])
        credential_id = _ec2_id(body) if body["type"] == "ec2" else new_id()
        row = Credential(id=credential_id, user_id=body["user_id"], project_id=body.get("project_id"),
                         type=body["type"], encrypted_blob=_encrypt(self.identity, body["blob"]),
                         extra={k: v for k, v in body.items() if k not in _FIELDS and k not in ("id", "links")})
        with self.identity.db.transaction() as session:
            if session.get(Credential, credential_id) is not None:
                raise Conflict(f"Conflict occurred attempting to store credential - Duplicate ID, {credential_id}.")
            session.add(row)
        resp.status = 201
        resp.media = {"credential": _view(self.identity, row, base_url(req, self.identity.conf))}

    @schema("List credentials (user_id, type); others than administrators see their own",
            responses={200: {"type": "object", "required": ["credentials"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = req.context.stratus
        query = sa.select(Credential)
        if not self.policy.allows(ctx, "identity:list_credentials"):
            query = query.where(Credential.user_id == ctx.user_id)
        for name in ("user_id", "type"):
            if req.get_param(name):
                query = query.where(getattr(Credential, name) == req.get_param(name))
        base = base_url(req, self.identity.conf)
        with self.identity.db.reading() as session:
            rows = list(session.scalars(query))
        resp.media = collection(req, self.identity.conf, "credentials",
                                [_view(self.identity, r, base) for r in rows], ())


class CredentialItem:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a credential", responses={200: {"type": "object", "required": ["credential"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, credential_id: str) -> None:
        with self.identity.db.reading() as session:
            row = _find(session, credential_id)
        enforce(req, self.policy, "identity:get_credential", {"target_user_id": row.user_id})
        resp.media = {"credential": _view(self.identity, row, base_url(req, self.identity.conf))}

    @schema("Update a credential", request=UPDATE, responses={200: {"type": "object", "required": ["credential"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, credential_id: str) -> None:
        body = req.context.body["credential"]
        with self.identity.db.transaction() as session:
            row = _find(session, credential_id)
            enforce(req, self.policy, "identity:update_credential", {"target_user_id": row.user_id})
            if "user_id" in body and body["user_id"] != row.user_id:
                enforce(req, self.policy, "identity:update_credential", {"target_user_id": body["user_id"]})
            if (body.get("type", row.type) == "ec2") and not body.get("project_id", row.project_id):
                raise Invalid("project_id is required for an ec2 credential.")
            for name in ("user_id", "project_id", "type"):
                if name in body:
                    setattr(row, name, body[name])
            if "blob" in body:
                row.encrypted_blob = _encrypt(self.identity, body["blob"])
            extra = {k: v for k, v in body.items() if k not in _FIELDS and k not in ("id", "links")}
            if extra:
                row.extra = {**(row.extra or {}), **extra}
        resp.media = {"credential": _view(self.identity, row, base_url(req, self.identity.conf))}

    @schema("Delete a credential", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, credential_id: str) -> None:
        with self.identity.db.transaction() as session:
            row = _find(session, credential_id)
            enforce(req, self.policy, "identity:delete_credential", {"target_user_id": row.user_id})
            session.delete(row)
        resp.status = 204


def _ec2_view(identity: IdentityService, row: Credential, base: str) -> dict[str, Any]:
    blob = json.loads(_decrypt(identity, row))
    return {"user_id": row.user_id, "tenant_id": row.project_id, "access": blob.get("access"),
            "secret": blob.get("secret"), "trust_id": blob.get("trust_id"),
            "links": {"self": f"{base}/v3/users/{row.user_id}/credentials/OS-EC2/{blob.get('access')}"}}


class Ec2Credentials:
    """``/v3/users/{user_id}/credentials/OS-EC2``: a user's EC2 keys for a project."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Make EC2 keys for one of the user's projects", request=EC2_CREATE,
            responses={201: {"type": "object", "required": ["credential"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:ec2_create_credential", {"target_user_id": user_id})
        project_id = req.context.body["tenant_id"]
        self.identity.store.get_project(project_id)
        groups = [g.id for g in self.identity.backend.list_groups_for_user(user_id)]
        if not self.identity.store.roles_for(user_id, groups, project=self.identity.store.get_project(project_id)):
            raise Invalid(f"User {user_id} has no role on project {project_id}.")
        access = secrets.token_hex(16)
        blob = json.dumps({"access": access, "secret": secrets.token_hex(16), "trust_id": None})
        row = Credential(id=hashlib.sha256(access.encode()).hexdigest(), user_id=user_id, project_id=project_id,
                         type="ec2", encrypted_blob=_encrypt(self.identity, blob), extra={})
        with self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"credential": _ec2_view(self.identity, row, base_url(req, self.identity.conf))}

    @schema("List the user's EC2 keys", responses={200: {"type": "object", "required": ["credentials"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:ec2_list_credentials", {"target_user_id": user_id})
        with self.identity.db.reading() as session:
            rows = list(session.scalars(sa.select(Credential).where(Credential.user_id == user_id,
                                                                    Credential.type == "ec2")))
        base = base_url(req, self.identity.conf)
        resp.media = {"credentials": [_ec2_view(self.identity, r, base) for r in rows],
                      "links": {"self": f"{base}/v3/users/{user_id}/credentials/OS-EC2", "previous": None,
                                "next": None}}


class Ec2Credential:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _find(self, session: Any, user_id: str, access: str) -> Credential:
        row = session.get(Credential, hashlib.sha256(access.encode()).hexdigest())
        if row is None or row.type != "ec2" or row.user_id != user_id:
            raise NotFound(f"Could not find credential: {access}.")
        return row

    @schema("Show one EC2 key pair", responses={200: {"type": "object", "required": ["credential"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str, access: str) -> None:
        enforce(req, self.policy, "identity:ec2_get_credential", {"target_user_id": user_id})
        with self.identity.db.reading() as session:
            row = self._find(session, user_id, access)
        resp.media = {"credential": _ec2_view(self.identity, row, base_url(req, self.identity.conf))}

    @schema("Delete one EC2 key pair", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str, access: str) -> None:
        enforce(req, self.policy, "identity:ec2_delete_credential", {"target_user_id": user_id})
        with self.identity.db.transaction() as session:
            session.delete(self._find(session, user_id, access))
        resp.status = 204


S3TOKENS_REQUEST = {"type": "object", "required": ["credentials"], "properties": {"credentials": {
    "type": "object", "required": ["access", "token", "signature"], "properties": {
        "access": {"type": "string", "minLength": 1, "maxLength": 255},
        "token": {"type": "string", "minLength": 1, "maxLength": 65536},
        "signature": {"type": "string", "minLength": 1, "maxLength": 1024}}}}}


class S3Tokens:
    """``POST /v3/s3tokens`` (Keystone's): an S3 endpoint sends the access key, the string it
    signed (base64, as ``token``) and the signature; the answer is a token of the key's owner
    scoped to its project, as ``POST /v3/auth/tokens`` answers. Needs no token of its own."""

    auth_required = False

    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    @schema("Check an S3 request's signature and issue a token", request=S3TOKENS_REQUEST,
            responses={200: {"type": "object", "required": ["token"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        credentials = req.context.body["credentials"]
        try:
            string_to_sign = base64.b64decode(credentials["token"], validate=True).decode()
        except ValueError:  # binascii.Error, non-ASCII text, UnicodeDecodeError
            raise Invalid("credentials.token must be the base64 of the string to sign") from None
        token, data = ec2.issue(self.identity, credentials["access"], string_to_sign, credentials["signature"])
        resp.set_header("X-Subject-Token", token)
        resp.media = token_body(self.identity, data, include_catalog=False)
