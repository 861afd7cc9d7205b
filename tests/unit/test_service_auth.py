"""Calling other services over REST: what a misconfigured service user is told."""

from __future__ import annotations

import pytest

from stratus import conf as stratus_conf
from stratus.exceptions import ConfigError
from stratus.service_auth import ServiceAuth


def test_rest_mode_without_service_credentials_names_the_group():
    conf = stratus_conf.build([])
    with pytest.raises(ConfigError, match=r"\[service_credentials\] auth_type is not set"):
        ServiceAuth(conf)


def test_missing_credentials_are_named(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text("[service_credentials]\nauth_type = password\nusername = stratus\n")
    conf = stratus_conf.build([str(path)])
    with pytest.raises(ConfigError, match=r"\[service_credentials\] lacks auth_url"):
        ServiceAuth(conf)


def test_an_unknown_auth_type_is_named(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text("[service_credentials]\nauth_type = passwrd\n")
    conf = stratus_conf.build([str(path)])
    with pytest.raises(ConfigError, match=r"\[service_credentials\] auth_type"):
        ServiceAuth(conf)


def test_a_complete_password_configuration_loads_without_contacting_anyone(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text("[service_credentials]\nauth_type = password\nauth_url = http://127.0.0.1:9/identity\n"
                    "username = stratus\npassword = pw\nproject_name = service\nuser_domain_name = Default\n"
                    "project_domain_name = Default\n[image_client]\nendpoint_override = http://127.0.0.1:9/image\n")
    auth = ServiceAuth(stratus_conf.build([str(path)]))
    try:
        adapter = auth.adapter("image_client")
        assert adapter.service_type == "image" and adapter.endpoint_override == "http://127.0.0.1:9/image"
    finally:
        auth.close()


def test_config_check_reports_a_rest_client_without_credentials(tmp_path):
    path = tmp_path / "stratus.conf"
    path.write_text("[network_client]\nmode = rest\n")
    conf = stratus_conf.build([str(path)])
    with pytest.raises(ConfigError, match=r"\[service_credentials\] auth_type is not set"):
        stratus_conf.validate(conf)
    stratus_conf.validate(stratus_conf.build([]))  # local everywhere: nothing to check
