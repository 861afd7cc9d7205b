"""The loader, through real entry points of an installed (test) distribution."""

from __future__ import annotations

import logging

import pytest

from stratus import loading
from stratus.exceptions import DriverInterfaceError, DriverLoadError, DriverNotFound
from stratus.interfaces.volume import VolumeBackend, VolumeCapability, VolumeSpec


def test_loads_instantiates_and_configures_a_driver(dummy_distribution, conf):
    driver = loading.load_driver("stratus.volume", "memory", conf)
    assert isinstance(driver, VolumeBackend)
    assert driver.driver_name == "memory"
    assert driver.pool == "dummy-pool"  # its own option group was registered
    driver.create_volume(VolumeSpec("v1", 1))
    assert "v1" in driver.volumes


def test_unknown_name_lists_the_installed_names(dummy_distribution, conf):
    with pytest.raises(DriverNotFound) as info:
        loading.load_driver("stratus.volume", "memroy", conf)
    message = str(info.value)
    assert message.startswith("no 'stratus.volume' driver named 'memroy'; installed: ")
    assert "broken, claimsclone, experimental" in message and "memory" in message


def test_unknown_name_in_an_empty_namespace_says_none(conf):
    with loading.installed_drivers("stratus.object_backend", {}), \
            pytest.raises(DriverNotFound, match="installed: none"):
        loading.load_driver("stratus.object_backend", "rados", conf)


def test_import_failure_names_the_distribution_and_the_cause(dummy_distribution, conf):
    with pytest.raises(DriverLoadError) as info:
        loading.load_driver("stratus.volume", "broken", conf)
    assert info.value.distribution == "stratus-dummy"
    assert "stratus_dummy_missing_dependency" in str(info.value)
    assert "ModuleNotFoundError" in str(info.value)


def test_missing_system_dependency_says_what_to_install(dummy_distribution, conf):
    with pytest.raises(DriverLoadError, match="install dummy-storaged and start it"):
        loading.load_driver("stratus.volume", "needsdaemon", conf)


@pytest.mark.parametrize(("name", "expected"), [
    ("notadriver", "not a subclass of stratus.interfaces.volume.VolumeBackend"),
    ("incomplete", "does not implement: copy_image_to_volume, copy_volume_to_image, create_volume"),
    ("future", "written for interface version (1, 99), this Stratus provides (1, 0)"),
    ("noversion", "declares no api_version; set api_version = (1, 0)"),
    ("claimsclone", "declares CLONE but does not implement Clone"),
])
def test_refuses_what_does_not_implement_the_interface(dummy_distribution, conf, name, expected):
    with pytest.raises(DriverInterfaceError) as info:
        loading.load_driver("stratus.volume", name, conf)
    assert expected in str(info.value)
    assert "stratus-dummy" in str(info.value)


def test_experimental_drivers_load_with_a_warning(dummy_distribution, conf, caplog):
    with caplog.at_level(logging.WARNING, logger="stratus.loading"):
        loading.load_driver("stratus.volume", "experimental", conf)
    assert "'experimental' is experimental" in caplog.text


def test_listing_describes_each_driver_and_keeps_broken_ones(dummy_distribution):
    infos = {i.name: i for i in loading.list_installed("stratus.volume")}
    memory = infos["memory"]
    assert (memory.distribution, memory.version, memory.status) == ("stratus-dummy", "1.0", "supported")
    assert memory.capabilities == ("SNAPSHOT", "THIN_PROVISIONING")
    assert memory.target == "stratus_dummy.volume:MemoryBackend"
    assert "ModuleNotFoundError" in infos["broken"].error
    assert infos["incomplete"].error


def test_load_drivers_keeps_the_configured_order(dummy_distribution, conf):
    drivers = loading.load_drivers("stratus.volume", ["experimental", "memory"], conf)
    assert [d.driver_name for d in drivers] == ["experimental", "memory"]


def test_installed_drivers_fixture_replaces_a_namespace(conf):
    class Tiny(VolumeBackend):
        api_version = (1, 0)
        capabilities = VolumeCapability.NONE
        setup = get_stats = create_volume = delete_volume = lambda self, *a: None
        initialize_connection = terminate_connection = lambda self, *a: None
        copy_image_to_volume = copy_volume_to_image = lambda self, *a: None

    from stratus.testing import installed_drivers

    with installed_drivers("stratus.volume", {"tiny": Tiny}):
        assert loading.installed_names("stratus.volume") == ["tiny"]
        assert isinstance(loading.load_driver("stratus.volume", "tiny", conf), Tiny)
        with pytest.raises(DriverNotFound, match="installed: tiny"):
            loading.load_driver("stratus.volume", "other", conf)
    assert "tiny" not in loading.installed_names("stratus.volume")


def test_unknown_namespace_is_refused(conf):
    with pytest.raises(DriverNotFound, match=r"stratus\.nothing"):
        loading.load_driver("stratus.nothing", "x", conf)
