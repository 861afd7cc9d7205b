"""The identity service's collaborators, built once per process from the configuration.

In the processes that run it, every API app validates tokens with it (through
:class:`stratus.identity.client.LocalTokenValidator`) with the same keys and revocation
index; others ask its API (``[identity_client] mode = rest``).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import sqlalchemy as sa

from stratus import loading
from stratus.context import RequestContext
from stratus.db.engine import Database
from stratus.exceptions import BackendUnavailable
from stratus.identity import models, passwords
from stratus.identity.authentication import Authenticator
from stratus.identity.caching import Documents
from stratus.identity.domain_backends import DomainBackends
from stratus.identity.keys import KeyRepository
from stratus.identity.revocation import Revocation, RevocationList, now_us
from stratus.identity.store import IdentityStore
from stratus.identity.tokens import TokenData, TokenProvider
from stratus.interfaces.auth import AuthBackend
from stratus.rpc import RPCClient, RPCServer, Transport

LOG = logging.getLogger(__name__)

REVOCATION_TOPIC = "identity_revocations"


class IdentityService:
    """:raises DriverError: the configured auth backend does not load.
    :raises ConfigError: the token key repository is missing or broken."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "identity")
        self.backend: AuthBackend = loading.load_driver("stratus.auth", conf.identity.driver, conf)
        if conf.identity.domain_specific_drivers_enabled:
            self.backend = DomainBackends(conf, self.backend, self.db)
        self.store = IdentityStore(self.db)
        self.keys = KeyRepository(conf.token.key_repository, conf.token.max_active_keys)
        self.keys.load()  # fail at start, not at the first login
        max_age = conf.token.expiration + conf.token.allow_expired_window
        self.revocations = RevocationList(self.db, conf.token.revocation_cache_time, max_age)
        self.tokens = TokenProvider(self.keys, self.revocations, conf.token.expiration,
                                    conf.token.allow_expired_window)
        self.authenticator = Authenticator(self.backend, self.store, self.tokens)
        self._rules: dict[str, list[dict[str, str]] | None] = {}
        self._credential_cipher: Any = None
        self._rules_lock = threading.Lock()
        self._listener: RPCServer | None = None
        self._notifier: RPCClient | None = None
        self.documents = Documents(conf.identity.cache_time, 20000)
        self.db.on_commit_of_writes(self.changed)

    def changed(self) -> None:
        """Something in the identity database changed: what token documents are made of is
        read again, here and (told over the broker) in every other process."""
        self.documents.clear()
        if self._notifier is not None:
            try:
                self._notifier.fanout(None, "identity_changed")
            except BackendUnavailable as exc:
                LOG.warning("could not announce an identity change (%s); other processes see it within "
                            "[identity] cache_time", exc)

    @staticmethod
    def context_for(data: TokenData, token: str, access_rules: list[dict[str, str]] | None = None
                    ) -> RequestContext:
        return RequestContext(
            user_id=data.user_id, user_domain_id=data.user_domain_id, project_id=data.project_id,
            project_domain_id=data.project_domain_id, domain_id=data.domain_id,
            system_scope="all" if data.system else None, roles=data.role_names, auth_token=token,
            access_rules=access_rules,
        )

    def credential_cipher(self) -> Any:
        """The MultiFernet that encrypts credential blobs (the credential key repository).

        :raises BackendUnavailable: the repository has no keys yet."""
        from stratus.exceptions import ConfigError

        if self._credential_cipher is None:
            try:
                self._credential_cipher = KeyRepository(self.conf.identity.credential_key_repository).load()
            except ConfigError:
                raise BackendUnavailable("Credentials cannot be stored: the credential keys are not set up (run "
                                         "`stratus manage credential-keys setup`).") from None
        return self._credential_cipher

    def access_rules(self, credential_id: str) -> list[dict[str, str]] | None:
        """The access rules an application credential is limited to (None: unlimited). A
        credential's rules never change, so they are read once per process."""
        with self._rules_lock:
            if credential_id in self._rules:
                return self._rules[credential_id]
        with self.db.reading() as session:
            row = session.get(models.ApplicationCredential, credential_id)
            ids = (row.access_rule_ids or []) if row is not None else []
            rules = [{"id": r.id, "service": r.service, "method": r.method, "path": r.path}
                     for r in session.scalars(sa.select(models.AccessRule).where(models.AccessRule.id.in_(ids)))]
        found = rules or None
        with self._rules_lock:
            self._rules[credential_id] = found
        return found

    def hash_secret(self, secret: str) -> str:
        """Argon2id hash of a password or credential secret, with the configured cost."""
        settings = self.conf.identity
        return passwords.hash_password(secret, settings.argon2_memory_cost, settings.argon2_time_cost,
                                       settings.max_password_length)

    def revoke(self, **match: str) -> None:
        """Revoke every token issued until now that matches ``match`` (user_id, project_id,
        domain_id, role_id, application_credential_id, or user_id with project_id)."""
        self.revocations.revoke(Revocation(now_us(), **match))

    def listen_for_revocations(self, transport: Transport) -> None:
        """Reload the revocation index whenever any process records a revocation.

        Each process serves its own fanout queue on the ``identity_revocations`` topic, so a
        token revoked through one API worker or host is refused by all of them at once. If
        the broker is away the notice is dropped (logged) and the periodic reload
        (``[token] revocation_cache_time``) still catches up.
        """
        host = f"{self.conf.host}.{os.getpid()}"
        self._listener = RPCServer(transport, REVOCATION_TOPIC, host,
                                   [_RevocationEndpoint(self.revocations, self.documents)], workers=1)
        self._listener.start()
        notifier = self._notifier = RPCClient(
            Transport(transport.url, max_retries=1, interval_start=0.1, interval_max=0.5,
                      heartbeat=transport.heartbeat), REVOCATION_TOPIC)

        def notify_others() -> None:
            try:
                notifier.fanout(None, "revocations_changed")
            except BackendUnavailable as exc:
                LOG.warning("could not announce a revocation (%s); other processes see it within "
                            "[token] revocation_cache_time", exc)

        self.revocations.on_revoke = notify_others

    def close(self) -> None:
        if isinstance(self.backend, DomainBackends):
            self.backend.close()
        if self._listener is not None:
            self._listener.stop()
        if self._notifier is not None:
            self._notifier.close()
        self.db.dispose()


class _RevocationEndpoint:
    def __init__(self, revocations: RevocationList, documents: Documents) -> None:
        self.revocations, self.documents = revocations, documents

    def revocations_changed(self, context: RequestContext) -> None:
        self.revocations.reload()

    def identity_changed(self, context: RequestContext) -> None:
        self.documents.clear()
