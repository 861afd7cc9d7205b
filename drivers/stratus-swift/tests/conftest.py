"""A Swift started and stopped by the tests, and stores configured against it."""

from __future__ import annotations

import os

import pytest

from tests import swift as swift_fixture


def _require_or_skip(reason: str) -> None:
    if "swift" in os.environ.get("STRATUS_TEST_REQUIRE", "").split(","):
        pytest.fail(f"Swift is required (STRATUS_TEST_REQUIRE) but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def swift(tmp_path_factory):
    reason = swift_fixture.available()
    if reason:
        _require_or_skip(reason)
    server = swift_fixture.Swift(str(tmp_path_factory.mktemp("swift")))
    server.start()
    yield server
    server.stop()


def store_conf(path, swift, state_path, **options) -> str:
    """A stratus.conf with a ``swift`` store named ``conformance`` using v1 auth."""
    values = {"auth_version": "1", "auth_address": swift.auth_url, "user": swift_fixture.TEMPAUTH_USER,
              "key": swift_fixture.TEMPAUTH_KEY, **options}
    body = "".join(f"{k} = {v}\n" for k, v in values.items())
    path.write_text(f"[DEFAULT]\nstate_path = {state_path}\n[conformance]\n{body}")
    return str(path)


def backup_conf(path, state_path, **options) -> str:
    """A stratus.conf whose ``[backup_swift]`` (the swift backup target) has ``options``."""
    body = "".join(f"{k} = {v}\n" for k, v in options.items())
    path.write_text(f"[DEFAULT]\nstate_path = {state_path}\n[backup]\nbackup_driver = swift\n[backup_swift]\n{body}")
    return str(path)


@pytest.fixture
def make_store(swift, tmp_path):
    def make(**options):
        from stratus import conf as stratus_conf
        from stratus import loading

        conf = stratus_conf.build([store_conf(tmp_path / "swift.conf", swift, tmp_path, **options)])
        return loading.load_driver("stratus.image_store", "swift", conf, store_name="conformance")

    return make
