"""What the cloud is made of and what a project may use: ``os-hypervisors``, ``os-services``
(administrators), ``os-availability-zone``, ``limits`` and ``os-quota-sets`` (Nova v2.1)."""

from __future__ import annotations

import json
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas
from stratus.compute.api.common import context, int_param, page_links
from stratus.compute.api.microversions import at_least
from stratus.compute.manager import BINARY
from stratus.exceptions import Forbidden, Invalid, NotFound
from stratus.servicegroup.models import ServiceRecord


def _services(compute: Any) -> dict[str, Any]:
    return {s.host: s for s in compute.registry.list(binary=BINARY)}


def _records(compute: Any) -> dict[str, int]:
    with compute.services_db.transaction() as session:
        return {host: rid for host, rid in session.execute(
            sa.select(ServiceRecord.host, ServiceRecord.id).where(ServiceRecord.binary == BINARY))}


def hypervisor(req: falcon.Request, node: models.ComputeNode, service: Any, service_id: int | None,
               detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": node.id, "hypervisor_hostname": node.nodename,
                            "state": "up" if service and service.up else "down",
                            "status": "disabled" if service and service.disabled else "enabled"}
    if detail:
        body.update({
            "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
            "vcpus_used": node.vcpus_used, "memory_mb_used": node.memory_mb_used,
            "local_gb_used": node.local_gb_used, "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version, "free_ram_mb": node.memory_mb - node.memory_mb_used,
            "free_disk_gb": node.local_gb - node.local_gb_used, "current_workload": 0,
            "running_vms": node.running_vms, "disk_available_least": node.local_gb - node.local_gb_used,
            "host_ip": None,
            "cpu_info": dict(node.cpu_info or {}) if at_least(req, "2.28") else json.dumps(node.cpu_info or {}),
            "service": {"id": service_id, "host": node.host,
                        "disabled_reason": service.disabled_reason if service else None}})
    return body


class Hypervisors:
    def __init__(self, compute: Any, policy: Policy, view: str) -> None:
        self.compute, self.policy, self.view = compute, policy, view

    @schema("List hypervisors (/detail: with resources; /statistics: totals)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-hypervisors:list")
        services, records = _services(self.compute), _records(self.compute)
        with self.compute.db.transaction() as session:
            query = sa.select(models.ComputeNode).order_by(models.ComputeNode.id)
            limit = None
            if self.view != "statistics" and at_least(req, "2.33"):
                if req.get_param("marker") is not None:
                    marker = req.get_param("marker")
                    if not marker.isdigit() or session.get(models.ComputeNode, int(marker)) is None:
                        raise Invalid(f"marker [{marker}] not found")
                    query = query.where(models.ComputeNode.id > int(marker))
                if req.get_param("limit") is not None:
                    limit = int_param(req, "limit", 0)
                    query = query.limit(limit)
            nodes = list(session.scalars(query))
            if self.view == "statistics":
                keys = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
                        "running_vms")
                totals = {k: sum(getattr(n, k) for n in nodes) for k in keys}
                totals.update({"count": len(nodes), "free_ram_mb": totals["memory_mb"] - totals["memory_mb_used"],
                               "free_disk_gb": totals["local_gb"] - totals["local_gb_used"], "current_workload": 0,
                               "disk_available_least": totals["local_gb"] - totals["local_gb_used"]})
                resp.media = {"hypervisor_statistics": totals}
                return
            resp.media = {"hypervisors": [hypervisor(req, n, services.get(n.host), records.get(n.host),
                                                     self.view == "detail") for n in nodes]}
            if limit and len(nodes) == limit:
                resp.media["hypervisors_links"] = page_links(req, str(nodes[-1].id))


class HypervisorItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a hypervisor", responses={200: {"type": "object", "required": ["hypervisor"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-hypervisors:show")
        services, records = _services(self.compute), _records(self.compute)
        with self.compute.db.transaction() as session:
            node = session.get(models.ComputeNode, int(hypervisor_id)) if hypervisor_id.isdigit() else None
            if node is None:
                raise NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")
            resp.media = {"hypervisor": hypervisor(req, node, services.get(node.host), records.get(node.host),
                                                   True)}


