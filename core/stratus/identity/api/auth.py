"""``/v3/auth/*``: issue, validate and revoke tokens; what a token may reach."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.api.versions import service_root
from stratus.exceptions import NotFound
from stratus.identity.api.views import domain_view, project_view, token_body
from stratus.identity.revocation import Revocation
from stratus.identity.service import IdentityService

_REF = {"type": "object", "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 255},
                                         "name": {"type": "string", "minLength": 1, "maxLength": 255}}}
_USER = {"type": "object", "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 255},
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "domain": _REF,
    "password": {"type": "string"},
}, "anyOf": [{"required": ["id"]}, {"required": ["name", "domain"]}]}

AUTH_REQUEST = {
    "type": "object",
    "required": ["auth"],
    "properties": {"auth": {
        "type": "object",
        "required": ["identity"],
        "properties": {
            "identity": {
                "type": "object",
                "required": ["methods"],
                "properties": {
                    "methods": {"type": "array", "minItems": 1,
                                "items": {"enum": ["password", "token", "application_credential"]}},
                    "password": {"type": "object", "required": ["user"], "properties": {
                        "user": {**_USER, "required": ["password"]}}},
                    "token": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                    "application_credential": {
                        "type": "object", "required": ["secret"],
                        "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                       "secret": {"type": "string"}, "user": _USER},
                        "anyOf": [{"required": ["id"]}, {"required": ["name", "user"]}],
                    },
                },
            },
            "scope": {"oneOf": [
                {"const": "unscoped"},
                {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
                    "project": {"type": "object", "properties": {"id": {"type": "string"},
                                                                 "name": {"type": "string"}, "domain": _REF}},
                    "domain": _REF,
                    "system": {"type": "object"},
                }},
            ]},
        },
    }},
}

TOKEN_RESPONSE = {
    "type": "object", "required": ["token"],
    "properties": {"token": {
        "type": "object",
        "required": ["methods", "user", "expires_at", "issued_at", "audit_ids"],
        "properties": {
            "methods": {"type": "array", "items": {"type": "string"}},
            "user": {"type": "object", "required": ["id", "name", "domain"]},
            "expires_at": {"type": "string"}, "issued_at": {"type": "string"},
            "audit_ids": {"type": "array", "items": {"type": "string"}},
            "project": {"type": "object", "required": ["id", "name", "domain"]},
            "roles": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
            "catalog": {"type": "array", "items": {"type": "object", "required": ["type", "endpoints"]}},
        },
    }},
}


def _flag(req: falcon.Request, name: str) -> bool:
    value = req.get_param(name)
    return value is not None and value.lower() not in ("0", "false", "no")


class AuthTokens:
    """``/v3/auth/tokens``."""

    #: issuing needs no token; validating and revoking check theirs in _subject
    auth_required = False

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity = identity
        self.policy = policy

    @schema("Authenticate and issue a token", request=AUTH_REQUEST, responses={201: TOKEN_RESPONSE},
            query={"nocatalog": {"type": "string"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token, data = self.identity.authenticator.issue(req.context.body["auth"])
        resp.status = 201
        resp.set_header("X-Subject-Token", token)
        resp.set_header("Vary", "X-Auth-Token")
        resp.media = token_body(self.identity, data, include_catalog=not _flag(req, "nocatalog"))

    def _subject(self, req: falcon.Request, action: str) -> tuple[str, Any]:
        context = req.context.stratus
        if not context.is_authenticated:
            raise falcon.HTTPUnauthorized(description="The request you have made requires authentication.")
        subject = req.get_header("X-Subject-Token")
        if not subject:
            raise NotFound("Could not recognize Fernet token")
        data = self.identity.tokens.validate(subject, allow_expired=_flag(req, "allow_expired"))
        enforce(req, self.policy, action, {"token_user_id": data.user_id})
        return subject, data

    @schema("Validate a token", responses={200: TOKEN_RESPONSE},
            query={"nocatalog": {"type": "string"}, "allow_expired": {"type": "string"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        subject, data = self._subject(req, "identity:validate_token")
        resp.set_header("X-Subject-Token", subject)
        resp.media = token_body(self.identity, data, include_catalog=not _flag(req, "nocatalog"))

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        subject, _ = self._subject(req, "identity:validate_token")
        resp.set_header("X-Subject-Token", subject)
        resp.status = 200

    @schema("Revoke a token", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        _, data = self._subject(req, "identity:revoke_token")
        self.identity.revocations.revoke(Revocation(data.issued_at_us, audit_id=data.audit_ids[0]))
        resp.status = 204


class AuthCatalog:
    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    @schema("The catalog of the request's token", responses={200: {"type": "object", "required": ["catalog"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        context = req.context.stratus
        if not (context.project_id or context.domain_id or context.system_scope):
            raise falcon.HTTPForbidden(description="The catalog needs a scoped token.")
        resp.media = {"catalog": self.identity.store.catalog(context.project_id),
                      "links": {"self": f"{service_root(req, self.identity.conf)}/v3/auth/catalog"}}


class AuthProjects:
    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    @schema("Projects the token's user can scope to", responses={200: {"type": "object", "required": ["projects"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user_id = req.context.stratus.user_id
        groups = [g.id for g in self.identity.backend.list_groups_for_user(user_id)]
        base = service_root(req, self.identity.conf)
        resp.media = {"projects": [project_view(p, base) for p in self.identity.store.projects_for(user_id, groups)],
                      "links": {"self": f"{base}/v3/auth/projects", "previous": None, "next": None}}


class AuthDomains:
    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    @schema("Domains the token's user can scope to", responses={200: {"type": "object", "required": ["domains"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user_id = req.context.stratus.user_id
        groups = [g.id for g in self.identity.backend.list_groups_for_user(user_id)]
        base = service_root(req, self.identity.conf)
        resp.media = {"domains": [domain_view(d, base) for d in self.identity.store.domains_for(user_id, groups)],
                      "links": {"self": f"{base}/v3/auth/domains", "previous": None, "next": None}}
