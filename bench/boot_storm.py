"""Boot storm: the embedded cloud with N simulated compute hosts (default 1000), driven
through the HTTP API at a fixed concurrency (default 50): every worker boots a server,
waits for ACTIVE, deletes it and waits until it is gone, again and again.

    python bench/boot_storm.py [--hosts 1000] [--concurrency 50] [--servers 500] [--network]

Prints boot p50/p95 (POST until ACTIVE), delete p50 (DELETE until gone) and boot+delete
cycles per second. Reference (from the issue): Nova's published 1000-fake-node Rally run
(26 physical servers, 8 schedulers) measured boot p50 6.2 s and about 5.4 boot+delete per
second. This runs everything on this machine's 2 cores, in one process, on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from stratus.testing import EmbeddedCloud


def token(base: str, password: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    return requests.post(f"{base}/identity/v3/auth/tokens", json=body, timeout=30).headers["X-Subject-Token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--servers", type=int, default=500, help="boot+delete cycles in all")
    parser.add_argument("--network", action="store_true", help="give every server a port on the default network")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="boot-storm-"))
    config = (f"[compute]\nsimulated_hosts = {args.hosts}\nresource_update_interval = 30\nquota_instances = -1\n"
              "quota_cores = -1\nquota_ram = -1\n[network]\nquota_port = -1\n")
    started = time.perf_counter()
    cloud = EmbeddedCloud(data, config, timeout=600)
    print(f"embedded cloud with {args.hosts} simulated hosts up in {time.perf_counter() - started:.1f} s")
    try:
        import yaml

        password = yaml.safe_load(Path(cloud.clouds_yaml).read_text())["clouds"]["stratus"]["auth"]["password"]
        base = cloud.base_url
        headers = {"X-Auth-Token": token(base, password)}
        compute = f"{base}/compute/v2.1"
        image = requests.get(f"{base}/image/v2/images?name=tiny", headers=headers, timeout=30).json()["images"][0]
        networks = []
        if args.network:
            net = requests.get(f"{base}/network/v2.0/networks?name=private", headers=headers, timeout=30).json()
            networks = [{"uuid": net["networks"][0]["id"]}]
        while len(requests.get(f"{compute}/os-hypervisors", headers=headers, timeout=60).json()["hypervisors"]) \
                < args.hosts:
            time.sleep(0.5)
        boots: list[float] = []
        deletes: list[float] = []
        errors: list[str] = []
        remaining = [args.servers]
        lock = threading.Lock()

        def worker(n: int) -> None:
            session = requests.Session()
            session.headers.update(headers)
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                begin = time.perf_counter()
                answer = session.post(f"{compute}/servers", timeout=120, json={"server": {
                    "name": f"storm-{n}", "imageRef": image["id"], "flavorRef": "42", "networks": networks}})
                if answer.status_code != 202:
                    errors.append(f"create {answer.status_code}: {answer.text[:200]}")
                    continue
                server_id = answer.json()["server"]["id"]
                while True:
                    status = session.get(f"{compute}/servers/{server_id}", timeout=120).json()["server"]["status"]
                    if status in ("ACTIVE", "ERROR"):
                        break
                    time.sleep(0.05)
                boots.append(time.perf_counter() - begin)
                if status == "ERROR":
                    errors.append(f"server {server_id} went to ERROR")
                begin = time.perf_counter()
                session.delete(f"{compute}/servers/{server_id}", timeout=120)
                while session.get(f"{compute}/servers/{server_id}", timeout=120).status_code != 404:
                    time.sleep(0.05)
                deletes.append(time.perf_counter() - begin)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        boots.sort()
        print(f"{len(boots)} boot+delete cycles, {args.concurrency} at a time, {args.hosts} simulated hosts, "
              f"{'with' if args.network else 'without'} ports, {len(errors)} errors")
        if boots:
            print(f"  boot   p50 {statistics.median(boots):.2f} s  p95 {boots[int(len(boots) * 0.95) - 1]:.2f} s")
            print(f"  delete p50 {statistics.median(deletes):.2f} s")
            print(f"  {len(boots) / elapsed:.1f} boot+delete per second")
        print("  reference: Nova 1000-fake-node Rally run: boot p50 6.2 s, ~5.4 boot+delete per second")
        for error in errors[:5]:
            print("  error:", error)
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
