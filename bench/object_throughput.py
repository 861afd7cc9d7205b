"""Object storage throughput through the Swift API, beside a disk copy and (asked) a real Swift.

Starts an embedded cloud (``stratus up``) and measures, through
``/object-store/v1/AUTH_<project>``:

- small objects: ``--count`` PUTs of ``--small-kib`` KiB with ``--concurrency`` clients, then
  GETs of each, in operations per second;
- one large object of ``--size-mib`` streamed up and down, in MB/s, with the server's
  resident-memory growth; and the same file uploaded through the image API (``PUT
  /v2/images/{id}/file``), which shares the streaming path.

In the same run it measures a disk copy of the large file (fsync'ed) on the same file
system, and with ``--swift`` starts a single-node Swift (Debian's swift packages, tempauth,
on 127.0.0.1; as ``tox -e swift`` does) and runs the same object figures against it. The
large-file figures are medians of ``--rounds`` interleaved rounds, each write started after
``sync`` (page-cache writeback otherwise decides who looks fast). Prints figures; asserts
nothing.

    python bench/object_throughput.py
    python bench/object_throughput.py --swift --size-mib 1024 --count 2000
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import openstack.config
import openstack.connection
import requests
from image_throughput import Sampler, disk_copy, rate, start_cloud  # bench/ is the script's directory

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


def stream_put(url: str, headers: dict[str, str], source: Path) -> None:
    """PUT the file with 1 MiB socket writes (requests sends 8 KiB at a time, which would make
    the client, not the server, what is measured)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=3600, blocksize=MiB)
    try:
        with open(source, "rb") as body:
            connection.request("PUT", parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                               headers={**headers, "Content-Length": str(source.stat().st_size)})
        response = connection.getresponse()
        response.read()
        if response.status >= 300:
            raise RuntimeError(f"PUT {url}: {response.status}")
    finally:
        connection.close()


class Target:
    """An account URL and a token, and the process serving it (for its memory)."""

    def __init__(self, name: str, account_url: str, token: str, pid: int) -> None:
        self.name, self.account_url, self.token, self.pid = name, account_url.rstrip("/"), token, pid

    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


def small_objects(target: Target, count: int, size: int, concurrency: int) -> tuple[float, float]:
    container = f"bench-small-{uuid.uuid4().hex[:6]}"
    requests.put(f"{target.account_url}/{container}", headers=target.headers(), timeout=30).raise_for_status()
    body = os.urandom(size)
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(target.headers())
        return local.session

    def put(i: int) -> None:
        session().put(f"{target.account_url}/{container}/o{i:06d}", data=body, timeout=60).raise_for_status()

    def get(i: int) -> None:
        response = session().get(f"{target.account_url}/{container}/o{i:06d}", timeout=60)
        response.raise_for_status()
        assert len(response.content) == size

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        list(pool.map(put, range(count)))
        put_rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        list(pool.map(get, range(count)))
        get_rate = count / (time.perf_counter() - started)
        list(pool.map(lambda i: session().delete(f"{target.account_url}/{container}/o{i:06d}", timeout=60),
                      range(count)))
    requests.delete(f"{target.account_url}/{container}", headers=target.headers(), timeout=30)
    return put_rate, get_rate


def large_object(target: Target, source: Path, rss: bool) -> tuple[float, float, float, float]:
    """Seconds up and down for one large object, and (``rss``) the server's memory growth each way."""
    container = f"bench-large-{uuid.uuid4().hex[:6]}"
    requests.put(f"{target.account_url}/{container}", headers=target.headers(), timeout=30).raise_for_status()
    url = f"{target.account_url}/{container}/large"
    sampler = Sampler(target.pid) if rss else None
    if sampler:
        sampler.start()
    os.sync()  # every write starts with clean page cache, as the disk copy does
    started = time.perf_counter()
    stream_put(url, target.headers(), source)
    upload = time.perf_counter() - started
    up_rss = sampler.stop() if sampler else 0.0
    sampler = Sampler(target.pid) if rss else None
    if sampler:
        sampler.start()
    started = time.perf_counter()
    received = 0
    with requests.get(url, headers=target.headers(), stream=True, timeout=3600) as response:
        for chunk in response.iter_content(MiB):
            received += len(chunk)
    download = time.perf_counter() - started
    down_rss = sampler.stop() if sampler else 0.0
    assert received == source.stat().st_size
    requests.delete(url, headers=target.headers(), timeout=60)
    requests.delete(f"{target.account_url}/{container}", headers=target.headers(), timeout=30)
    return upload, download, up_rss, down_rss


