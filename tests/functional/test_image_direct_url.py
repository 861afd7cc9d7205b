"""Image data straight from the store: with ``[image] show_image_direct_url`` the image API
shows where an image's data is, and a compute host's REST image client configured for that
scheme (and with the store) reads it from there instead of through the API."""

from __future__ import annotations

import hashlib

import pytest

from tests.functional.conftest import start_cloud
from tests.functional.test_service_clients import client_conf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    server = start_cloud(tmp_path_factory, "[image]\nshow_image_direct_url = true\n")
    yield server
    server.stop()


def test_the_direct_url_is_shown_when_configured(conn, cloud):
    tiny = conn.image.find_image("tiny")
    assert conn.image.get_image(tiny.id).direct_url.startswith("file://")


def test_a_host_with_the_store_reads_the_data_from_it(cloud, conn, tmp_path, monkeypatch):
    from stratus.image import client
    from stratus.image.client.rest import RestImageClient

    conf = client_conf(cloud, "rest")
    conf.set_override("direct_url_schemes", ["file"], group="image_client")
    images = client.from_conf(conf)
    tiny = conn.image.find_image("tiny")
    real = RestImageClient._call

    def no_data_through_the_api(self, method, url, *args, **kwargs):
        assert not url.endswith("/file"), "the data came through the image API"
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(RestImageClient, "_call", no_data_through_the_api)
    images.download(tiny.id, str(tmp_path / "disk"))
    assert hashlib.md5((tmp_path / "disk").read_bytes(), usedforsecurity=False).hexdigest() == tiny.checksum


def test_without_the_scheme_the_data_comes_through_the_api(cloud, conn, tmp_path, monkeypatch):
    from stratus.image import client
    from stratus.image.client.rest import RestImageClient

    images = client.from_conf(client_conf(cloud, "rest"))
    tiny = conn.image.find_image("tiny")
    urls = []
    real = RestImageClient._call

    def record(self, method, url, *args, **kwargs):
        urls.append(url)
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(RestImageClient, "_call", record)
    images.download(tiny.id, str(tmp_path / "disk"))
    assert f"/v2/images/{tiny.id}/file" in urls
    assert hashlib.md5((tmp_path / "disk").read_bytes(), usedforsecurity=False).hexdigest() == tiny.checksum
