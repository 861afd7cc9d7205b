"""``os-hypervisors`` (administrators): compute nodes with their resources and usage.

Nodes are named by database id before 2.53 and by uuid from it. Before 2.53,
``/os-hypervisors/{pattern}/search`` and ``/{pattern}/servers`` find nodes by a hostname
substring; from 2.53 the ``hypervisor_hostname_pattern`` and ``with_servers`` query
parameters do (Nova v2.1).
"""

from __future__ import annotations

import json
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.common import bool_param, context, int_param, is_uuid, page_links
from stratus.compute.api.microversions import at_least
from stratus.compute.binaries import COMPUTE as BINARY
from stratus.compute.topics import TOPIC
from stratus.exceptions import BackendUnavailable, Invalid, MessagingTimeout, NotFound
from stratus.servicegroup.models import ServiceRecord


def _services(compute: Any) -> dict[str, tuple[ServiceRecord, bool]]:
    """Each compute host's service record and whether it is up."""
    with compute.services_db.transaction() as session:
        records = list(session.scalars(sa.select(ServiceRecord).where(ServiceRecord.binary == BINARY)))
        session.expunge_all()
    return {r.host: (r, compute.registry.is_up(r)) for r in records}


def _servers(session: Any, hosts: set[str]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for host, name, uuid in session.execute(
            sa.select(models.Instance.host, models.Instance.display_name, models.Instance.uuid)
            .where(models.Instance.host.in_(hosts), models.Instance.deleted.is_(False))
            .order_by(models.Instance.created_at)):
        found.setdefault(host, []).append({"name": name, "uuid": uuid})
    return found


def view(req: falcon.Request, node: models.ComputeNode, service: tuple[ServiceRecord, bool],
         detail: bool, servers: list[dict[str, str]] | None = None, uptime: str | None = None) -> dict[str, Any]:
    record, up = service
    uuids = at_least(req, "2.53")
    body: dict[str, Any] = {"id": node.uuid if uuids else node.id, "hypervisor_hostname": node.nodename,
                            "state": "up" if up else "down",
                            "status": "disabled" if record.disabled else "enabled"}
    if detail and at_least(req, "2.88"):  # the usage figures went, the host's uptime came in
        body.update({"hypervisor_type": node.hypervisor_type, "hypervisor_version": node.hypervisor_version,
                     "host_ip": None, "uptime": uptime,
                     "service": {"id": record.uuid if uuids else record.id, "host": node.host,
                                 "disabled_reason": record.disabled_reason}})
    elif detail:
        body.update({
            "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
            "vcpus_used": node.vcpus_used, "memory_mb_used": node.memory_mb_used,
            "local_gb_used": node.local_gb_used, "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version, "free_ram_mb": node.memory_mb - node.memory_mb_used,
            "free_disk_gb": node.local_gb - node.local_gb_used, "current_workload": 0,
            "running_vms": node.running_vms, "disk_available_least": node.local_gb - node.local_gb_used,
            "host_ip": None,
            "cpu_info": dict(node.cpu_info or {}) if at_least(req, "2.28") else json.dumps(node.cpu_info or {}),
            "service": {"id": record.uuid if uuids else record.id, "host": node.host,
                        "disabled_reason": record.disabled_reason}})
    if servers or (servers is not None and at_least(req, "2.75")):  # from 2.75 even when empty
        body["servers"] = servers
    return body


class Hypervisors:
    """``/os-hypervisors`` (``view`` ""), ``/detail``, ``/statistics``, and before 2.53
    ``/{pattern}/search`` and ``/{pattern}/servers`` (``view`` "search"/"servers"); falcon
    names the pattern like the id at that level."""

    def __init__(self, compute: Any, policy: Policy, view: str) -> None:
        self.compute, self.policy, self.view = compute, policy, view

    @schema("List hypervisors (/detail: with resources; /statistics: totals)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str | None = None) -> None:
        """``hypervisor_id``: the hostname pattern of ``/{pattern}/search`` and ``/{pattern}/servers``."""
        enforce(req, self.policy, "os_compute_api:os-hypervisors:list")
        if self.view == "statistics" and at_least(req, "2.88"):
            raise NotFound("The resource could not be found (hypervisor statistics were removed in 2.88).")
        pattern = hypervisor_id
        if self.view in ("search", "servers") and at_least(req, "2.53"):
            raise NotFound("The resource could not be found (use the hypervisor_hostname_pattern and "
                           "with_servers query parameters from microversion 2.53).")
        with_servers = self.view == "servers"
        if self.view in ("", "detail") and at_least(req, "2.53"):
            pattern = req.params.get("hypervisor_hostname_pattern")
            with_servers = bool_param("with_servers", req.params.get("with_servers", "false"))
            if pattern is not None and ("limit" in req.params or "marker" in req.params):
                raise Invalid("Paging over hypervisors with the hypervisor_hostname_pattern query parameter "
                              "is not supported.")
        services = _services(self.compute)
        with self.compute.db.reading() as session:
            query = sa.select(models.ComputeNode).order_by(models.ComputeNode.id)
            limit = None
            if pattern is not None:
                like = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(models.ComputeNode.nodename.like(f"%{like}%", escape="\\"))
            elif self.view != "statistics" and at_least(req, "2.33"):
                query = self._page(req, session, query)
                if req.get_param("limit") is not None:
                    limit = int_param(req, "limit", 0)
                    query = query.limit(limit)
            nodes = [n for n in session.scalars(query) if n.host in services]
            if pattern is not None and not nodes:
                raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
            if self.view == "statistics":
                resp.media = {"hypervisor_statistics": statistics(nodes)}
                return
            hosted = _servers(session, {n.host for n in nodes}) if with_servers else {}
            times = uptimes(self.compute, req, [n.host for n in nodes if services[n.host][1]]) \
                if self.view == "detail" and at_least(req, "2.88") else {}
            resp.media = {"hypervisors": [view(req, n, services[n.host], self.view == "detail",
                                               hosted.get(n.host, []) if with_servers else None, times.get(n.host))
                                          for n in nodes]}
            if limit and len(nodes) == limit:
                resp.media["hypervisors_links"] = page_links(
                    req, nodes[-1].uuid if at_least(req, "2.53") else str(nodes[-1].id))

    @staticmethod
    def _page(req: falcon.Request, session: Any, query: Any) -> Any:
        marker = req.get_param("marker")
        if marker is None:
            return query
        if at_least(req, "2.53"):
            node = session.scalar(sa.select(models.ComputeNode).where(models.ComputeNode.uuid == marker))
        else:
            node = session.get(models.ComputeNode, int(marker)) if marker.isdigit() else None
        if node is None:
            raise Invalid(f"marker [{marker}] not found")
        return query.where(models.ComputeNode.id > node.id)


def statistics(nodes: list[models.ComputeNode]) -> dict[str, int]:
    keys = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "running_vms")
    totals = {k: sum(getattr(n, k) for n in nodes) for k in keys}
    totals.update({"count": len(nodes), "free_ram_mb": totals["memory_mb"] - totals["memory_mb_used"],
                   "free_disk_gb": totals["local_gb"] - totals["local_gb_used"], "current_workload": 0,
                   "disk_available_least": totals["local_gb"] - totals["local_gb_used"]})
    return totals


def uptimes(compute: Any, req: falcon.Request, hosts: list[str]) -> dict[str, str]:
    """Each (live) host's ``uptime`` line, asked of its compute service; a host that does not
    answer within a few seconds has none."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(host: str) -> tuple[str, str | None]:
        try:
            return host, compute.rpc(TOPIC).call(context(req), "get_host_uptime", server=host, timeout=5)
        except (BackendUnavailable, MessagingTimeout):
            return host, None

    if not hosts:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(hosts))) as pool:
        return {host: line for host, line in pool.map(ask, hosts) if line is not None}


def _find(session: Any, req: falcon.Request, hypervisor_id: str, services: dict[str, Any]) -> models.ComputeNode:
    if at_least(req, "2.53"):
        if not is_uuid(hypervisor_id):
            raise Invalid(f"Invalid uuid {hypervisor_id}")
        node = session.scalar(sa.select(models.ComputeNode).where(models.ComputeNode.uuid == hypervisor_id))
    else:
        node = session.get(models.ComputeNode, int(hypervisor_id)) if hypervisor_id.isdigit() else None
    if node is None or node.host not in services:
        raise NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")
    return node


class HypervisorItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a hypervisor (from 2.53 by uuid, optionally with_servers)",
            responses={200: {"type": "object", "required": ["hypervisor"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-hypervisors:show")
        with_servers = at_least(req, "2.53") and bool_param("with_servers", req.params.get("with_servers", "false"))
        services = _services(self.compute)
        with self.compute.db.reading() as session:
            node = _find(session, req, hypervisor_id, services)
            hosted = _servers(session, {node.host}) if with_servers else {}
        times = uptimes(self.compute, req, [node.host]) if at_least(req, "2.88") and services[node.host][1] else {}
        resp.media = {"hypervisor": view(req, node, services[node.host], True,
                                         hosted.get(node.host, []) if with_servers else None, times.get(node.host))}


class HypervisorUptime:
    """``/os-hypervisors/{id}/uptime``: the host's ``uptime`` line, asked of its compute service."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A hypervisor's host uptime and load", responses={200: {"type": "object", "required": ["hypervisor"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        if at_least(req, "2.88"):
            raise NotFound("The resource could not be found (the uptime is in the hypervisor's own view from 2.88).")
        enforce(req, self.policy, "os_compute_api:os-hypervisors:uptime")
        services = _services(self.compute)
        with self.compute.db.reading() as session:
            node = _find(session, req, hypervisor_id, services)
            body = view(req, node, services[node.host], False)
        if not services[node.host][1]:
            raise Invalid(f"Compute service of {node.host} is unavailable at this time.")
        try:
            body["uptime"] = self.compute.rpc(TOPIC).call(context(req), "get_host_uptime", server=node.host,
                                                          timeout=10)
        except (BackendUnavailable, MessagingTimeout):
            raise Invalid(f"Compute service of {node.host} is unavailable at this time.") from None
        resp.media = {"hypervisor": body}
