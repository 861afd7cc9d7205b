"""Image upload and download through the image API, per store, beside raw copy rates.

Starts an embedded cloud (``stratus up``) whose stores are a ``file`` store and, given
Swift credentials, a ``swift`` store; uploads an image of ``--size-mib`` to each through
``PUT /v2/images/{id}/file`` and downloads it again, and prints MB/s and the server's
resident-memory growth. In the same run it measures what the machine does without
Stratus: a disk copy of the same file (fsync'ed) and an HTTP PUT/GET of it over loopback
to a plain Python HTTP server. Prints figures; asserts nothing.

    python bench/image_throughput.py
    python bench/image_throughput.py --size-mib 2048
    python bench/image_throughput.py --swift-auth http://127.0.0.1:8080/auth/v1.0 --swift-user test:tester \\
        --swift-key testing          # e.g. a Swift from ../shared/recipes/swift
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import openstack.config
import openstack.connection
import requests

MiB = 1024 * 1024


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending += parents.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.baseline, self.peak, self.done = pid, tree_rss(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> float:
        self.done.set()
        self.join()
        return max(self.peak - self.baseline, 0) / MiB


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        remaining = int(self.headers["Content-Length"])
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, MiB)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def rate(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:8.1f} MB/s"


def disk_copy(source: Path, work: Path) -> float:
    """Seconds to copy ``source`` within ``work`` and fsync the copy, from a clean page cache
    (``sync`` first: the writeback of files just written would otherwise be counted)."""
    os.sync()
    started = time.perf_counter()
    with open(source, "rb") as src, open(work / "copy", "wb") as dst:
        shutil.copyfileobj(src, dst, MiB)
        dst.flush()
        os.fsync(dst.fileno())
    seconds = time.perf_counter() - started
    (work / "copy").unlink()
    return seconds


def raw_rates(source: Path, work: Path) -> list[tuple[str, float, float]]:
    disk = disk_copy(source, work)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.perf_counter()
    with open(source, "rb") as body:
        requests.put(f"http://127.0.0.1:{server.server_port}/x", data=body, timeout=600)
    put = time.perf_counter() - started
    server.shutdown()
    server.server_close()

    class Files(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Files(*a, directory=str(source.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.perf_counter()
    with requests.get(f"http://127.0.0.1:{server.server_port}/{source.name}", stream=True, timeout=600) as r:
        for _ in r.iter_content(MiB):
            pass
    get = time.perf_counter() - started
    server.shutdown()
    server.server_close()
    return [("disk copy (fsync)", disk, disk), ("loopback HTTP, plain Python server", put, get)]


def start_cloud(work: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    stores = ["local:file"]
    config = ""
    if args.swift_auth:
        stores.append("swift:swift")
        config = (f"[swift]\nauth_version = 1\nauth_address = {args.swift_auth}\nuser = {args.swift_user}\n"
                  f"key = {args.swift_key}\ncontainer = bench\n")
    chunk = f"chunk_size = {args.chunk_size}\n" if args.chunk_size else ""
    (work / "stratus.conf").write_text(f"[image]\nenabled_stores = {', '.join(stores)}\n{chunk}{config}")
    process = subprocess.Popen([sys.executable, "-m", "stratus.cmd.cli", "--config-file", str(work / "stratus.conf"),
                                "up", "--port", "0", "--data-dir", str(work / "cloud")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 90
    while "token issue" not in "".join(lines):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            sys.exit("stratus up did not start:\n" + "".join(lines))
        time.sleep(0.1)
    return process, str(work / "cloud" / "clouds.yaml")


def through_api(process: subprocess.Popen, clouds_yaml: str, source: Path, stores: list[str]) -> list[tuple]:
    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    conn = openstack.connection.Connection(config=config.get_one("stratus"))
    images = conn.image.get_endpoint().rstrip("/")
    if not images.endswith("/v2"):
        images += "/v2"
    token = {"X-Auth-Token": conn.session.get_token()}
    size, results = source.stat().st_size, []
    for store in stores:
        image = requests.post(f"{images}/images", json={"name": f"bench-{store}", "disk_format": "raw",
                                                        "container_format": "bare"}, headers=token, timeout=30).json()
        sampler = Sampler(process.pid)
        sampler.start()
        started = time.perf_counter()
        with open(source, "rb") as body:
            response = requests.put(f"{images}/images/{image['id']}/file", data=body, timeout=3600,
                                    headers={**token, "Content-Type": "application/octet-stream",
                                             "X-Image-Meta-Store": store})
        upload = time.perf_counter() - started
        up_rss = sampler.stop()
        response.raise_for_status()
        sampler = Sampler(process.pid)
        sampler.start()
        started = time.perf_counter()
        received = 0
        with requests.get(f"{images}/images/{image['id']}/file", headers=token, stream=True, timeout=3600) as r:
            for chunk in r.iter_content(MiB):
                received += len(chunk)
        download = time.perf_counter() - started
        down_rss = sampler.stop()
        assert received == size, (received, size)
        requests.delete(f"{images}/images/{image['id']}", headers=token, timeout=60)
        results.append((f"Stratus image API, {store} store", upload, download, up_rss, down_rss))
    conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--swift-auth", help="v1 auth URL of a Swift to bench a swift store against")
    parser.add_argument("--swift-user", default="test:tester")
    parser.add_argument("--swift-key", default="testing")
    parser.add_argument("--chunk-size", type=int, help="[image] chunk_size for the cloud (bytes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        work = Path(tmp)
        source = work / "image.raw"
        block = os.urandom(MiB)
        with open(source, "wb") as out:
            for _ in range(args.size_mib):
                out.write(block)
        size = source.stat().st_size
        print(f"image of {args.size_mib} MiB; {os.cpu_count()} CPUs")
        baseline = raw_rates(source, work)
        process, clouds_yaml = start_cloud(work, args)
        try:
            api = through_api(process, clouds_yaml, source, ["local", *(["swift"] if args.swift_auth else [])])
        finally:
            process.terminate()
            process.wait(30)
        print(f"{'path':44} {'upload':>13} {'download':>13}  server RSS growth up/down")
        for name, up, down in baseline:
            print(f"{name:44} {rate(size, up)} {rate(size, down)}")
        for name, up, down, up_rss, down_rss in api:
            print(f"{name:44} {rate(size, up)} {rate(size, down)}  {up_rss:5.1f} / {down_rss:5.1f} MiB")


if __name__ == "__main__":
    main()
