"""The server's memory does not grow with image size: a 2 GiB upload and download through
the API (chunked, under gunicorn) while the server's resident memory is sampled."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
import requests

from tests.functional.accounts import connect
from tests.functional.servers import tree_rss

GiB, MiB = 1024**3, 1024**2


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.pid, self.baseline, self.peak = pid, tree_rss(pid), 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stopping.wait(0.05):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    @property
    def growth(self) -> int:
        return max(self.peak - self.baseline, 0)


@pytest.mark.slow
def test_a_2_gib_image_streams_in_bounded_server_memory(cloud):
    conn = connect(cloud.clouds_yaml)
    token = {"X-Auth-Token": conn.session.get_token()}
    base = f"{cloud.base_url}/image/v2/images"
    block = bytes(range(256)) * 4096  # 1 MiB
    expected = hashlib.md5(usedforsecurity=False)
    for _ in range(2 * GiB // MiB):
        expected.update(block)
    image = requests.post(base, json={"name": "two-gib", "disk_format": "raw", "container_format": "bare"},
                          headers=token, timeout=30).json()
    for _ in range(3):  # warm up: the first requests import and allocate what every request needs
        requests.get(f"{base}/{image['id']}", headers=token, timeout=30)
    time.sleep(0.5)
    with PeakRss(cloud.process.pid) as upload:
        response = requests.put(f"{base}/{image['id']}/file", data=(block for _ in range(2 * GiB // MiB)),
                                headers={**token, "Content-Type": "application/octet-stream"}, timeout=600)
    assert response.status_code == 204, response.text
    shown = requests.get(f"{base}/{image['id']}", headers=token, timeout=30).json()
    assert shown["size"] == 2 * GiB and shown["checksum"] == expected.hexdigest()
    received = hashlib.md5(usedforsecurity=False)
    with PeakRss(cloud.process.pid) as download, requests.get(f"{base}/{image['id']}/file", headers=token,
                                                              stream=True, timeout=600) as data:
        for chunk in data.iter_content(MiB):
            received.update(chunk)
    assert received.hexdigest() == expected.hexdigest()
    requests.delete(f"{base}/{image['id']}", headers=token, timeout=30)
    conn.close()
    assert upload.growth < 64 * MiB, f"uploading 2 GiB grew the server by {upload.growth / MiB:.0f} MiB"
    assert download.growth < 64 * MiB, f"downloading 2 GiB grew the server by {download.growth / MiB:.0f} MiB"


@pytest.mark.slow
@pytest.mark.timeout(900)  # 6 GiB move through disks; on 2 shared cores that may take minutes
def test_a_2_gib_volume_is_made_from_and_uploaded_to_an_image_in_bounded_memory(cloud):
    """Create-from-image and upload-to-image go through files in bounded chunks: the embedded
    cloud (API, volume service, image service in one process) does not grow with the data."""
    conn = connect(cloud.clouds_yaml)
    token = {"X-Auth-Token": conn.session.get_token()}
    base = f"{cloud.base_url}/image/v2/images"
    block = bytes(range(256)) * 4096
    image = requests.post(base, json={"name": "two-gib-source", "disk_format": "raw", "container_format": "bare"},
                          headers=token, timeout=30).json()
    response = requests.put(f"{base}/{image['id']}/file", data=(block for _ in range(2 * GiB // MiB)),
                            headers={**token, "Content-Type": "application/octet-stream"}, timeout=600)
    assert response.status_code == 204, response.text
    time.sleep(0.5)
    with PeakRss(cloud.process.pid) as made:
        volume = conn.block_storage.create_volume(size=2, image_id=image["id"])
        volume = conn.block_storage.wait_for_status(volume, status="available", failures=["error"], interval=0.5,
                                                    wait=600)
        uploaded = conn.block_storage.upload_volume_to_image(volume, "two-gib-copy", disk_format="raw")
        copy = conn.image.wait_for_status(conn.image.get_image(uploaded["image_id"]), status="active",
                                          interval=0.5, wait=600)
    assert copy.size == 2 * GiB and copy.checksum == requests.get(f"{base}/{image['id']}", headers=token,
                                                                  timeout=30).json()["checksum"]
    assert made.growth < 64 * MiB, f"the cloud grew by {made.growth // MiB} MiB"
    conn.image.delete_image(copy)
    conn.block_storage.delete_volume(volume)
    requests.delete(f"{base}/{image['id']}", headers=token, timeout=30)
