"""The driver conformance kit: a pytest plugin that runs the generic suites against a driver.

A driver package runs it from its tox env::

    pytest -p stratus.conformance --stratus-driver stratus.volume:lvm --stratus-config tests/lvm.conf

The plugin adds the suites for the driver's namespace to what pytest collects (alone,
when no test paths are given; besides them otherwise). Suite tests get the driver from
the ``driver`` fixture (a fresh instance per test, loaded through the real loader with
the given configuration) and declare the capability they need with
``@pytest.mark.requires_capability("SNAPSHOT")``; the plugin skips those the driver does
not declare, and nothing else. See ``docs/conformance.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from stratus import loading

SUITES_DIR = os.path.join(os.path.dirname(__file__), "suites")

#: suite modules per namespace; every namespace also runs the common suite
SUITES: dict[str, tuple[str, ...]] = {namespace: () for namespace in loading.NAMESPACES}
SUITES["stratus.auth"] = ("test_auth_backend.py",)
SUITES["stratus.image_store"] = ("test_image_store.py",)
SUITES["stratus.network"] = ("test_network_plugin.py",)
SUITES["stratus.hypervisor"] = ("test_hypervisor.py",)
SUITES["stratus.scheduler.filters"] = ("test_scheduler.py",)
SUITES["stratus.scheduler.weighers"] = ("test_scheduler.py",)

#: constructor arguments a namespace's drivers need besides ``conf``
DRIVER_KWARGS: dict[str, dict[str, Any]] = {
    # an image store reads its options from the group named after it: [conformance]
    "stratus.image_store": {"store_name": "conformance"},
}
COMMON_SUITE = "test_driver_common.py"


@dataclass(frozen=True)
class DriverUnderTest:
    namespace: str
    name: str
    config_file: str | None

    def load_conf(self) -> Any:
        from stratus import conf as stratus_conf

        return stratus_conf.build([self.config_file] if self.config_file else [])


_KEY = pytest.StashKey[DriverUnderTest]()


def suite_paths(namespace: str) -> list[str]:
    return [os.path.join(SUITES_DIR, name) for name in (COMMON_SUITE, *SUITES[namespace])]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stratus", "Stratus driver conformance")
    group.addoption("--stratus-driver", metavar="NAMESPACE:NAME",
                    help="the driver to test, e.g. stratus.volume:lvm")
    group.addoption("--stratus-config", metavar="PATH",
                    help="stratus.conf with the options the driver needs")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires_capability(name): skip unless the driver declares the capability")
    spec = config.getoption("stratus_driver")
    if not spec:
        return
    namespace, _, name = spec.rpartition(":")
    if namespace not in loading.NAMESPACES or not name:
        raise pytest.UsageError(
            f"--stratus-driver {spec!r}: expected NAMESPACE:NAME with NAMESPACE one of "
            f"{', '.join(loading.NAMESPACES)}"
        )
    config_file = config.getoption("stratus_config")
    if config_file and not os.path.isfile(config_file):
        raise pytest.UsageError(f"--stratus-config {config_file!r}: no such file")
    config.stash[_KEY] = DriverUnderTest(namespace, name, os.path.abspath(config_file) if config_file else None)
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        config.args.extend(suite_paths(namespace))
    else:
        config.args[:] = suite_paths(namespace)


def pytest_report_header(config: pytest.Config) -> str | None:
    under_test = config.stash.get(_KEY, None)
    if under_test is None:
        return None
    return f"stratus conformance: {under_test.namespace}:{under_test.name} (config {under_test.config_file})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    under_test = item.config.stash.get(_KEY, None)
    marks = list(item.iter_markers("requires_capability"))
    if not marks or under_test is None:
        return
    cls = loading.load_driver_class(under_test.namespace, under_test.name)
    for mark in marks:
        for capability in mark.args:
            if cls.CAPABILITIES[capability] not in cls.capabilities:
                pytest.skip(f"driver {under_test.name!r} does not declare {capability}")


@pytest.fixture(scope="session")
def driver_under_test(request: pytest.FixtureRequest) -> DriverUnderTest:
    """Which driver the run tests (from ``--stratus-driver``/``--stratus-config``)."""
    try:
        return request.config.stash[_KEY]
    except KeyError:
        pytest.skip("no --stratus-driver given")


@pytest.fixture
def driver_conf(driver_under_test: DriverUnderTest) -> Any:
    """A fresh ``ConfigOpts`` read from ``--stratus-config``."""
    return driver_under_test.load_conf()


@pytest.fixture
def driver_class(driver_under_test: DriverUnderTest) -> type:
    return loading.load_driver_class(driver_under_test.namespace, driver_under_test.name)


@pytest.fixture
def driver(driver_under_test: DriverUnderTest, driver_conf: Any) -> Any:
    """A fresh driver instance, loaded as a service would load it."""
    kwargs = DRIVER_KWARGS.get(driver_under_test.namespace, {})
    return loading.load_driver(driver_under_test.namespace, driver_under_test.name, driver_conf, **kwargs)
