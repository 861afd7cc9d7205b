"""Boot storm: a cloud with N simulated compute hosts (default 1000), driven through the
HTTP API at a fixed concurrency (default 50): every worker boots a server, waits for
ACTIVE, deletes it and waits until it is gone, again and again.

    python bench/boot_storm.py [--hosts 1000] [--concurrency 50] [--servers 500] [--network]
                               [--poll 0.05] [--watch list|each]
                               [--processes [--compute-processes 1] [--api-workers 2]
                                                          [--shape together|split|both]]

The cloud is the embedded one (one process, SQLite, in-process messaging) or, with
``--processes``, the many-hosts shape on this machine: ``stratus api``, ``stratus
scheduler``, ``stratus conductor`` and ``stratus compute`` processes on a throwaway
PostgreSQL database and a RabbitMQ virtual host of their own (``--database-admin-url``, ``--rabbit-url``),
run twice by default: ``together`` (one API process serving every API, the services inside
it calling one another in-process) and ``split`` (docs/split-services.md's shape: identity,
image, network and compute each served by an API process of its own, every service reaching
the others over their REST APIs with service credentials and cached token checks), the two
printed side by side.

The load generator learns of state changes as a client watching many servers does: one
``GET /servers/detail?changes-since=...`` every ``--poll`` seconds for all its servers (``--watch
list``, the default); ``--watch each`` reads every server on its own every ``--poll`` seconds
instead, which makes the API's work grow with the concurrency and the boot time itself.

Prints boot p50/p95 (POST until seen ACTIVE), delete p50 (DELETE until gone), boot+delete
cycles per second with the status reads they took, and the whole machine's CPU time per
cycle. Reference (from the issue): Nova's published 1000-fake-node Rally run (26 physical
servers, 8 schedulers) measured boot p50 6.2 s and about 5.4 boot+delete per second.
Everything here, the load generator included, shares this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import yaml

from stratus.testing import SPLIT_SERVICES, EmbeddedCloud, ProcessCloud, rabbitmq_vhost, throwaway_postgresql

SETTINGS = ("[compute]\nresource_update_interval = 30\nquota_instances = -1\nquota_cores = -1\nquota_ram = -1\n"
            "[network]\nquota_port = -1\n")


#: (role, what its command line holds), first match wins: where a cycle's CPU goes
ROLES = (("api", " api"), ("scheduler", " scheduler"), ("conductor", " conductor"), ("compute", " compute"),
         ("embedded cloud", " up "), ("postgresql", "postgres"), ("rabbitmq", "beam.smp"),
         ("load generator", "boot_storm.py"))


def cpu_by_role() -> dict[str, float]:
    """CPU seconds used so far by the processes alive now, summed per role (Linux; empty
    elsewhere). A process that ends between two readings drops out of the second."""
    found: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        role = next((name for name, mark in ROLES if mark in command), None)
        if role is not None:
            found[role] = found.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return found


def machine_cpu_seconds() -> float | None:
    """CPU time every process on this machine used so far (Linux), the cloud's and this load's."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def token(identity: str, password: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    return requests.post(f"{identity}/identity/v3/auth/tokens", json=body, timeout=30).headers["X-Subject-Token"]


@contextlib.contextmanager
def cloud_for(args: argparse.Namespace, split: bool = False) -> Iterator[tuple[dict[str, str], str]]:
    """The cloud under test: the root URL serving each service's API and the admin's password
    (``split``: an API process per service, reaching one another through their REST APIs)."""
    with tempfile.TemporaryDirectory(prefix="boot-storm-") as scratch:
        yield from _cloud_in(args, Path(scratch), split)


