"""The token validation cache of services that ask the identity API (rest mode)."""

from __future__ import annotations

import time

import pytest

from stratus.context import RequestContext
from stratus.exceptions import NotAuthenticated
from stratus.identity.client import CachedValidator, context_from_token


class Counting:
    """A stand-in for the identity API: counts the lookups, tokens expire when told."""

    def __init__(self, expires_in: float = 3600) -> None:
        self.calls, self.expires_in, self.revoked = 0, expires_in, set()

    def lookup(self, token: str) -> tuple[RequestContext, float]:
        self.calls += 1
        if token in self.revoked:
            raise NotAuthenticated("revoked")
        return RequestContext(user_id=f"user-{token}", roles=["member"], auth_token=token), \
            time.time() + self.expires_in


def test_a_validated_token_is_not_asked_again_within_the_ttl():
    inner = Counting()
    cache = CachedValidator(inner, ttl=60, size=10)  # type: ignore[arg-type]
    first, second = cache.validate("a"), cache.validate("a")
    assert inner.calls == 1 and first.user_id == second.user_id == "user-a"
    assert first is not second and first.request_id != second.request_id  # each request its own context
    second.roles.append("admin")
    assert cache.validate("a").roles == ["member"]


def test_revocations_take_effect_once_the_ttl_passes(monkeypatch):
    inner = Counting()
    cache = CachedValidator(inner, ttl=5, size=10)  # type: ignore[arg-type]
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache.validate("a")
    inner.revoked.add("a")
    cache.validate("a")  # still trusted within the TTL the operator chose
    now[0] += 6
    with pytest.raises(NotAuthenticated):
        cache.validate("a")
    with pytest.raises(NotAuthenticated):  # refusals are not cached either way: asked again
        cache.validate("a")
    assert inner.calls == 3


def test_a_token_is_never_trusted_past_its_expiry():
    inner = Counting(expires_in=-1)
    cache = CachedValidator(inner, ttl=300, size=10)  # type: ignore[arg-type]
    cache.validate("a")
    cache.validate("a")
    assert inner.calls == 2


def test_the_least_recently_used_token_leaves_a_full_cache():
    inner = Counting()
    cache = CachedValidator(inner, ttl=60, size=2)  # type: ignore[arg-type]
    for token in ("a", "b", "a", "c"):  # c pushes out b, the least recently used
        cache.validate(token)
    calls = inner.calls
    cache.validate("a")
    assert inner.calls == calls
    cache.validate("b")
    assert inner.calls == calls + 1


def test_a_keystone_token_document_becomes_a_context():
    body = {"token": {
        "user": {"id": "u", "name": "alice", "domain": {"id": "default"}},
        "project": {"id": "p", "name": "demo", "domain": {"id": "default"}},
        "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
        "application_credential": {"id": "ac", "access_rules": [{"service": "compute", "method": "GET",
                                                                 "path": "/v2.1/servers"}]},
        "expires_at": "2030-01-01T00:00:00.000000Z"}}
    context = context_from_token(body, "tok")
    assert (context.user_id, context.user_name, context.user_domain_id) == ("u", "alice", "default")
    assert (context.project_id, context.project_name, context.project_domain_id) == ("p", "demo", "default")
    assert context.roles == ["member", "reader"] and context.auth_token == "tok"
    assert context.access_rules == [{"service": "compute", "method": "GET", "path": "/v2.1/servers"}]
    system = context_from_token({"token": {"user": {"id": "u"}, "system": {"all": True}, "roles": []}}, "t")
    assert system.system_scope == "all" and system.project_id is None
