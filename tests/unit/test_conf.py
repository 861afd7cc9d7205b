"""Configuration: groups, fail-fast validation naming option and file, the generated sample."""

from __future__ import annotations

import os

import pytest
from oslo_config import cfg

from stratus import conf as stratus_conf
from stratus.conf import opts, sample
from stratus.conf.types import DriverName
from stratus.exceptions import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(tmp_path, text):
    path = tmp_path / "stratus.conf"
    path.write_text(text)
    return str(path)


def test_defaults_are_valid(tmp_path):
    conf = stratus_conf.build([])
    stratus_conf.validate(conf)
    assert conf.messaging.transport_url == "memory://"
    assert conf.database.connection.startswith("sqlite:///")
    assert conf.database.connection.endswith("/stratus.sqlite")


def test_every_bad_value_is_reported_with_option_and_file(tmp_path):
    path = write(tmp_path, "[api]\nport = 99999\n[database]\nconnection = postgress://db/x\n"
                           "[messaging]\ntransport_url = amqx://broker\n")
    conf = stratus_conf.build([path])
    with pytest.raises(ConfigError) as info:
        stratus_conf.validate(conf)
    message = str(info.value)
    assert f"[api] port (set in {path}): Should be less than or equal to 65535" in message
    assert f"[database] connection (set in {path}): 'postgress://db/x' is not a usable database URL" in message
    assert f"[messaging] transport_url (set in {path}): 'amqx://broker' is not a transport URL" in message


def test_missing_required_option_is_named(tmp_path):
    conf = stratus_conf.build([])
    conf.register_opt(cfg.StrOpt("secret_key", required=True, help="x"), group="api")
    with pytest.raises(ConfigError, match=r"\[api\] secret_key is required but not set"):
        stratus_conf.validate(conf)


def test_unknown_driver_name_lists_installed_ones(tmp_path, dummy_distribution):
    path = write(tmp_path, "[dummy_slot]\nbackend = lvmm\n")
    conf = stratus_conf.build([path])
    conf.register_opt(cfg.Opt("backend", type=DriverName("stratus.volume"), help="x"), group="dummy_slot")
    with pytest.raises(ConfigError) as info:
        stratus_conf.validate(conf)
    assert f"[dummy_slot] backend (set in {path}): no 'stratus.volume' driver named 'lvmm'; installed:" in str(
        info.value)
    assert "memory" in str(info.value)


def test_missing_and_unparsable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        stratus_conf.build([str(tmp_path / "absent.conf")])
    with pytest.raises(ConfigError, match="cannot parse"):
        stratus_conf.build([write(tmp_path, "no section header\n")])


def test_every_core_option_has_help():
    from keystoneauth1 import loading

    # keystoneauth's own options (the service credentials') carry keystoneauth's help
    theirs = {o.dest for o in loading.get_session_conf_options() + loading.get_auth_common_conf_options()
              + loading.get_auth_plugin_conf_options("password")}
    for group, group_opts in opts.list_opts():
        for opt in group_opts:
            if group == "service_credentials" and opt.dest in theirs:
                continue
            assert opt.help and len(opt.help) > 10, f"[{group}] {opt.name}"


def test_each_group_module_registers_what_it_lists():
    conf = cfg.ConfigOpts()
    for module in stratus_conf.MODULES:
        module.register_opts(conf)
        for group, group_opts in module.list_opts():
            if getattr(group, "name", group) in getattr(module, "SAMPLE_ONLY_GROUPS", ()):
                continue
            lazy = getattr(module, "SAMPLE_ONLY_OPTS", {}).get(getattr(group, "name", group), set())
            for opt in group_opts:
                section = conf if group == "DEFAULT" else conf[group]
                assert opt.dest in section or opt.dest in lazy


def test_sample_config_matches_the_code(tmp_path):
    generated = tmp_path / "stratus.conf.sample"
    sample.generate(str(generated), sample.CORE_NAMESPACES)
    with open(os.path.join(ROOT, "etc", "stratus.conf.sample")) as f:
        committed = f.read()
    assert generated.read_text() == committed, (
        "etc/stratus.conf.sample is out of date: run `tox -e genconfig` "
        "(or `stratus config sample --core-only --output-file etc/stratus.conf.sample`)"
    )


def test_installed_driver_packages_contribute_their_groups(dummy_distribution):
    assert "stratus.dummy" in opts.installed_namespaces()
    groups = {group for group, _ in opts.all_opts()}
    assert {"dummy", "dummy_slot", "database"} <= groups
