"""The driver conformance kit: a pytest plugin that runs the generic suites against a driver.

A driver package runs it from its tox env::

    pytest -p stratus.conformance --stratus-driver stratus.volume:lvm --stratus-config tests/lvm.conf

or from a test of its own, in-process (:func:`run`)::

    def test_conformance(lvm_conf):
        outcome = conformance.run("stratus.volume:lvm", lvm_conf)
        assert outcome.ok, outcome.failures

The plugin adds the suites for the driver's namespace to what pytest collects (alone,
when no test paths are given; besides them otherwise). Suite tests get the driver from
the ``driver`` fixture (a fresh instance per test, loaded through the real loader with
the given configuration) and declare the capability they need with
``@pytest.mark.requires_capability("SNAPSHOT")``; the plugin skips those the driver does
not declare, and nothing else. See ``docs/conformance.md``.
"""

from __future__ import annotations

import dataclasses
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
SUITES["stratus.volume"] = ("test_volume_backend.py",)
SUITES["stratus.backup_target"] = ("test_backup_target.py",)
SUITES["stratus.object_backend"] = ("test_object_backend.py",)

#: constructor arguments a namespace's drivers need besides ``conf``
DRIVER_KWARGS: dict[str, dict[str, Any]] = {
    # an image store reads its options from the group named after it: [conformance]
    "stratus.image_store": {"store_name": "conformance"},
    # and a volume backend from the group named after its backend
    "stratus.volume": {"backend_name": "conformance"},
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


@dataclass
class Outcome:
    """What a run of the kit found: counts, and each failing test's id and message."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.failed


class _Collector:
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            self.outcome.passed += 1
        elif report.skipped and report.when in ("setup", "call"):
            self.outcome.skipped += 1
        elif report.failed:
            self.outcome.failed += 1
            self.outcome.failures.append(f"{report.nodeid} ({report.when}): {report.longreprtext[-2000:]}")


def run(driver: str, config_file: str | None = None, *args: str) -> Outcome:
    """Run the kit for ``driver`` (``NAMESPACE:NAME``) with ``config_file`` in this process
    (a driver package's own test calls this: no subprocess, no output to parse);
    ``args``: more pytest arguments (a vendor's own suite files, ``-k`` ...).

    ``assert run("stratus.volume:lvm", "tests/lvm.conf").ok``
    """
    import tempfile

    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="stratus-conformance-") as directory:
        # the caller's own pytest configuration and conftest files stay out of the kit's run
        ini = os.path.join(directory, "pytest.ini")
        with open(ini, "w") as f:
            f.write("[pytest]\n")
        argv = ["-c", ini, "--rootdir", directory, "--confcutdir", SUITES_DIR, "-p", "stratus.conformance",
                "-p", "no:cacheprovider", "-q", "--stratus-driver", driver,
                *(["--stratus-config", os.path.abspath(config_file)] if config_file else []), *args,
                # the suites named here, so no test directory of the caller's is looked into
                *(suite_paths(namespace) if (namespace := driver.rpartition(":")[0]) in SUITES else [])]
        outcome.exit_code = int(pytest.main(argv, plugins=[_Collector(outcome)]))
    return outcome
