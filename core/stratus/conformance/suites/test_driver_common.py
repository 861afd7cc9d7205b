"""What every driver must satisfy, whatever its slot."""

from __future__ import annotations

import inspect

from oslo_config import cfg

from stratus import loading
from stratus.conf.opts import all_opts
from stratus.interfaces.base import SupportStatus, api_version_compatible


def test_the_loader_accepts_it(driver_under_test, driver_class):
    interface = loading.NAMESPACES[driver_under_test.namespace]
    assert issubclass(driver_class, interface)
    assert not inspect.isabstract(driver_class)


def test_api_version_is_declared_and_compatible(driver_under_test, driver_class):
    interface = loading.NAMESPACES[driver_under_test.namespace]
    assert driver_class.api_version is not None
    assert api_version_compatible(interface.API_VERSION, tuple(driver_class.api_version))


def test_declared_capabilities_match_implemented_interfaces(driver_under_test, driver_class):
    interface = loading.NAMESPACES[driver_under_test.namespace]
    assert isinstance(driver_class.capabilities, interface.CAPABILITIES)
    for capability, sub_interface in interface.CAPABILITY_INTERFACES.items():
        declared = capability in driver_class.capabilities
        implemented = issubclass(driver_class, sub_interface)
        assert declared == implemented, (
            f"{capability.name} declared={declared} but {sub_interface.__name__} implemented={implemented}"
        )


def test_support_status_is_known(driver_class):
    assert driver_class.status in set(SupportStatus)


def test_every_option_has_help_and_is_in_the_sample(driver_class):
    listed = {(getattr(group, "name", group) or "DEFAULT", opt.dest) for group, opts in all_opts() for opt in opts}
    for group, opts in driver_class.list_opts():
        for opt in opts:
            assert isinstance(opt, cfg.Opt)
            assert opt.help, f"[{group}] {opt.name} has no help text"
            assert (group, opt.dest) in listed, (
                f"[{group}] {opt.name} is not listed through an oslo.config.opts entry point, "
                "so `stratus config sample` would not show it"
            )


def _registered(conf: cfg.ConfigOpts) -> set[tuple[str, str]]:
    """Every (group, option) registered on ``conf``."""
    # oslo.config has no public listing of what is registered
    found = {("DEFAULT", name) for name in conf._opts}
    for name, group in conf._groups.items():
        found.update((name, opt) for opt in group._opts)
    return found


def test_options_registered_at_load_are_in_the_sample_too(driver_under_test, driver_class, driver_conf):
    """A driver may register options of its own as it loads (not through ``list_opts``);
    those too must be in the sample, or operators cannot find them. (Its own listed options
    may land in a group named at run time, as image stores' do.)"""
    from stratus.conformance import DRIVER_KWARGS

    listed = {(getattr(group, "name", group) or "DEFAULT", opt.dest) for group, opts in all_opts() for opt in opts}
    declared = {opt.dest for _, opts in driver_class.list_opts() for opt in opts}
    declared |= {opt.dest for opt in getattr(driver_class, "store_opts", list)()}  # an image store's own group
    declared |= {opt.dest for opt in getattr(driver_class, "backend_opts", list)()}  # a volume backend's
    before = _registered(driver_conf)
    loading.load_driver(driver_under_test.namespace, driver_under_test.name, driver_conf,
                        **DRIVER_KWARGS.get(driver_under_test.namespace, {}))
    unlisted = sorted(f"[{group}] {name}" for group, name in _registered(driver_conf) - before
                      if (group, name) not in listed and name not in declared)
    assert not unlisted, (f"{', '.join(unlisted)} registered by the driver but not listed through an "
                          "oslo.config.opts entry point, so `stratus config sample` would not show them")


def test_instantiates_from_configuration(driver_under_test, driver):
    interface = loading.NAMESPACES[driver_under_test.namespace]
    assert isinstance(driver, interface)
    assert driver.driver_name == driver_under_test.name
