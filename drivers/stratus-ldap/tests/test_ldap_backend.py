"""The ldap backend against a real slapd the tests start."""

from __future__ import annotations

import os

import pytest

from stratus import conformance
from stratus.exceptions import BackendUnavailable, DriverLoadError, NotAuthenticated, NotFound
from stratus.interfaces.auth import ListQuery
from tests import slapd as slapd_fixture

HERE = os.path.dirname(os.path.abspath(__file__))


def test_the_conformance_suite_passes(ldap_conf_file):
    outcome = conformance.run("stratus.auth:ldap", ldap_conf_file)
    # 7 common + 10 read tests; the 3 write tests skip because ldap does not declare WRITE
    assert outcome.ok and (outcome.passed, outcome.skipped) == (17, 3), outcome


@pytest.mark.parametrize("name", ["*", "conformance-*", "*)(uid=*", "conformance-alice)(|(uid=*",
                                  "conformance-alice\\2a", "\x00", "(objectClass=*)"])
def test_filter_injection_matches_nothing(backend, name):
    with pytest.raises(NotFound):
        backend.get_user_by_name(name, "default")
    with pytest.raises(NotFound):
        backend.get_user(name)
    assert backend.list_users(ListQuery(name=name)) == []
    with pytest.raises(NotAuthenticated):
        backend.authenticate(name, "alice-secret-1")


def test_an_empty_password_never_binds(backend):
    alice = backend.get_user_by_name("conformance-alice", "default")
    with pytest.raises(NotAuthenticated):
        backend.authenticate(alice.id, "")


def test_attributes_map_to_users(backend):
    alice = backend.get_user("conformance-alice")
    assert (alice.name, alice.email, alice.domain_id, alice.enabled) == (
        "conformance-alice", "conformance-alice@example.org", "default", True)
    assert backend.get_user("conformance-bob").enabled is False


def test_inverted_and_masked_enabled_attributes(slapd, tmp_path):
    from stratus import conf as stratus_conf
    from stratus import loading

    path = slapd_fixture.stratus_conf(str(tmp_path / "inv.conf"), slapd.url, str(tmp_path))
    with open(path, "a") as f:
        f.write("user_enabled_invert = true\n")
    inverted = loading.load_driver("stratus.auth", "ldap", stratus_conf.build([path]))
    assert inverted.get_user("conformance-bob").enabled is True
    assert inverted.get_user("conformance-alice").enabled is False


def test_an_unreachable_directory_is_backend_unavailable(tmp_path):
    from stratus import conf as stratus_conf
    from stratus import loading

    path = slapd_fixture.stratus_conf(str(tmp_path / "down.conf"), f"ldap://127.0.0.1:{slapd_fixture.free_port()}",
                                      str(tmp_path))
    backend = loading.load_driver("stratus.auth", "ldap", stratus_conf.build([path]))
    with pytest.raises(BackendUnavailable, match="unreachable"):
        backend.get_user("conformance-alice")


def test_a_wrong_search_password_is_reported(slapd, tmp_path):
    from stratus import conf as stratus_conf
    from stratus import loading

    path = slapd_fixture.stratus_conf(str(tmp_path / "bad.conf"), slapd.url, str(tmp_path))
    with open(path) as f:
        text = f.read().replace(slapd_fixture.ADMIN_PASSWORD, "wrong")
    with open(path, "w") as f:
        f.write(text)
    backend = loading.load_driver("stratus.auth", "ldap", stratus_conf.build([path]))
    with pytest.raises(NotAuthenticated):  # the search bind itself was refused
        backend.get_user("conformance-alice")


def test_empty_url_is_a_load_error(tmp_path):
    from stratus import conf as stratus_conf
    from stratus import loading

    path = slapd_fixture.stratus_conf(str(tmp_path / "nourl.conf"), " , ", str(tmp_path))
    with pytest.raises(DriverLoadError, match=r"\[ldap\] url names no directory"):
        loading.load_driver("stratus.auth", "ldap", stratus_conf.build([path]))


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory):
    reason = slapd_fixture.available()
    if reason:
        pytest.skip(reason)
    server = slapd_fixture.Slapd(str(tmp_path_factory.mktemp("tls-slapd")), tls=True)
    server.start()
    server.load(slapd_fixture.conformance_entries())
    yield server
    server.stop()


def tls_backend(tmp_path, url, **options):
    from stratus import conf as stratus_conf
    from stratus import loading

    path = slapd_fixture.stratus_conf(str(tmp_path / "tls.conf"), url, str(tmp_path))
    with open(path, "a") as f:
        f.writelines(f"{key} = {value}\n" for key, value in options.items())
    return loading.load_driver("stratus.auth", "ldap", stratus_conf.build([path]))


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
def test_tls_with_the_directory_ca_verifies_and_authenticates(tls_slapd, tmp_path, how):
    url = tls_slapd.ldaps_url if how == "ldaps" else tls_slapd.url
    options = {"tls_cacertfile": tls_slapd.ca_file}
    if how == "starttls":
        options["use_tls"] = "true"
    backend = tls_backend(tmp_path, url, **options)
    assert backend.authenticate("conformance-alice", "alice-secret-1").name == "conformance-alice"


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
def test_an_unknown_certificate_is_refused_unless_told_not_to_check(tls_slapd, tmp_path, how):
    url = tls_slapd.ldaps_url if how == "ldaps" else tls_slapd.url
    starttls = {"use_tls": "true"} if how == "starttls" else {}
    strict = tls_backend(tmp_path, url, **starttls)  # system CAs only: the test CA is unknown
    with pytest.raises(BackendUnavailable):
        strict.get_user("conformance-alice")
    lax = tls_backend(tmp_path, url, tls_req_cert="never", **starttls)
    assert lax.get_user("conformance-alice").name == "conformance-alice"
