"""Listing servers: a page of ``GET /servers/detail`` (default 1000 servers) out of a cloud
holding many (default 2000), each with a port, metadata and tags, as its owner sees them.

    python bench/server_list.py [--servers 2000] [--page 1000] [--requests 20] [--hosts 50]

The cloud is the embedded one (SQLite); the servers are made through the API (multi-create,
100 at a time) and the timing starts once all are ACTIVE. Prints the page's p50 and p95 and
the size of the answer; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests
import yaml

from stratus.testing import EmbeddedCloud

SETTINGS = ("[compute]\nsimulated_hosts = {hosts}\nresource_update_interval = 30\nquota_instances = -1\n"
            "quota_cores = -1\nquota_ram = -1\n[network]\nquota_port = -1\n"
            "[embedded]\nprivate_network_cidr = 10.0.0.0/20\n")  # an address for every server


def statuses(session: requests.Session, compute: str) -> list[str]:
    """Every server's status, page after page (a page holds [compute] max_limit at most)."""
    found: list[str] = []
    url = f"{compute}/servers?limit=1000"
    while url:
        page = session.get(url.replace("/servers?", "/servers/detail?"), timeout=300).json()
        found += [s["status"] for s in page["servers"]]
        links = page.get("servers_links") or []
        url = links[0]["href"] if links else ""
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=200, help="simulated hosts (room for every server)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="server-list-"))
    cloud = EmbeddedCloud(data, SETTINGS.format(hosts=args.hosts), timeout=300)
    try:
        password = yaml.safe_load(Path(cloud.clouds_yaml).read_text())["clouds"]["stratus"]["auth"]["password"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        token = requests.post(f"{cloud.base_url}/identity/v3/auth/tokens", json=body,
                              timeout=30).headers["X-Subject-Token"]
        session = requests.Session()
        session.headers.update({"X-Auth-Token": token})
        compute = f"{cloud.base_url}/compute/v2.1"
        image = session.get(f"{cloud.base_url}/image/v2/images?name=tiny", timeout=30).json()["images"][0]["id"]
        network = session.get(f"{cloud.base_url}/network/v2.0/networks?name=private",
                              timeout=30).json()["networks"][0]["id"]
        started = time.perf_counter()
        made = 0
        while made < args.servers:
            count = min(100, args.servers - made)
            answer = session.post(f"{compute}/servers", timeout=300, json={"server": {
                "name": f"listed-{made}", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}],
                "min_count": count, "max_count": count, "metadata": {"role": "web", "tier": str(made % 3)}}})
            answer.raise_for_status()
            made += count
        while True:
            states = statuses(session, compute)
            if all(s in ("ACTIVE", "ERROR") for s in states) and len(states) >= args.servers:
                break
            time.sleep(2)
        print(f"{args.servers} servers made and ACTIVE in {time.perf_counter() - started:.0f} s "
              f"({states.count('ERROR')} ERROR), {args.hosts} simulated hosts")
        timings, size = [], 0
        for _ in range(args.requests + 2):
            begin = time.perf_counter()
            page = session.get(f"{compute}/servers/detail?limit={args.page}", timeout=300)
            timings.append(time.perf_counter() - begin)
            size = len(page.content)
            assert len(page.json()["servers"]) == min(args.page, args.servers)
        timings = sorted(timings[2:])  # the first two warm up
        print(f"GET /servers/detail?limit={args.page} of {args.servers}: p50 {statistics.median(timings) * 1e3:.0f} ms"
              f"  p95 {timings[int(len(timings) * 0.95) - 1] * 1e3:.0f} ms  ({size / 1e6:.1f} MB)")
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