def image_upload(conn: openstack.connection.Connection, source: Path) -> float:
    images = conn.image.get_endpoint().rstrip("/")
    images += "" if images.endswith("/v2") else "/v2"
    token = {"X-Auth-Token": conn.session.get_token()}
    image = requests.post(f"{images}/images", json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
                          headers=token, timeout=30).json()
    os.sync()
    started = time.perf_counter()
    stream_put(f"{images}/images/{image['id']}/file", {**token, "Content-Type": "application/octet-stream"}, source)
    seconds = time.perf_counter() - started
    requests.delete(f"{images}/images/{image['id']}", headers=token, timeout=60)
    return seconds


def start_swift(work: Path) -> tuple[object, Target]:
    spec = importlib.util.spec_from_file_location("swift_fixture", ROOT / "drivers/stratus-swift/tests/swift.py")
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    missing = fixture.available()
    if missing:
        sys.exit(f"--swift: {missing}")
    server = fixture.Swift(str(work / "swift"))
    server.start()
    auth = requests.get(server.auth_url, headers={"X-Auth-User": fixture.TEMPAUTH_USER,
                                                  "X-Auth-Key": fixture.TEMPAUTH_KEY}, timeout=30)
    proxy = subprocess.run(["pgrep", "-f", f"proxy-server.*{work}"], capture_output=True, text=True).stdout.split()
    return server, Target("Swift (single node)", auth.headers["X-Storage-Url"], auth.headers["X-Auth-Token"],
                          int(proxy[0]) if proxy else os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512, help="the large object's size")
    parser.add_argument("--count", type=int, default=1000, help="small objects")
    parser.add_argument("--small-kib", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--swift", action="store_true", help="also start a single-node Swift and measure it")
    parser.add_argument("--rounds", type=int, default=3, help="large-object rounds (medians are printed)")
    args = parser.parse_args()
    args.swift_auth, args.chunk_size = None, None
    with tempfile.TemporaryDirectory(prefix="stratus-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        source = work / "large.bin"
        block = os.urandom(MiB)
        with open(source, "wb") as out:
            for _ in range(args.size_mib):
                out.write(block)
        size = source.stat().st_size
        print(f"large object {args.size_mib} MiB; {args.count} small objects of {args.small_kib} KiB, "
              f"{args.concurrency} clients; {os.cpu_count()} CPUs")
        process, clouds_yaml = start_cloud(work, args)
        small_rows: dict[str, tuple[float, float]] = {}
        large_rows: dict[str, list[tuple[float, float, float, float]]] = {}
        disk, images = [], []
        swift_server = None
        try:
            conn = openstack.connection.Connection(
                config=openstack.config.OpenStackConfig(config_files=[clouds_yaml]).get_one("stratus"))
            targets = [Target("Stratus", conn.object_store.get_endpoint(), conn.session.get_token(), process.pid)]
            if args.swift:
                swift_server, swift_target = start_swift(work)
                targets.append(swift_target)
            for target in targets:
                small_rows[target.name] = small_objects(target, args.count, args.small_kib * 1024, args.concurrency)
            for round_ in range(args.rounds):  # interleaved, so page-cache writeback hits each alike
                disk.append(disk_copy(source, work))
                for target in targets:
                    large_rows.setdefault(target.name, []).append(large_object(target, source, rss=round_ == 0))
                images.append(image_upload(conn, source))
            conn.close()
        finally:
            process.terminate()
            process.wait(30)
            if swift_server is not None:
                swift_server.stop()
        median = statistics.median
        print(f"medians of {args.rounds} rounds; RSS growth from the first")
        print(f"{'':28} {'PUT ops/s':>10} {'GET ops/s':>10} {'large up':>13} {'large down':>13}  RSS growth up/down")
        for name, (put_rate, get_rate) in small_rows.items():
            runs = large_rows[name]
            print(f"{name:28} {put_rate:10.0f} {get_rate:10.0f} {rate(size, median(r[0] for r in runs))} "
                  f"{rate(size, median(r[1] for r in runs))}  {runs[0][2]:5.1f} / {runs[0][3]:5.1f} MiB")
        print(f"{'disk copy (fsync)':28} {'':10} {'':10} {rate(size, median(disk))}")
        print(f"{'Stratus image upload':28} {'':10} {'':10} {rate(size, median(images))}")
        stratus_up = median(r[0] for r in large_rows["Stratus"])
        print(f"object PUT reaches {median(disk) / stratus_up:.0%} of the disk copy; image upload "
              f"{median(disk) / median(images):.0%}")


if __name__ == "__main__":
    main()