class Services:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List services (filters host, binary)", responses={200: {"type": "object", "required": ["services"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-services:list")
        statuses = self.compute.registry.list(binary=req.params.get("binary"), host=req.params.get("host"))
        with self.compute.services_db.transaction() as session:
            rows = {r.uuid: r for r in session.scalars(sa.select(ServiceRecord))}
        resp.media = {"services": [{
            "id": rows[s.uuid].id, "binary": s.binary, "host": s.host,
            "zone": "nova" if s.binary == BINARY else "internal",
            "status": "disabled" if s.disabled else "enabled", "state": "up" if s.up else "down",
            "updated_at": rows[s.uuid].updated_at.isoformat() if rows[s.uuid].updated_at else None,
            "disabled_reason": s.disabled_reason,
            **({"forced_down": s.forced_down} if at_least(req, "2.11") else {})} for s in statuses]}


SERVICE_CHANGE = {"type": "object", "required": ["host", "binary"], "properties": {
    "host": {"type": "string", "minLength": 1, "maxLength": 255},
    "binary": {"type": "string", "minLength": 1, "maxLength": 255},
    "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
    "forced_down": {"type": "boolean"}}}


class ServiceChange:
    """``PUT /os-services/enable|disable|disable-log-reason`` (the 2.1 form)."""

    def __init__(self, compute: Any, policy: Policy, action: str) -> None:
        self.compute, self.policy, self.action = compute, policy, action

    @schema("Enable or disable a compute service (a disabled one gets no new servers)", request=SERVICE_CHANGE,
            responses={200: {"type": "object", "required": ["service"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-services:update")
        body = req.context.body
        if self.action == "force-down":
            self._force_down(req, resp, body)
            return
        disabled = self.action != "enable"
        reason = body.get("disabled_reason") if self.action == "disable-log-reason" else None
        if self.action == "disable-log-reason" and not reason:
            raise Invalid("Missing disabled reason field")
        with self.compute.services_db.transaction() as session:
            changed = session.execute(sa.update(ServiceRecord).where(
                ServiceRecord.host == body["host"], ServiceRecord.binary == body["binary"])
                .values(disabled=disabled, disabled_reason=reason)).rowcount
        if not changed:
            raise NotFound(f"Compute host {body['host']} could not be found.")
        service = {"host": body["host"], "binary": body["binary"], "status": "disabled" if disabled else "enabled"}
        if reason:
            service["disabled_reason"] = reason
        resp.media = {"service": service}


    def _force_down(self, req: falcon.Request, resp: falcon.Response, body: dict[str, Any]) -> None:
        """2.11: mark a service down now (an external monitor saw its host die), or clear that."""
        if not at_least(req, "2.11"):
            raise NotFound("The resource could not be found (it needs microversion 2.11 or later).")
        if "forced_down" not in body:
            raise Invalid("Invalid input for field/attribute forced_down: 'forced_down' is a required property")
        with self.compute.services_db.transaction() as session:
            changed = session.execute(sa.update(ServiceRecord).where(
                ServiceRecord.host == body["host"], ServiceRecord.binary == body["binary"])
                .values(forced_down=body["forced_down"])).rowcount
        if not changed:
            raise NotFound(f"Compute host {body['host']} could not be found.")
        resp.media = {"service": {"host": body["host"], "binary": body["binary"],
                                  "forced_down": body["forced_down"]}}


class AvailabilityZones:
    def __init__(self, compute: Any, policy: Policy, detail: bool) -> None:
        self.compute, self.policy, self.detail = compute, policy, detail

    @schema("List availability zones (/detail: with their hosts, administrators)",
            responses={200: {"type": "object", "required": ["availabilityZoneInfo"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-availability-zone:" + ("detail" if self.detail else "list"))
        services = _services(self.compute)
        with self.compute.db.transaction() as session:
            nodes = list(session.scalars(sa.select(models.ComputeNode)))
        zones: dict[str, dict[str, Any]] = {}
        for node in nodes:
            service = services.get(node.host)
            zone = zones.setdefault(node.availability_zone, {})
            zone[node.host] = {"nova-compute": {
                "available": bool(service and service.up and not service.disabled),
                "active": bool(service and not service.disabled),
                "updated_at": service.last_seen_up.isoformat() if service and service.last_seen_up else None}}
        resp.media = {"availabilityZoneInfo": [
            {"zoneName": name, "zoneState": {"available": any(h["nova-compute"]["available"] for h in hosts.values())},
             "hosts": hosts if self.detail else None} for name, hosts in sorted(zones.items())]}


class Limits:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A project's absolute limits and usage", responses={200: {"type": "object", "required": ["limits"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        project_id = req.params.get("tenant_id") or ctx.project_id
        if project_id != ctx.project_id and not ctx.is_admin:
            raise Forbidden("Only administrators may read another project's limits.")
        with self.compute.db.transaction() as session:
            limit, used = quotas.limits(session, self.compute.conf, project_id), quotas.usage(session, project_id)
            groups = session.scalar(sa.select(sa.func.count()).select_from(models.InstanceGroup)
                                    .where(models.InstanceGroup.project_id == project_id))
        absolute = {
            "maxServerMeta": limit["metadata_items"], "maxPersonality": limit["injected_files"],
            "maxPersonalitySize": limit["injected_file_content_bytes"], "maxImageMeta": limit["metadata_items"],
            "maxTotalKeypairs": limit["key_pairs"], "maxTotalInstances": limit["instances"],
            "maxTotalCores": limit["cores"], "maxTotalRAMSize": limit["ram"],
            "maxServerGroups": limit["server_groups"], "maxServerGroupMembers": limit["server_group_members"],
            "totalInstancesUsed": used["instances"], "totalCoresUsed": used["cores"], "totalRAMUsed": used["ram"],
            "totalServerGroupsUsed": groups}
        if not at_least(req, "2.36"):  # networking's limits, proxied before 2.36; not read from networking yet
            absolute.update({"maxSecurityGroups": -1, "maxSecurityGroupRules": -1, "maxTotalFloatingIps": -1,
                             "totalSecurityGroupsUsed": 0, "totalFloatingIpsUsed": 0})
        if at_least(req, "2.39"):
            del absolute["maxImageMeta"]
        if at_least(req, "2.57"):
            del absolute["maxPersonality"], absolute["maxPersonalitySize"]
        resp.media = {"limits": {"rate": [], "absolute": absolute}}


QUOTA_UPDATE = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "additionalProperties": False,
    "properties": {**{r: {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1}
                      for r in quotas.QUOTA_SET}, "force": {"type": ["boolean", "string"]}}}}}


class QuotaSet:
    def __init__(self, compute: Any, policy: Policy, view: str = "") -> None:
        self.compute, self.policy, self.view = compute, policy, view

    def _readable(self, req: falcon.Request, project_id: str) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:os-quota-sets:show", {"project_id": project_id})
        if project_id != ctx.project_id and not ctx.is_admin:
            raise Forbidden("Only administrators may read another project's quotas.")

    @schema("A project's quotas (/defaults; /detail: with usage)",
            responses={200: {"type": "object", "required": ["quota_set"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        if self.view == "defaults":
            enforce(req, self.policy, "os_compute_api:os-quota-sets:defaults")
            resp.media = {"quota_set": {"id": project_id, **quotas.defaults(self.compute.conf)}}
            return
        self._readable(req, project_id)
        with self.compute.db.transaction() as session:
            limit = quotas.limits(session, self.compute.conf, project_id)
            if self.view == "detail":
                used = quotas.usage(session, project_id)
                pairs = session.scalar(sa.select(sa.func.count()).select_from(models.KeyPair)
                                       .where(models.KeyPair.user_id == context(req).user_id))
                used["key_pairs"] = int(pairs or 0)
                resp.media = {"quota_set": {"id": project_id, **{
                    r: {"limit": v, "in_use": used.get(r, 0), "reserved": 0} for r, v in limit.items()}}}
                return
        resp.media = {"quota_set": {"id": project_id, **limit}}

    @schema("Set a project's quotas (administrators)", request=QUOTA_UPDATE,
            responses={200: {"type": "object", "required": ["quota_set"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-sets:update")
        body = {k: int(v) for k, v in req.context.body["quota_set"].items() if k != "force"}
        with self.compute.db.transaction() as session:
            for resource, value in body.items():
                row = session.get(models.Quota, (project_id, resource))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=resource, limit=value))
                else:
                    row.limit = value
            session.flush()
            resp.media = {"quota_set": quotas.limits(session, self.compute.conf, project_id)}

    @schema("Reset a project's quotas to the defaults (administrators)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-sets:delete")
        with self.compute.db.transaction() as session:
            session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
        resp.status = 202
