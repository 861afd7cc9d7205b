"""The identity service's collaborators, built once per process from the configuration.

Every API app gets :meth:`IdentityService.authenticate_request` as its authenticator, so
each service validates tokens locally with the same keys and revocation index.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus import loading
from stratus.context import RequestContext
from stratus.db.engine import Database
from stratus.exceptions import NotAuthenticated, NotFound
from stratus.identity.authentication import Authenticator
from stratus.identity.keys import KeyRepository
from stratus.identity.revocation import Revocation, RevocationList, now_us
from stratus.identity.store import IdentityStore
from stratus.identity.tokens import TokenData, TokenProvider
from stratus.interfaces.auth import AuthBackend


class IdentityService:
    """:raises DriverError: the configured auth backend does not load.
    :raises ConfigError: the token key repository is missing or broken."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "identity")
        self.backend: AuthBackend = loading.load_driver("stratus.auth", conf.identity.driver, conf)
        self.store = IdentityStore(self.db)
        self.keys = KeyRepository(conf.token.key_repository, conf.token.max_active_keys)
        self.keys.load()  # fail at start, not at the first login
        max_age = conf.token.expiration + conf.token.allow_expired_window
        self.revocations = RevocationList(self.db, conf.token.revocation_cache_time, max_age)
        self.tokens = TokenProvider(self.keys, self.revocations, conf.token.expiration,
                                    conf.token.allow_expired_window)
        self.authenticator = Authenticator(self.backend, self.store, self.tokens)

    @staticmethod
    def context_for(data: TokenData, token: str) -> RequestContext:
        return RequestContext(
            user_id=data.user_id, user_domain_id=data.user_domain_id, project_id=data.project_id,
            project_domain_id=data.project_domain_id, domain_id=data.domain_id,
            system_scope="all" if data.system else None, roles=data.role_names, auth_token=token,
        )

    def authenticate_request(self, req: falcon.Request) -> RequestContext | None:
        """The API middleware's authenticator: ``X-Auth-Token`` to a context, or None without one.

        :raises NotAuthenticated: the token is invalid, expired or revoked.
        """
        token = req.get_header("X-Auth-Token")
        if not token:
            return None
        try:
            data = self.tokens.validate(token)
        except NotFound:
            raise NotAuthenticated("The request you have made requires authentication.") from None
        return self.context_for(data, token)

    def revoke(self, **match: str) -> None:
        """Revoke every token issued until now that matches ``match`` (user_id, project_id,
        domain_id, role_id, or user_id with project_id)."""
        self.revocations.revoke(Revocation(now_us(), **match))

    def close(self) -> None:
        self.db.dispose()
