"""Scheduler micro-benchmark: choose a host among N host states (default 10,000) with the
standard filters and weighers, as the compute issue asks; prints p50/p95 per request.

    python bench/scheduler_select.py [--hosts 10000] [--requests 200] [--instances 1]

Reference (from the issue): Placement took 5.5-16 s for one allocation-candidates query at
6000 providers in Nova's published scale runs. This measures the selection only (host
states already in memory); loading them from the database is the caller's cost.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from stratus import conf as config
from stratus.interfaces.scheduler import FlavorSpec, HostState, InstanceGroupSpec, RequestSpec
from stratus.scheduler.selection import NoValidHost, Scheduler


def host_states(count: int, rng: random.Random) -> list[HostState]:
    states = []
    for i in range(count):
        vcpus, memory, disk = rng.choice([(32, 131072, 2048), (64, 262144, 4096), (16, 65536, 1024)])
        states.append(HostState(
            host=f"host-{i:05d}", nodename=f"host-{i:05d}", availability_zone=rng.choice(["nova", "az2"]),
            service_up=rng.random() > 0.01, service_disabled=rng.random() < 0.01, vcpus_total=vcpus,
            vcpus_used=rng.randrange(vcpus * 4), memory_mb_total=memory, memory_mb_used=rng.randrange(memory),
            disk_gb_total=disk, disk_gb_used=rng.randrange(disk), cpu_allocation_ratio=4.0,
            num_instances=rng.randrange(40), num_io_ops=rng.randrange(8), hypervisor_type="fake",
            hypervisor_version=1000, capabilities={"cpu_arch": "x86_64"},
            instances=frozenset(f"server-{i}-{j}" for j in range(3))))
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--instances", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(42)
    states = host_states(args.hosts, rng)
    scheduler = Scheduler.from_conf(config.build([]))
    flavors = [FlavorSpec(1, 512, 1), FlavorSpec(2, 4096, 40), FlavorSpec(8, 16384, 160)]
    timings, failures = [], 0
    for i in range(args.requests):
        spec = RequestSpec(project_id="p", flavor=rng.choice(flavors), num_instances=args.instances,
                           availability_zone=rng.choice([None, "nova"]),
                           scheduler_hints={"different_host": (f"server-{rng.randrange(args.hosts)}-0",)},
                           instance_group=InstanceGroupSpec(uuid=f"g{i}", policy="anti-affinity")
                           if i % 4 == 0 else None)
        start = time.perf_counter()
        try:
            scheduler.select(states, spec)
        except NoValidHost:
            failures += 1
        timings.append(time.perf_counter() - start)
    timings.sort()
    p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95) - 1]
    print(f"scheduler: {args.hosts} host states, {len(scheduler.filters)} filters, {len(scheduler.weighers)} "
          f"weighers, {args.instances} instance(s)/request, {args.requests} requests ({failures} NoValidHost)")
    print(f"  per request: p50 {p50 * 1000:.1f} ms  p95 {p95 * 1000:.1f} ms  "
          f"({args.hosts / p50 / 1e6:.2f} M host states/s at p50)")
    print("  reference: Placement 5.5-16 s per allocation-candidates query at 6000 providers (Nova scale run)")


if __name__ == "__main__":
    main()
