"""slapd started and stopped by the tests, loaded with the conformance dataset."""

from __future__ import annotations

import os
import socket

import pytest

from tests import slapd as slapd_fixture


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    reason = slapd_fixture.available()
    if reason:
        if "slapd" in os.environ.get("STRATUS_TEST_REQUIRE", "").split(","):
            pytest.fail(f"slapd is required (STRATUS_TEST_REQUIRE) but unavailable: {reason}")
        pytest.skip(reason)
    server = slapd_fixture.Slapd(str(tmp_path_factory.mktemp("slapd")))
    server.start()
    server.load(slapd_fixture.conformance_entries())
    yield server
    server.stop()


@pytest.fixture
def ldap_conf_file(slapd, tmp_path):
    return slapd_fixture.stratus_conf(str(tmp_path / "ldap.conf"), slapd.url, str(tmp_path))


@pytest.fixture
def backend(ldap_conf_file):
    from stratus import conf as stratus_conf
    from stratus import loading

    conf = stratus_conf.build([ldap_conf_file])
    return loading.load_driver("stratus.auth", "ldap", conf)


@pytest.fixture(scope="session")
def broker_url():
    """The machine's RabbitMQ: `stratus api` refuses to serve without a broker (its compute
    API casts to services of other processes)."""
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError as exc:
        if "rabbitmq" in os.environ.get("STRATUS_TEST_REQUIRE", "").split(","):
            pytest.fail(f"rabbitmq is required (STRATUS_TEST_REQUIRE) but unavailable: {exc}")
        pytest.skip(f"rabbitmq unavailable: {exc}")
    return "amqp://guest:guest@127.0.0.1:5672//"
