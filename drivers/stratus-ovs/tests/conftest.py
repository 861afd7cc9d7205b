from __future__ import annotations

import contextlib
import os
import uuid

import pytest
from stratus_ovs.testing import Switch, missing

from stratus.testing import unavailable


def require(reason: str | None, service: str = "ovs") -> None:
    unavailable(service, reason)


#: the userspace datapath makes its bridges' tap devices (br-int) in this host's root network
#: namespace, so two test runs on one machine would take each other's: the second one waits
HOST_LOCK = "/run/lock/stratus-ovs-tests.lock"


@pytest.fixture(scope="session")
def switch(tmp_path_factory):
    import fcntl

    require(missing())
    os.makedirs(os.path.dirname(HOST_LOCK), exist_ok=True)
    with open(HOST_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = tmp_path_factory.mktemp("ovs")
        started = Switch(directory)
        yield started
        started.stop()


@contextlib.contextmanager
def ovs_cloud_running(switch, tmp_path_factory, extra: str = "", **ovs_options: str):
    """The embedded cloud with ``[network] plugin = ovs``; its agent runs in the cloud's
    process and wires this machine (``cloud.host``) through ``switch``. Whatever the agent
    leaves on the host is removed afterwards."""
    from stratus_ovs.agent import Agent
    from stratus_ovs.opts import register_opts

    from stratus import conf as config_module
    from stratus.testing import EmbeddedCloud

    host = f"ovs-test-{uuid.uuid4().hex[:8]}"
    config = f"[DEFAULT]\nhost = {host}\n[network]\nplugin = ovs\n{extra}{switch.config(**ovs_options)}"
    data_dir = tmp_path_factory.mktemp("cloud")
    cloud = EmbeddedCloud(data_dir, config)
    cloud.host = host
    cloud.config_file = str(data_dir / "stratus.conf")
    try:
        yield cloud
    finally:
        cloud.stop()
        conf = config_module.build([cloud.config_file], overrides={"DEFAULT": {"state_path": str(data_dir)}})
        register_opts(conf)
        Agent(conf).cleanup()


def connect(cloud):
    from stratus.testing import connect as sdk

    return sdk(cloud.clouds_yaml)


@pytest.fixture(scope="module")
def ovs_cloud(switch, tmp_path_factory):
    with ovs_cloud_running(switch, tmp_path_factory) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def conn(ovs_cloud):
    connection = connect(ovs_cloud)
    yield connection
    connection.close()
