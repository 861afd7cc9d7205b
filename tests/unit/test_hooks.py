"""Hook specs are documented; the plugin manager loads, blocks and checks plugins."""

from __future__ import annotations

import inspect
import logging

import pytest

from stratus.exceptions import ConfigError
from stratus.hooks import hookimpl, specs
from stratus.hooks.manager import call_safely, create_plugin_manager

HOOKSPECS = [f for name, f in vars(specs).items() if inspect.isfunction(f) and hasattr(f, "stratus_spec")]


def test_there_are_hookspecs_and_all_are_prefixed():
    names = [f.__name__ for f in vars(specs).values() if inspect.isfunction(f) and f.__module__ == specs.__name__]
    assert len(HOOKSPECS) == len(names) >= 5
    assert all(name.startswith("stratus_") for name in names)


@pytest.mark.parametrize("spec", HOOKSPECS, ids=lambda f: f.__name__)
def test_every_hookspec_and_argument_is_documented(spec):
    doc = inspect.getdoc(spec)
    assert doc and len(doc.splitlines()[0]) > 10
    for argument in inspect.signature(spec).parameters:
        assert f":param {argument}:" in doc, f"{spec.__name__} does not document {argument}"


def test_installed_plugins_are_loaded_and_can_be_disabled(conf, dummy_distribution):
    pm = create_plugin_manager(conf)
    assert {"log-notifier", "dummy-plugin"} <= {name for name, _ in pm.list_name_plugin()}
    conf.set_override("disabled", ["log-notifier"], group="plugins")
    pm = create_plugin_manager(conf)
    assert pm.is_blocked("log-notifier")
    assert "dummy-plugin" in {name for name, _ in pm.list_name_plugin()}


def test_enabled_list_selects_plugins(conf, dummy_distribution):
    conf.set_override("enabled", ["dummy-plugin"], group="plugins")
    pm = create_plugin_manager(conf)
    assert pm.is_blocked("log-notifier") and not pm.is_blocked("dummy-plugin")


def test_unknown_plugin_names_fail_and_list_installed(conf):
    conf.set_override("disabled", ["log-notifer"], group="plugins")
    with pytest.raises(ConfigError, match="not installed: log-notifer; installed: log-notifier"):
        create_plugin_manager(conf)


def test_misspelt_hook_fails_at_start(conf, dummy_distribution):
    from stratus_dummy.plugin import Misspelt

    with pytest.raises(ConfigError, match="stratus_notfy"):
        create_plugin_manager(conf, extra_plugins={"misspelt": Misspelt()})


def test_hooks_reach_plugins_with_the_arguments_they_ask_for(conf, dummy_distribution):
    import stratus_dummy.plugin as plugin

    pm = create_plugin_manager(conf)
    pm.hook.stratus_notify(event_type="compute.instance.create.end", payload={"id": "x"}, context=None)
    assert plugin.EVENTS[-1] == ("compute.instance.create.end", {"id": "x"})


def test_the_default_log_notifier_logs_notifications(conf, caplog):
    pm = create_plugin_manager(conf)
    with caplog.at_level(logging.INFO, logger="stratus.notifications"):
        pm.hook.stratus_notify(event_type="image.create", payload={"id": "i1"}, context=None)
    assert 'image.create - {"id": "i1"}' in caplog.text


def test_call_safely_logs_failing_plugins_and_calls_the_rest(conf, caplog):
    calls = []

    class Failing:
        @hookimpl
        def stratus_shutdown(self, service):
            raise RuntimeError("sink down")

    class Working:
        @hookimpl
        def stratus_shutdown(self, service):
            calls.append(service)

    pm = create_plugin_manager(conf, extra_plugins={"failing": Failing(), "working": Working()})
    with caplog.at_level(logging.ERROR):
        call_safely(pm, "stratus_shutdown", service="api")
    assert calls == ["api"]
    assert "plugin 'failing' failed in stratus_shutdown" in caplog.text
