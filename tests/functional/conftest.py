"""A running embedded cloud, shared by the functional tests of a module."""

from __future__ import annotations

import os
import re

import pytest

from tests.functional.servers import Server


def start_cloud(tmp_path_factory, config: str | None = None, defaults: bool = True) -> Server:
    """``stratus up`` on a free port with its own data directory (and ``config`` as its stratus.conf);
    ``defaults=False``: without the default network and image (for tests that count)."""
    data_dir = tmp_path_factory.mktemp("data")
    args = []
    if config is not None:
        (data_dir / "stratus.conf").write_text(config)
        args = ["--config-file", str(data_dir / "stratus.conf")]
    server = Server(*args, "up", "--port", "0", "--data-dir", str(data_dir), *([] if defaults else ["--no-defaults"]))
    server.data_dir = data_dir
    server.clouds_yaml = str(data_dir / "clouds.yaml")
    assert server.wait_for(re.compile("token issue"), 30), server.text
    return server


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """``stratus up`` with the default configuration."""
    server = start_cloud(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(cloud):
    """openstacksdk connected to the cloud as its admin."""
    from tests.functional.accounts import connect

    connection = connect(cloud.clouds_yaml)
    yield connection
    connection.close()


@pytest.fixture
def cloud_env(cloud):
    """Environment for the `openstack` CLI pointing at the cloud."""
    return dict(os.environ, OS_CLIENT_CONFIG_FILE=cloud.clouds_yaml, OS_CLOUD="stratus")
