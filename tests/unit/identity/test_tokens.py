"""Token keys, token format, revocation and password hashing, without HTTP."""

from __future__ import annotations

import base64
import os

import pytest

from stratus.db import migration
from stratus.db.engine import Database
from stratus.exceptions import ConfigError, Invalid, NotFound
from stratus.identity import passwords
from stratus.identity.keys import KeyRepository
from stratus.identity.revocation import Revocation, RevocationList, now_us
from stratus.identity.tokens import TokenData, TokenProvider


@pytest.fixture
def keys(tmp_path):
    repository = KeyRepository(str(tmp_path / "keys"), max_active_keys=3)
    repository.setup()
    return repository


@pytest.fixture
def revocations(conf):
    migration.sync(conf, ["identity"])
    db = Database.for_service(conf, "identity")
    yield RevocationList(db, cache_seconds=3600, max_token_age_s=7200)
    db.dispose()


@pytest.fixture
def provider(keys, revocations, monkeypatch):
    monkeypatch.setattr("stratus.identity.tokens.KEY_CHECK_INTERVAL", 0)  # see rotations at once
    return TokenProvider(keys, revocations, expiration_s=3600, allow_expired_window_s=600)


def issue(provider, **kw):
    data = provider.new_token_data("u1", ["password"], user_domain_id="default", project_id="p1",
                                   project_domain_id="default", roles=[("r1", "member")], **kw)
    return provider.issue(data), data


def test_a_token_round_trips_encrypted(provider):
    token, data = issue(provider)
    assert provider.validate(token) == data
    assert data.role_names == ["member"] and data.scoped
    raw = base64.urlsafe_b64decode(token)
    assert b"member" not in raw and b"password" not in raw  # encrypted, not just signed


def test_setup_is_idempotent_and_keys_are_private(tmp_path):
    repository = KeyRepository(str(tmp_path / "k"))
    assert repository.setup() is True and repository.setup() is False
    assert sorted(os.listdir(repository.path)) == ["0", "1"]
    assert all(os.stat(os.path.join(repository.path, f)).st_mode & 0o077 == 0 for f in os.listdir(repository.path))


def test_rotation_keeps_validating_recent_tokens_and_drops_old_keys(provider, keys):
    before, _ = issue(provider)
    keys.rotate()
    after, _ = issue(provider)
    assert provider.validate(before) and provider.validate(after)
    keys.rotate()
    assert provider.validate(after)
    with pytest.raises(NotFound, match="Could not recognize Fernet token"):
        provider.validate(before)


def test_a_process_sees_keys_rotated_by_another(provider, keys, revocations):
    issue(provider)  # keys loaded before the rotation
    other = TokenProvider(KeyRepository(keys.path, 3), revocations, 3600, 0)
    KeyRepository(keys.path, 3).rotate()
    token, _ = issue(other)
    assert provider.validate(token)
    assert issue(provider)[0][:9] == token[:9]  # and it now encrypts with the new primary too


def test_missing_repository_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="run `stratus manage token-keys setup`"):
        KeyRepository(str(tmp_path / "none")).load()


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: t[:40] + t[41:],
    lambda t: "x" * 300,
    lambda t: "",
    lambda t: t + "=" * 3000,
])
def test_tampered_tokens_are_not_recognised(provider, mangle):
    token, _ = issue(provider)
    with pytest.raises(NotFound, match="Could not recognize Fernet token"):
        provider.validate(mangle(token))


def test_expired_tokens_fail_unless_allowed_within_the_window(provider):
    token, _ = issue(provider, expires_at_us=now_us() - 1_000_000)
    with pytest.raises(NotFound):
        provider.validate(token)
    assert provider.validate(token, allow_expired=True)
    ancient, _ = issue(provider, expires_at_us=now_us() - 3_600_000_000)
    with pytest.raises(NotFound):
        provider.validate(ancient, allow_expired=True)


@pytest.mark.parametrize(("event", "revoked"), [
    (lambda d: Revocation(d.issued_at_us, audit_id=d.audit_ids[0]), True),
    (lambda d: Revocation(d.issued_at_us, user_id="u1"), True),
    (lambda d: Revocation(d.issued_at_us, user_id="u2"), False),
    (lambda d: Revocation(d.issued_at_us, project_id="p1"), True),
    (lambda d: Revocation(d.issued_at_us, user_id="u1", project_id="p1"), True),
    (lambda d: Revocation(d.issued_at_us, user_id="u1", project_id="p2"), False),
    (lambda d: Revocation(d.issued_at_us, domain_id="default"), True),
    (lambda d: Revocation(d.issued_at_us, role_id="r1"), True),
    (lambda d: Revocation(d.issued_at_us - 1, user_id="u1"), False),  # the token is newer than the event
])
def test_revocation_events_match_what_they_name(provider, revocations, event, revoked):
    token, data = issue(provider)
    revocations.revoke(event(data))
    if revoked:
        with pytest.raises(NotFound):
            provider.validate(token)
    else:
        assert provider.validate(token)


def test_a_token_issued_right_after_a_revocation_is_valid(provider, revocations):
    first, _ = issue(provider)
    revocations.revoke(Revocation(now_us(), user_id="u1"))
    second, _ = issue(provider)
    assert provider.validate(second)
    with pytest.raises(NotFound):
        provider.validate(first)


def test_revocations_by_another_process_apply_after_the_cache_time(provider, revocations):
    token, data = issue(provider)
    assert provider.validate(token)  # loads this process's index
    other = RevocationList(revocations.db, cache_seconds=0, max_token_age_s=7200)
    other.revoke(Revocation(data.issued_at_us, audit_id=data.audit_ids[0]))
    assert provider.validate(token)  # this process's index is cached for an hour
    revocations.cache_seconds = 0
    with pytest.raises(NotFound):
        provider.validate(token)


def test_a_new_process_loads_existing_revocations_on_first_use(provider, revocations):
    token, data = issue(provider)
    revocations.revoke(Revocation(data.issued_at_us, user_id="u1"))
    fresh = TokenProvider(provider.keys, RevocationList(revocations.db, cache_seconds=1e9, max_token_age_s=7200),
                          3600, 0)
    with pytest.raises(NotFound):
        fresh.validate(token)


def test_payload_format_is_versioned():
    data = TokenData("u", ("password",), 1, 2, ("a",))
    assert TokenData.unpack(data.pack()) == data
    with pytest.raises(ValueError):
        TokenData.unpack(b"\x91\x07")


def test_passwords_hash_with_argon2id_and_verify():
    encoded = passwords.hash_password("correct horse", memory_cost=8192, time_cost=1)
    assert encoded.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert passwords.verify_password("correct horse", encoded)
    assert not passwords.verify_password("wrong horse", encoded)
    assert not passwords.verify_password("correct horse", None)
    assert not passwords.verify_password("correct horse", "$md5$nonsense")
    assert passwords.hash_password("x", 8192, 1) != passwords.hash_password("x", 8192, 1)  # salted
    with pytest.raises(Invalid, match="longer than 8"):
        passwords.hash_password("123456789", max_length=8)
