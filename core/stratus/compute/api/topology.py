"""``/servers/{id}/topology`` (2.78): a server's guest NUMA nodes.

The nodes are the ones its flavor asks for (``hw:numa_nodes``, with ``hw:numa_cpus.N`` and
``hw:numa_mem.N`` or an even split); a flavor that asks none gives a server without a
NUMA topology (no nodes), as Nova shows it. No driver here pins guest CPUs to host CPUs,
so administrators see each node's host node as its own index and an empty pinning.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api.common import context
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import find
from stratus.exceptions import NotFound


def cpus(text: str) -> list[int]:
    """``0-3,^2,6`` as the CPUs it names."""
    chosen: set[int] = set()
    excluded: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        target = excluded if part.startswith("^") else chosen
        low, _, high = part.lstrip("^").partition("-")
        target.update(range(int(low), int(high or low) + 1))
    return sorted(chosen - excluded)


def guest_nodes(flavor: dict[str, Any]) -> list[dict[str, Any]]:
    specs = flavor.get("extra_specs", {})
    try:
        count = int(specs.get("hw:numa_nodes", 0))
    except ValueError:
        return []
    if count < 1:
        return []
    vcpus, memory = int(flavor["vcpus"]), int(flavor["ram"])
    nodes = []
    for index in range(count):
        given = specs.get(f"hw:numa_cpus.{index}")
        vcpu_set = cpus(given) if given else list(range(index * vcpus // count, (index + 1) * vcpus // count))
        mem = specs.get(f"hw:numa_mem.{index}")
        nodes.append({"vcpu_set": vcpu_set, "siblings": [],
                      "memory_mb": int(mem) if mem and mem.isdigit() else memory // count})
    return nodes


class ServerTopology:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A server's NUMA topology (2.78)", responses={200: {"type": "object", "required": ["nodes"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        if not at_least(req, "2.78"):
            raise NotFound("The resource could not be found.")
        with self.compute.db.reading() as session:
            row = find(session, req, server_id)
            target = {"project_id": row.project_id}
            enforce(req, self.policy, "compute:server:topology:index", target)
            host_info = self.policy.allows(context(req), "compute:server:topology:host:index", target)
            nodes = guest_nodes(row.flavor)
        if host_info:
            nodes = [{**node, "host_node": index, "cpu_pinning": {}} for index, node in enumerate(nodes)]
        resp.media = {"nodes": nodes, "pagesize_kb": None}
