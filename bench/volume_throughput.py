"""Block storage through the API: volume create+delete cycles per second, and how fast image
data becomes a volume and a volume becomes an image, beside the floor (the same bytes copied
file to file with fsync, in the same run, on the same disk).

    python bench/volume_throughput.py                       # 200 cycles, 8 at a time, a 256 MiB image
    python bench/volume_throughput.py --cycles 500 --concurrency 16 --image-mib 1024

Runs an embedded cloud (``stratus up``, the file backend) in a scratch directory. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import openstack.config
import openstack.connection

from stratus.testing import EmbeddedCloud

CHUNK = 1024 * 1024


def connect(clouds_yaml: str) -> openstack.connection.Connection:
    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    return openstack.connection.Connection(config=config.get_one("stratus"))


def wait(conn: openstack.connection.Connection, volume_id: str, status: str, timeout: float = 600) -> float:
    """Seconds until the volume reaches ``status`` (polled every 20 ms)."""
    begin = time.perf_counter()
    while True:
        volume = conn.block_storage.get_volume(volume_id)
        if volume.status == status:
            return time.perf_counter() - begin
        if volume.status == "error" or time.perf_counter() - begin > timeout:
            raise RuntimeError(f"volume {volume_id} is {volume.status}")
        time.sleep(0.02)


def gone(conn: openstack.connection.Connection, volume_id: str) -> None:
    while conn.block_storage.find_volume(volume_id, ignore_missing=True) is not None:
        time.sleep(0.02)


def cycles(clouds_yaml: str, count: int, concurrency: int) -> list[str]:
    remaining, lock, made, latencies, errors = [count], threading.Lock(), [0], [], []

    def worker() -> None:
        conn = connect(clouds_yaml)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            begin = time.perf_counter()
            try:
                volume = conn.block_storage.create_volume(size=1)
                wait(conn, volume.id, "available")
                latencies.append(time.perf_counter() - begin)
                conn.block_storage.delete_volume(volume)
                gone(conn, volume.id)
                made[0] += 1
            except Exception as exc:  # counted and shown, the bench goes on
                errors.append(str(exc)[:200])

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    latencies.sort()
    lines = [f"{made[0]} create+delete cycles of 1 GiB volumes, {concurrency} at a time: "
             f"{made[0] / elapsed:.1f}/s, create p50 {statistics.median(latencies) * 1000:.0f} ms, "
             f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, {len(errors)} errors"]
    return lines + [f"  error: {e}" for e in errors[:3]]


def copy_floor(source: Path, target: Path) -> float:
    """MiB/s of a plain copy with fsync: what moving the same bytes costs at least."""
    begin = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    seconds = time.perf_counter() - begin
    size = source.stat().st_size
    target.unlink()
    return size / CHUNK / seconds


def data_paths(conn: openstack.connection.Connection, scratch: Path, mib: int) -> list[str]:
    data = scratch / "image.raw"
    with open(data, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(CHUNK))
    floor = copy_floor(data, scratch / "copy.raw")
    with open(data, "rb") as f:
        image = conn.image.create_image(name="bench-image", disk_format="raw", container_format="bare", data=f)
    size_gb = -(-mib // 1024)
    begin = time.perf_counter()
    volume = conn.block_storage.create_volume(size=size_gb, image_id=image.id)
    wait(conn, volume.id, "available")
    to_volume = mib / (time.perf_counter() - begin)
    begin = time.perf_counter()
    uploaded = conn.block_storage.upload_volume_to_image(volume, "bench-upload", disk_format="raw")
    image_id = uploaded["image_id"]
    while conn.image.get_image(image_id).status != "active":
        time.sleep(0.05)
    to_image = size_gb * 1024 / (time.perf_counter() - begin)
    conn.image.delete_image(image_id)
    conn.image.delete_image(image)
    conn.block_storage.delete_volume(volume)
    return [f"image -> volume ({mib} MiB of data): {to_volume:.0f} MiB/s of image data",
            f"volume -> image ({size_gb} GiB volume, sparse reads of holes): {to_image:.0f} MiB/s of volume",
            f"floor: the same {mib} MiB copied file to file with fsync: {floor:.0f} MiB/s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--image-mib", type=int, default=256)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-volume-"))
    (scratch / "cloud").mkdir()
    cloud = EmbeddedCloud(scratch / "cloud", "[volume]\nquota_volumes = -1\nquota_gigabytes = -1\n")
    try:
        conn = connect(cloud.clouds_yaml)
        for line in [*cycles(cloud.clouds_yaml, args.cycles, args.concurrency), *data_paths(conn, scratch,
                                                                                             args.image_mib)]:
            print(line, flush=True)
    finally:
        cloud.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