def _cloud_in(args: argparse.Namespace, data: Path, split: bool) -> Iterator[tuple[dict[str, str], str]]:
    started = time.perf_counter()
    if not args.processes:
        cloud = EmbeddedCloud(data, SETTINGS.replace("[compute]\n", f"[compute]\nsimulated_hosts = {args.hosts}\n"),
                              timeout=600)
        print(f"embedded cloud with {args.hosts} simulated hosts up in {time.perf_counter() - started:.1f} s")
        try:
            password = yaml.safe_load(Path(cloud.clouds_yaml).read_text())["clouds"]["stratus"]["auth"]["password"]
            yield dict.fromkeys(SPLIT_SERVICES, cloud.base_url), password
        finally:
            cloud.stop()
        return
    per = -(-args.hosts // args.compute_processes)
    hosts = tuple((f"cn{i + 1}", min(per, args.hosts - i * per)) for i in range(args.compute_processes))
    with throwaway_postgresql(args.database_admin_url, "boot_storm") as database, \
            rabbitmq_vhost(args.rabbit_url, "boot-storm") as broker:
        cloud = ProcessCloud(data, database, broker, api_workers=args.api_workers, compute_hosts=hosts,
                             extra=SETTINGS, split=split, timeout=600)
        apis = "identity, image, network and compute api processes" if split else "api"
        print(f"{apis} ({args.api_workers} workers each), scheduler, conductor and {args.compute_processes} compute "
              f"process(es) with {args.hosts} simulated hosts on PostgreSQL and RabbitMQ, up in "
              f"{time.perf_counter() - started:.1f} s")
        try:
            yield cloud.urls, "admin-pw"
        finally:
            cloud.stop()


def prepare(urls: dict[str, str], headers: dict[str, str],
            network: bool) -> tuple[str, str, list[dict[str, str]]]:
    """An image, a flavor and (``network``) a network to boot with, made if the cloud has none."""
    image_url = f"{urls['image']}/image/v2/images"
    found = requests.get(f"{image_url}?name=storm", headers=headers, timeout=30).json()["images"]
    if found:
        image_id = found[0]["id"]
    else:
        image_id = requests.post(image_url, headers=headers, timeout=30, json={
            "name": "storm", "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()["id"]
        requests.put(f"{image_url}/{image_id}/file", data=b"\0" * 65536, timeout=30,
                     headers={**headers, "Content-Type": "application/octet-stream"}).raise_for_status()
    compute = f"{urls['compute']}/compute/v2.1"
    flavors = requests.get(f"{compute}/flavors?minRam=0", headers=headers, timeout=30).json()["flavors"]
    flavor = next((f["id"] for f in flavors if f["name"] == "storm"), None) or requests.post(
        f"{compute}/flavors", headers=headers, timeout=30, json={"flavor": {
            "name": "storm", "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    if not network:
        return image_id, flavor, []
    net_url = f"{urls['network']}/network/v2.0"
    found = requests.get(f"{net_url}/networks?name=storm", headers=headers, timeout=30).json()["networks"]
    if found:
        return image_id, flavor, [{"uuid": found[0]["id"]}]
    net = requests.post(f"{net_url}/networks", headers=headers, timeout=30,
                        json={"network": {"name": "storm"}}).json()["network"]
    requests.post(f"{net_url}/subnets", headers=headers, timeout=30, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.200.0.0/16"}}).raise_for_status()
    return image_id, flavor, [{"uuid": net["id"]}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--servers", type=int, default=500, help="boot+delete cycles in all")
    parser.add_argument("--network", action="store_true", help="give every server a port on a network")
    parser.add_argument("--poll", type=float, default=0.05,
                        help="seconds between a worker's status reads while it waits (Rally's default is 1)")
    parser.add_argument("--watch", choices=("list", "each"), default="list",
                        help="how the load generator learns of its servers' states: one GET /servers/detail?"
                        "changes-since=... for all of them every --poll seconds (list: what a dashboard or a client "
                        "watching many servers does; default), or a GET /servers/{id} per server every --poll "
                        "seconds (each: the API's load grows with the concurrency and the boot time)")
    parser.add_argument("--processes", action="store_true",
                        help="api, scheduler, conductor and compute processes on PostgreSQL and RabbitMQ "
                        "instead of stratus up")
    parser.add_argument("--compute-processes", type=int, default=1, help="with --processes: the hosts split over")
    parser.add_argument("--api-workers", type=int, default=2, help="with --processes: gunicorn workers")
    parser.add_argument("--database-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rabbit-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--shape", choices=("together", "split", "both"), default="both",
                        help="with --processes: one api process (services in-process to one another), an api "
                        "process per service (REST between them), or one run of each, side by side (default)")
    args = parser.parse_args()
    shapes = [False] if not args.processes or args.shape == "together" else \
        [True] if args.shape == "split" else [False, True]
    figures = []
    for split in shapes:
        with cloud_for(args, split) as (urls, password):
            figures.append((split, storm(args, urls, password)))
    for split, lines in figures:
        if args.processes:
            print("split: an api process per service, REST clients between them:" if split else
                  "together: one api process, its services' clients in-process:")
        for line in lines:
            print(line)
    print("  reference: Nova 1000-fake-node Rally run: boot p50 6.2 s, ~5.4 boot+delete per second")


class Watcher:
    """One thread listing the servers changed since its last look (``changes-since``, deletions
    included as DELETED) every ``poll`` seconds; workers wait here for the states they want."""

    def __init__(self, compute: str, headers: dict[str, str], poll: float) -> None:
        self.compute, self.poll = compute, poll
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.status: dict[str, str] = {}
        self.changed = threading.Condition()
        self.reads = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
        while not self.stopping.is_set():
            began = datetime.datetime.now(datetime.UTC)
            window = (since - datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            answer = self.session.get(f"{self.compute}/servers/detail", timeout=120,
                                      params={"changes-since": window, "limit": 1000})
            self.reads += 1
            if answer.status_code == 200:
                with self.changed:
                    for server in answer.json()["servers"]:
                        self.status[server["id"]] = server["status"]
                    self.changed.notify_all()
                since = began
            self.stopping.wait(self.poll)

    def wait(self, server_id: str, wanted: tuple[str, ...], timeout: float = 300) -> str | None:
        with self.changed:
            self.changed.wait_for(lambda: self.status.get(server_id) in wanted, timeout)
            return self.status.pop(server_id, None) if "DELETED" in wanted else self.status.get(server_id)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def storm(args: argparse.Namespace, urls: dict[str, str], password: str) -> list[str]:
    """Run the storm against the cloud serving at ``urls``; its figures, as lines to print."""
    headers = {"X-Auth-Token": token(urls["identity"], password)}
    compute = f"{urls['compute']}/compute/v2.1"
    image_id, flavor, networks = prepare(urls, headers, args.network)
    while len(requests.get(f"{compute}/os-hypervisors", headers=headers, timeout=60).json()["hypervisors"]) \
            < args.hosts:
        time.sleep(0.5)
    boots: list[float] = []
    deletes: list[float] = []
    errors: list[str] = []
    remaining = [args.servers]
    reads = [0]
    lock = threading.Lock()
    watcher = Watcher(compute, headers, args.poll) if args.watch == "list" else None

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
                "name": f"storm-{n}", "imageRef": image_id, "flavorRef": flavor, "networks": networks}})
            if answer.status_code != 202:
                errors.append(f"create {answer.status_code}: {answer.text[:200]}")
                continue
            server_id = answer.json()["server"]["id"]
            if watcher is not None:
                status = watcher.wait(server_id, ("ACTIVE", "ERROR"))
            else:
                while True:
                    reads[0] += 1
                    status = session.get(f"{compute}/servers/{server_id}", timeout=120).json()["server"]["status"]
                    if status in ("ACTIVE", "ERROR"):
                        break
                    time.sleep(args.poll)
            boots.append(time.perf_counter() - begin)
            if status != "ACTIVE":
                errors.append(f"server {server_id} went to {status}")
            begin = time.perf_counter()
            session.delete(f"{compute}/servers/{server_id}", timeout=120)
            if watcher is not None:
                watcher.wait(server_id, ("DELETED",))
            else:
                while session.get(f"{compute}/servers/{server_id}", timeout=120).status_code != 404:
                    reads[0] += 1
                    time.sleep(args.poll)
                reads[0] += 1
            deletes.append(time.perf_counter() - begin)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.concurrency)]
    started, cpu_before, roles_before = time.perf_counter(), machine_cpu_seconds(), cpu_by_role()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if watcher is not None:
        watcher.stop()
        reads[0] = watcher.reads
    cpu_after, roles_after = machine_cpu_seconds(), cpu_by_role()
    boots.sort()
    out = [f"{len(boots)} boot+delete cycles, {args.concurrency} at a time, {args.hosts} simulated hosts, "
          f"{'with' if args.network else 'without'} ports, "
          f"{'changes-since listed' if args.watch == 'list' else 'each server read'} every {args.poll} s, "
          f"{len(errors)} errors"]
    if boots:
        out.append(f"  boot   p50 {statistics.median(boots):.2f} s  p95 {boots[int(len(boots) * 0.95) - 1]:.2f} s")
        out.append(f"  delete p50 {statistics.median(deletes):.2f} s")
        out.append(f"  {len(boots) / elapsed:.1f} boot+delete per second "
                   f"({reads[0] / len(boots):.0f} status reads per cycle, {reads[0] / elapsed:.0f}/s)")
        if cpu_before is not None and cpu_after is not None:
            out.append(f"  machine CPU per cycle {(cpu_after - cpu_before) / len(boots) * 1000:.0f} ms "
                       f"({(cpu_after - cpu_before) / elapsed:.2f} of {os.cpu_count()} cores busy; the load "
                       "generator's share included)")
            shares = sorted(((roles_after[r] - roles_before.get(r, 0.0)) / len(boots) * 1000, r)
                            for r in roles_after)
            out.append("    of which " + ", ".join(f"{r} {ms:.0f} ms" for ms, r in reversed(shares) if ms >= 0.5))
    out += [f"  error: {error}" for error in errors[:5]]
    return out


if __name__ == "__main__":
    main()
