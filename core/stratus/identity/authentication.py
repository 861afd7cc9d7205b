"""Turning ``POST /v3/auth/tokens`` bodies into tokens: the auth methods and scoping.

Every failure to authenticate is the same 401, whatever went wrong (unknown user, wrong
password, disabled user or domain), so the API tells an attacker nothing; a scope the user
may not use is a 401 that says so, as Keystone answers.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Invalid, NotAuthenticated, NotFound
from stratus.identity import models, passwords
from stratus.identity.store import IdentityStore
from stratus.identity.tokens import TokenData, TokenProvider
from stratus.interfaces.auth import AuthBackend, User

AUTH_FAILED = "The request you have made requires authentication."
METHODS = ("password", "token", "application_credential")


@dataclass(frozen=True)
class Identified:
    """Who the methods proved, and what an earlier token or credential brings along."""

    user: User
    methods: tuple[str, ...]
    expires_at_us: int | None = None
    parent_audit_id: str | None = None
    application_credential: models.ApplicationCredential | None = None
    previous_scope: TokenData | None = None


class Authenticator:
    def __init__(self, backend: AuthBackend, store: IdentityStore, provider: TokenProvider) -> None:
        self.backend = backend
        self.store = store
        self.provider = provider

    # -- identity -----------------------------------------------------------------

    def _user_from_ref(self, ref: Mapping[str, Any]) -> User:
        try:
            if ref.get("id"):
                return self.backend.get_user(str(ref["id"]))
            domain = self.store.find_domain(ref.get("domain") or {}, "user domain")
            return self.backend.get_user_by_name(str(ref["name"]), domain.id)
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None

    def _check_user_usable(self, user: User) -> None:
        try:
            domain_enabled = self.store.get_domain(user.domain_id).enabled
        except NotFound:
            domain_enabled = False
        if not user.enabled or not domain_enabled:
            raise NotAuthenticated(AUTH_FAILED)

    def _password(self, body: Mapping[str, Any]) -> Identified:
        ref = body["user"]
        try:
            user = self._user_from_ref(ref)
        except NotAuthenticated:
            passwords.verify_password(str(ref.get("password", "")), None)  # same time as a real check
            raise
        user = self.backend.authenticate(user.id, str(ref["password"]))
        self._check_user_usable(user)
        return Identified(user, ("password",))

    def _token(self, body: Mapping[str, Any]) -> Identified:
        try:
            data = self.provider.validate(str(body["id"]))
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None
        if data.application_credential_id:
            raise NotAuthenticated("A token created with an application credential cannot be rescoped.")
        try:
            user = self.backend.get_user(data.user_id)
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None
        self._check_user_usable(user)
        methods = tuple(dict.fromkeys(("token", *data.methods)))
        return Identified(user, methods, data.expires_at_us, data.audit_ids[-1], previous_scope=data)

    def _application_credential(self, body: Mapping[str, Any]) -> Identified:
        A = models.ApplicationCredential
        with self.store.db.transaction() as session:
            if body.get("id"):
                row = session.get(A, str(body["id"]))
            else:
                user = self._user_from_ref(body.get("user") or {})
                row = session.scalar(sa.select(A).where(A.name == str(body.get("name")), A.user_id == user.id))
        if not passwords.verify_password(str(body.get("secret", "")), row.secret_hash if row else None) or not row:
            raise NotAuthenticated(AUTH_FAILED)
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        if row.expires_at is not None and row.expires_at <= now:
            raise NotAuthenticated(AUTH_FAILED)
        try:
            user = self.backend.get_user(row.user_id)
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None
        self._check_user_usable(user)
        expires = int(row.expires_at.replace(tzinfo=datetime.UTC).timestamp() * 1e6) if row.expires_at else None
        return Identified(user, ("application_credential",), expires, application_credential=row)

    def identify(self, identity: Mapping[str, Any]) -> Identified:
        methods = identity["methods"]
        if len(methods) != 1:
            raise Invalid("Exactly one authentication method is supported per request.")
        method = methods[0]
        if method not in identity:
            raise Invalid(f"Invalid input for field/attribute identity/{method}. The method is listed but "
                          "its credentials are missing.")
        handler = {"password": self._password, "token": self._token,
                   "application_credential": self._application_credential}[method]
        return handler(identity[method])

    # -- scope --------------------------------------------------------------------

    def _group_ids(self, user: User) -> list[str]:
        return [g.id for g in self.backend.list_groups_for_user(user.id)]

    def issue(self, auth: Mapping[str, Any]) -> tuple[str, TokenData]:
        """Authenticate ``auth`` (the body's ``auth`` object) and return a new token.

        :raises Invalid: malformed request. :raises NotAuthenticated: anything else that fails.
        """
        who = self.identify(auth["identity"])
        scope = auth.get("scope")
        if who.application_credential is not None:
            if scope not in (None, "unscoped") and scope:
                raise Invalid("An application credential token is scoped to its project; do not request a scope.")
            return self._scoped_to_application_credential(who)
        if scope is None and who.previous_scope is not None and who.previous_scope.scoped:
            raise Invalid("A scope is required when authenticating with a scoped token.")
        if scope is None and who.user.default_project_id:
            try:
                default = self.store.get_project(who.user.default_project_id)
                if self.store.roles_for(who.user.id, self._group_ids(who.user), project=default):
                    scope = {"project": {"id": default.id}}
            except NotFound:
                scope = None
        common = {"user_domain_id": who.user.domain_id, "expires_at_us": who.expires_at_us,
                  "parent_audit_id": who.parent_audit_id}
        if not scope or scope == "unscoped":
            data = self.provider.new_token_data(who.user.id, list(who.methods), **common)
            return self.provider.issue(data), data
        if not isinstance(scope, Mapping) or len(scope) != 1:
            raise Invalid("scope must name exactly one of project, domain or system")
        groups = self._group_ids(who.user)
        if "project" in scope:
            try:
                project = self.store.find_project(scope["project"])
            except NotFound:
                raise NotAuthenticated(f"Could not find project: {scope['project']}.") from None
            if not self.store.project_enabled(project):
                raise NotAuthenticated(f"Project {project.id} is disabled.")
            roles = self.store.roles_for(who.user.id, groups, project=project)
            if not roles:
                raise NotAuthenticated(f"User {who.user.id} has no access to project {project.id}")
            data = self.provider.new_token_data(who.user.id, list(who.methods), project_id=project.id,
                                                project_domain_id=project.domain_id, roles=roles, **common)
        elif "domain" in scope:
            try:
                domain = self.store.find_domain(scope["domain"])
            except NotFound:
                raise NotAuthenticated(f"Could not find domain: {scope['domain']}.") from None
            if not domain.enabled:
                raise NotAuthenticated(f"Domain {domain.id} is disabled.")
            roles = self.store.roles_for(who.user.id, groups, domain_id=domain.id)
            if not roles:
                raise NotAuthenticated(f"User {who.user.id} has no access to domain {domain.id}")
            data = self.provider.new_token_data(who.user.id, list(who.methods), domain_id=domain.id, roles=roles,
                                                **common)
        elif "system" in scope:
            if scope["system"] != {"all": True}:
                raise Invalid("system scope must be {\"all\": true}")
            roles = self.store.roles_for(who.user.id, groups, system=True)
            if not roles:
                raise NotAuthenticated(f"User {who.user.id} has no access to the system")
            data = self.provider.new_token_data(who.user.id, list(who.methods), system=True, roles=roles, **common)
        else:
            raise Invalid(f"Unknown scope {next(iter(scope))!r}; use project, domain or system")
        return self.provider.issue(data), data

    def issue_for_project(self, user_id: str, project_id: str, methods: list[str]) -> tuple[str, TokenData]:
        """A token of ``user_id`` scoped to ``project_id``, for a method proved elsewhere (an EC2
        signature).

        :raises NotAuthenticated: the user or the project is gone or disabled, or no role.
        """
        try:
            user = self.backend.get_user(user_id)
            project = self.store.get_project(project_id)
        except NotFound:
            raise NotAuthenticated(AUTH_FAILED) from None
        self._check_user_usable(user)
        if not self.store.project_enabled(project):
            raise NotAuthenticated(f"Project {project.id} is disabled.")
        roles = self.store.roles_for(user.id, self._group_ids(user), project=project)
        if not roles:
            raise NotAuthenticated(f"User {user.id} has no access to project {project.id}")
        data = self.provider.new_token_data(user.id, methods, user_domain_id=user.domain_id, project_id=project.id,
                                            project_domain_id=project.domain_id, roles=roles)
        return self.provider.issue(data), data

    def _scoped_to_application_credential(self, who: Identified) -> tuple[str, TokenData]:
        credential = who.application_credential
        project = self.store.get_project(credential.project_id)
        if not self.store.project_enabled(project):
            raise NotAuthenticated(f"Project {project.id} is disabled.")
        effective = self.store.roles_for(who.user.id, self._group_ids(who.user), project=project)
        allowed = set(credential.role_ids)
        roles = [r for r in effective if r[0] in allowed]
        if not roles:
            raise NotAuthenticated(f"User {who.user.id} no longer holds the roles of the application credential")
        data = self.provider.new_token_data(
            who.user.id, list(who.methods), user_domain_id=who.user.domain_id, project_id=project.id,
            project_domain_id=project.domain_id, roles=roles, expires_at_us=who.expires_at_us,
            application_credential_id=credential.id,
        )
        return self.provider.issue(data), data
