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
        "access_rules": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "properties": {
                "id": {"type": "string", "minLength": 1, "maxLength": 64},
                "path": {"type": "string", "maxLength": 225, "pattern": r"^/"},
                "service": {"type": "string", "minLength": 1, "maxLength": 64},
                "method": {"enum": ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]}}}},
    },
}}}
_FOUND = {"type": "object", "required": ["application_credential"]}


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def rule_view(rule: models.AccessRule) -> dict[str, Any]:
    return {"id": rule.id, "service": rule.service, "path": rule.path, "method": rule.method}


def view(row: models.ApplicationCredential, roles: list[models.Role], base: str,
         rules: dict[str, models.AccessRule] | None = None) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "description": row.description, "user_id": row.user_id,
        "project_id": row.project_id, "expires_at": _iso(row.expires_at), "unrestricted": row.unrestricted,
        "roles": [{"id": r.id, "name": r.name, "domain_id": None} for r in roles if r.id in row.role_ids],
        "access_rules": [rule_view(rules[i]) for i in row.access_rule_ids or [] if rules and i in rules],
        "links": {"self": f"{base}/v3/users/{row.user_id}/application_credentials/{row.id}"},
    }


def _rules(session: Any, user_id: str) -> dict[str, models.AccessRule]:
    return {r.id: r for r in session.scalars(sa.select(models.AccessRule).where(models.AccessRule.user_id == user_id))}


def _take_rules(session: Any, user_id: str, wanted: list[dict[str, str]]) -> list[str]:
    """The ids of the user's access rules ``wanted`` names: by ``id`` (it must be theirs), or
    an identical rule of theirs, or a new one (Keystone's rule)."""
    ids = []
    for rule in wanted:
        if set(rule) == {"id"} or ("id" in rule and not {"service", "path", "method"} <= set(rule)):
            row = session.get(models.AccessRule, rule["id"])
            if row is None or row.user_id != user_id:
                raise NotFound(f"Could not find access rule: {rule['id']}.")
        else:
            if not {"service", "path", "method"} <= set(rule):
                raise Invalid("Invalid input for field/attribute application_credential/access_rules: each rule "
                              "needs service, path and method, or the id of an existing rule.")
            row = session.scalars(sa.select(models.AccessRule).where(
                models.AccessRule.user_id == user_id, models.AccessRule.service == rule["service"],
                models.AccessRule.path == rule["path"], models.AccessRule.method == rule["method"])).first()
            if row is None:
                row = models.AccessRule(id=rule.get("id") or new_id(), user_id=user_id, service=rule["service"],
                                        path=rule["path"], method=rule["method"])
                session.add(row)
                session.flush()
        ids.append(row.id)
    return list(dict.fromkeys(ids))


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
        # the roles the user holds on the project now (as Keystone computes a token's roles
        # when it validates it: a role granted after the token was issued counts)
        project = self.identity.store.get_project(context.project_id)
        groups = [g.id for g in self.identity.backend.list_groups_for_user(user_id)]
        held = dict(self.identity.store.roles_for(user_id, groups, project=project))
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
            if body.get("access_rules"):
                row.access_rule_ids = _take_rules(session, user_id, body["access_rules"])
            session.add(row)
            session.flush()
            rules = _rules(session, user_id)
        resp.status = 201
        resp.media = {"application_credential": {
            **view(row, self._roles(), base_url(req, self.identity.conf), rules), "secret": secret}}

    @schema("List a user's application credentials", responses={200: {"type": "object",
                                                                      "required": ["application_credentials"]}},
            query={"name": {"type": "string"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:list_application_credentials", {"target_user_id": user_id})
        A = models.ApplicationCredential
        with self.identity.db.transaction() as session:
            rows = list(session.scalars(sa.select(A).where(A.user_id == user_id)))
            rules = _rules(session, user_id)
        base, roles = base_url(req, self.identity.conf), self._roles()
        resp.media = collection(req, self.identity.conf, "application_credentials",
                                [view(r, roles, base, rules) for r in rows], ("name", "id"))


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
            rules = _rules(session, user_id)
        resp.media = {"application_credential": view(row, roles, base_url(req, self.identity.conf), rules)}

    @schema("Delete an application credential; tokens made with it stop working", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str, credential_id: str) -> None:
        enforce(req, self.policy, "identity:delete_application_credential", {"target_user_id": user_id})
        row = self._load(user_id, credential_id)
        with self.identity.db.transaction() as session:
            session.execute(sa.delete(models.ApplicationCredential).where(models.ApplicationCredential.id == row.id))
        self.identity.revoke(application_credential_id=row.id)  # only its tokens, as Keystone
        resp.status = 204


class AccessRules:
    """``GET /v3/users/{user_id}/access_rules``: the user's access rules (filters service,
    path, method)."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("List a user's access rules", responses={200: {"type": "object", "required": ["access_rules"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:list_access_rules", {"target_user_id": user_id})
        with self.identity.db.reading() as session:
            rows = list(_rules(session, user_id).values())
        base = base_url(req, self.identity.conf)
        resp.media = collection(req, self.identity.conf, "access_rules", [
            {**rule_view(r), "links": {"self": f"{base}/v3/users/{user_id}/access_rules/{r.id}"}} for r in rows],
            ("service", "path", "method"))


class AccessRuleItem:
    """``GET`` / ``DELETE /v3/users/{user_id}/access_rules/{id}`` (403 while a credential uses it)."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _load(self, session: Any, user_id: str, rule_id: str) -> models.AccessRule:
        row = session.get(models.AccessRule, rule_id)
        if row is None or row.user_id != user_id:
            raise NotFound(f"Could not find access rule: {rule_id}.")
        return row

    @schema("Show an access rule", responses={200: {"type": "object", "required": ["access_rule"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str, rule_id: str) -> None:
        enforce(req, self.policy, "identity:get_access_rule", {"target_user_id": user_id})
        with self.identity.db.reading() as session:
            row = self._load(session, user_id, rule_id)
            base = base_url(req, self.identity.conf)
            resp.media = {"access_rule": {**rule_view(row),
                                          "links": {"self": f"{base}/v3/users/{user_id}/access_rules/{row.id}"}}}

    @schema("Delete an access rule no application credential uses", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str, rule_id: str) -> None:
        enforce(req, self.policy, "identity:delete_access_rule", {"target_user_id": user_id})
        A = models.ApplicationCredential
        with self.identity.db.transaction() as session:
            row = self._load(session, user_id, rule_id)
            if any(rule_id in (ids or []) for ids in session.scalars(sa.select(A.access_rule_ids).where(
                    A.user_id == user_id))):
                raise Forbidden(f"Access rule {rule_id} is used by an application credential; delete the "
                                "credential first.")
            session.delete(row)
        resp.status = 204
