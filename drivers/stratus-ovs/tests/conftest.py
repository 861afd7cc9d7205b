from __future__ import annotations

import os
import uuid

import pytest

from tests.switch import Switch, missing


@pytest.fixture(scope="session")
def switch(tmp_path_factory):
    reason = missing()
    if reason:
        if "ovs" in os.environ.get("STRATUS_TEST_REQUIRE", "").split(","):
            pytest.fail(f"Open vSwitch is required (STRATUS_TEST_REQUIRE) but unavailable: {reason}")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("ovs")
    started = Switch(directory)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def ovs_cloud(switch, tmp_path_factory):
    """The embedded cloud with ``[network] plugin = ovs``; its agent runs in the cloud's
    process and wires this machine (``host`` below) through the test's own switch."""
    from tests.cloud import EmbeddedCloud

    host = f"ovs-test-{uuid.uuid4().hex[:8]}"
    config = f"[DEFAULT]\nhost = {host}\n[network]\nplugin = ovs\n{switch.config()}"
    data_dir = tmp_path_factory.mktemp("cloud")
    cloud = EmbeddedCloud(data_dir, config)
    cloud.host = host
    cloud.config_file = str(data_dir / "stratus.conf")
    yield cloud
    cloud.stop()
    from stratus_ovs.agent import Agent
    from stratus_ovs.opts import register_opts

    from stratus import conf as config_module

    conf = config_module.build([cloud.config_file], overrides={"DEFAULT": {"state_path": str(data_dir)}})
    register_opts(conf)
    Agent(conf).cleanup()  # whatever a failed test left on the host


@pytest.fixture(scope="module")
def conn(ovs_cloud):
    import openstack

    config = openstack.config.OpenStackConfig(config_files=[ovs_cloud.clouds_yaml])
    connection = openstack.connection.Connection(config=config.get_one("stratus"))
    yield connection
    connection.close()
