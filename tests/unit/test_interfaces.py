"""The interface modules: pure, small, documented as contracts."""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import os
import subprocess
import sys

import pytest

from stratus import loading
from stratus.interfaces import base

MODULES = ["hypervisor", "scheduler", "volume", "network", "image_store", "auth", "object_backend"]
INTERFACE_DIR = os.path.dirname(base.__file__)


@pytest.mark.parametrize("name", [*MODULES, "base"])
def test_imports_only_the_standard_library_exceptions_and_interfaces(name):
    with open(os.path.join(INTERFACE_DIR, f"{name}.py")) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top == "stratus":
                assert module == "stratus.exceptions" or module.startswith("stratus.interfaces"), module
            else:
                assert top in sys.stdlib_module_names or top == "__future__", f"{name} imports {module}"


def test_importing_every_interface_loads_nothing_else_of_the_core():
    code = (
        "import sys\n"
        + "".join(f"import stratus.interfaces.{m}\n" for m in MODULES)
        + "print(' '.join(sorted(m for m in sys.modules if m.startswith('stratus'))))"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True)
    loaded = {m for m in out.stdout.split() if m not in {"stratus", "stratus.exceptions"}}
    assert all(m.startswith("stratus.interfaces") for m in loaded), loaded


@pytest.mark.parametrize("name", MODULES)
def test_each_module_declares_version_capabilities_and_a_driver_class(name):
    module = importlib.import_module(f"stratus.interfaces.{name}")
    version = module.API_VERSION
    assert isinstance(version, tuple) and len(version) == 2
    drivers = [obj for obj in vars(module).values()
               if inspect.isclass(obj) and issubclass(obj, base.Driver) and obj.__module__ == module.__name__]
    assert drivers
    for driver in drivers:
        assert version == driver.API_VERSION
        assert issubclass(driver.CAPABILITIES, enum.Flag)
        assert isinstance(driver.capabilities, driver.CAPABILITIES)
        for capability, sub in driver.CAPABILITY_INTERFACES.items():
            assert isinstance(capability, driver.CAPABILITIES)
            assert inspect.isabstract(sub)


@pytest.mark.parametrize("name", MODULES)
def test_every_abstract_method_documents_its_contract(name):
    module = importlib.import_module(f"stratus.interfaces.{name}")
    for cls in vars(module).values():
        if not (inspect.isclass(cls) and cls.__module__ == module.__name__ and inspect.isabstract(cls)):
            continue
        assert cls.__doc__, f"{cls.__name__} has no docstring"
        for method in cls.__abstractmethods__:
            doc = inspect.getdoc(getattr(cls, method))
            assert doc and len(doc) > 10, f"{cls.__name__}.{method} has no contract"


@pytest.mark.parametrize("name", MODULES)
def test_value_objects_are_frozen_dataclasses(name):
    module = importlib.import_module(f"stratus.interfaces.{name}")
    for obj in vars(module).values():
        if dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__:
            assert obj.__dataclass_params__.frozen, obj.__name__


def test_mandatory_part_of_each_interface_stays_small():
    for interface in loading.NAMESPACES.values():
        assert len(interface.__abstractmethods__) <= 10, interface


def test_require_raises_unsupported_operation_naming_backend_and_capability():
    from types import SimpleNamespace

    from stratus.exceptions import UnsupportedOperation
    from stratus.interfaces.volume import VolumeCapability

    driver = SimpleNamespace(capabilities=VolumeCapability.THIN_PROVISIONING, driver_name="thin")
    base.require(driver, VolumeCapability.THIN_PROVISIONING, "create")
    with pytest.raises(UnsupportedOperation) as info:
        base.require(driver, VolumeCapability.SNAPSHOT, "Creating a snapshot")
    assert "'thin'" in str(info.value) and "SNAPSHOT" in str(info.value)
    assert info.value.http_status == 400


@pytest.mark.parametrize(("core", "driver", "ok"), [
    ((1, 2), (1, 0), True), ((1, 2), (1, 2), True), ((1, 2), (1, 3), False), ((2, 0), (1, 0), False),
])
def test_api_version_compatibility(core, driver, ok):
    assert base.api_version_compatible(core, driver) is ok
