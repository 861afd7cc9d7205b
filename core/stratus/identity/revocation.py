"""Token revocation: events in SQL, checked against an in-memory index.

An event revokes every token it matches that was issued at or before its
``issued_before``: one token (its audit id), all of a user's (disabled, password
changed), all scoped to a project (project disabled), a user's on one project (role
removed), all carrying a role (role deleted), all made from an application credential
(the credential deleted). The index is reloaded every
``[token] revocation_cache_time`` seconds; events recorded by this process apply at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.identity.models import RevocationEvent


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Revocation:
    issued_before_us: int
    audit_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    role_id: str | None = None
    application_credential_id: str | None = None


class RevocationList:
    def __init__(self, db: Database, cache_seconds: float, max_token_age_s: float) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self.max_token_age_us = int(max_token_age_s * 1e6)
        self._lock = threading.Lock()
        self._loaded_at: float | None = None  # never loaded: load on first use
        self._audit: dict[str, int] = {}
        self._user: dict[str, int] = {}
        self._project: dict[str, int] = {}
        self._user_project: dict[tuple[str, str], int] = {}
        self._domain: dict[str, int] = {}
        self._role: dict[str, int] = {}
        self._app_cred: dict[str, int] = {}
        #: called after each revocation is stored, to tell other processes (set by the service)
        self.on_revoke: Callable[[], None] | None = None

    def _index(self, events: Iterable[Revocation]) -> None:
        audit, user, project, user_project, domain, role, app_cred = {}, {}, {}, {}, {}, {}, {}

        def keep(table: dict, key: Any, when: int) -> None:
            table[key] = max(table.get(key, 0), when)

        for e in events:
            if e.application_credential_id:
                keep(app_cred, e.application_credential_id, e.issued_before_us)
            elif e.audit_id:
                keep(audit, e.audit_id, e.issued_before_us)
            elif e.user_id and e.project_id:
                keep(user_project, (e.user_id, e.project_id), e.issued_before_us)
            elif e.user_id:
                keep(user, e.user_id, e.issued_before_us)
            elif e.project_id:
                keep(project, e.project_id, e.issued_before_us)
            elif e.domain_id:
                keep(domain, e.domain_id, e.issued_before_us)
            elif e.role_id:
                keep(role, e.role_id, e.issued_before_us)
        self._audit, self._user, self._project = audit, user, project
        self._user_project, self._domain, self._role, self._app_cred = user_project, domain, role, app_cred

    def reload(self) -> None:
        cutoff = now_us() - self.max_token_age_us
        with self.db.transaction() as session:
            rows = session.scalars(sa.select(RevocationEvent).where(RevocationEvent.revoked_at_us >= cutoff)).all()
            events = [Revocation(r.issued_before_us, r.audit_id, r.user_id, r.project_id, r.domain_id, r.role_id,
                                 r.application_credential_id) for r in rows]
        with self._lock:
            self._index(events)
            self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self.cache_seconds:
            self.reload()

    def revoke(self, event: Revocation) -> None:
        """Record ``event``; it applies at once here and, through ``on_revoke``, elsewhere."""
        with self.db.transaction() as session:
            session.add(RevocationEvent(
                audit_id=event.audit_id, user_id=event.user_id, project_id=event.project_id,
                domain_id=event.domain_id, role_id=event.role_id,
                application_credential_id=event.application_credential_id, issued_before_us=event.issued_before_us,
                revoked_at_us=now_us(),
            ))
        self.reload()
        if self.on_revoke is not None:
            self.on_revoke()

    def is_revoked(self, issued_at_us: int, audit_ids: Iterable[str], user_id: str, project_id: str | None,
                   domain_ids: Iterable[str], role_ids: Iterable[str],
                   application_credential_id: str | None = None) -> bool:
        """True when an event revokes a token with these properties. No database access
        unless the cached index is older than the cache time."""
        self._fresh()

        def hit(table: dict, key: Any) -> bool:
            when = table.get(key)
            return when is not None and issued_at_us <= when

        return (
            any(hit(self._audit, a) for a in audit_ids)
            or hit(self._user, user_id)
            or (project_id is not None and (hit(self._project, project_id)
                                            or hit(self._user_project, (user_id, project_id))))
            or any(hit(self._domain, d) for d in domain_ids)
            or any(hit(self._role, r) for r in role_ids)
            or (application_credential_id is not None and hit(self._app_cred, application_credential_id))
        )

    def prune(self) -> int:
        """Delete events older than any token still alive; return how many."""
        cutoff = now_us() - self.max_token_age_us
        with self.db.transaction() as session:
            return session.execute(sa.delete(RevocationEvent).where(RevocationEvent.revoked_at_us < cutoff)).rowcount
