"""``/v3/users/{user_id}/application_credentials``: delegated credentials for automation.

A credential is tied to the project of the token that creates it and carries a subset of
that token's roles. The secret is shown once, at creation; only its Argon2id hash is kept.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid, NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id
from stratus.identity.service import IdentityService

CREATE = {"type": "object", "required": ["application_credential"], "properties": {"application_credential": {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": {"type": ["string", "null"]},
        "secret": {"type": ["string", "null"], "minLength": 1, "maxLength": 4096},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "roles": {"type": "array", "items": {"type": "object", "minProperties": 1, "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}}}},
        "unrestricted": {"type": "boolean"},
    },
}}}
_FOUND = {"type": "object", "required": ["application_credential"]}


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def view(row: models.ApplicationCredential, roles: list[models.Role], base: str) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "description": row.description, "user_id": row.user_id,
        "project_id": row.project_id, "expires_at": _iso(row.expires_at), "unrestricted": row.unrestricted,
        "roles": [{"id": r.id, "name": r.name, "domain_id": None} for r in roles if r.id in row.role_ids],
        "links": {"self": f"{base}/v3/users/{row.user_id}/application_credentials/{row.id}"},
    }


def _parse_expiry(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"Invalid input for field/attribute application_credential/expires_at. Value: {value}. "
                      "Expected an ISO 8601 time.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    if moment <= datetime.datetime.now(datetime.UTC).replace(tzinfo=None):
        raise Invalid("Invalid input for field/attribute application_credential/expires_at. It is in the past.")
    return moment


class AppCredentials:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _roles(self) -> list[models.Role]:
        with self.identity.db.transaction() as session:
            return list(session.scalars(sa.select(models.Role)))

    @schema("Create an application credential (the secret is shown only now)", request=CREATE,
            responses={201: _FOUND})
    def on_post(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        context = req.context.stratus
        enforce(req, self.policy, "identity:create_application_credential", {"target_user_id": user_id})
        if context.user_id != user_id:
            raise Forbidden("Application credentials can only be created for yourself.")
        if not context.project_id:
            raise Forbidden("Application credentials need a project-scoped token.")
        token = self.identity.tokens.validate(context.auth_token)
        if token.application_credential_id:
            with self.identity.db.transaction() as session:
                parent = session.get(models.ApplicationCredential, token.application_credential_id)
            if parent is None or not parent.unrestricted:
                raise Forbidden("A restricted application credential cannot create application credentials.")
        body = req.context.body["application_credential"]
        held = dict(token.roles)  # id -> name, the roles of the creating token
        if body.get("roles"):
            wanted = []
            for ref in body["roles"]:
                role_id = ref.get("id") or next((i for i, n in held.items() if n == ref.get("name")), None)
                if role_id not in held:
                    raise Forbidden(f"The role {ref.get('id') or ref.get('name')} is not held on project "
                                    f"{context.project_id}; a credential can only delegate roles you have.")
                wanted.append(role_id)
        else:
            wanted = list(held)
        secret = body.get("secret") or secrets.token_urlsafe(64)
        row = models.ApplicationCredential(
            id=new_id(), name=body["name"], user_id=user_id, project_id=context.project_id,
            secret_hash=self.identity.hash_secret(secret), description=body.get("description"),
            expires_at=_parse_expiry(body.get("expires_at")), unrestricted=body.get("unrestricted", False),
            role_ids=sorted(set(wanted)),
        )
        with conflict_on_duplicate(f"Conflict occurred attempting to store application_credential - Duplicate "
                                   f"name, {body['name']}."), self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"application_credential": {**view(row, self._roles(), base_url(req, self.identity.conf)),
                                                 "secret": secret}}

    @schema("List a user's application credentials", responses={200: {"type": "object",
                                                                      "required": ["application_credentials"]}},
            query={"name": {"type": "string"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:list_application_credentials", {"target_user_id": user_id})
        A = models.ApplicationCredential
        with self.identity.db.transaction() as session:
            rows = list(session.scalars(sa.select(A).where(A.user_id == user_id)))
        base, roles = base_url(req, self.identity.conf), self._roles()
        resp.media = collection(req, self.identity.conf, "application_credentials",
                                [view(r, roles, base) for r in rows], ("name", "id"))


class AppCredential:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _load(self, user_id: str, credential_id: str) -> models.ApplicationCredential:
        with self.identity.db.transaction() as session:
            row = session.get(models.ApplicationCredential, credential_id)
        if row is None or row.user_id != user_id:
            raise NotFound(f"Could not find Application Credential: {credential_id}.")
        return row

    @schema("Show an application credential", responses={200: _FOUND})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str, credential_id: str) -> None:
        enforce(req, self.policy, "identity:get_application_credential", {"target_user_id": user_id})
        row = self._load(user_id, credential_id)
        with self.identity.db.transaction() as session:
            roles = list(session.scalars(sa.select(models.Role)))
        resp.media = {"application_credential": view(row, roles, base_url(req, self.identity.conf))}

    @schema("Delete an application credential; tokens made with it stop working", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str, credential_id: str) -> None:
        enforce(req, self.policy, "identity:delete_application_credential", {"target_user_id": user_id})
        row = self._load(user_id, credential_id)
        with self.identity.db.transaction() as session:
            session.execute(sa.delete(models.ApplicationCredential).where(models.ApplicationCredential.id == row.id))
        self.identity.revoke(user_id=row.user_id, project_id=row.project_id)
        resp.status = 204
