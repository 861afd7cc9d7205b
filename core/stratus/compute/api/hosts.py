"""Where servers can go and what a project may use: ``os-availability-zone``, ``limits``
and ``os-quota-sets`` (Nova v2.1)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models, quotas, zones
from stratus.compute.api.common import context
from stratus.compute.api.microversions import at_least
from stratus.compute.manager import BINARY
from stratus.exceptions import Forbidden, Invalid


class AvailabilityZones:
    """As Nova: a zone is available when an enabled service is in it; the internal zone
    (services other than compute) shows only in the detail, with every enabled service."""

    def __init__(self, compute: Any, policy: Policy, detail: bool) -> None:
        self.compute, self.policy, self.detail = compute, policy, detail

    @schema("List availability zones (/detail: with their hosts, administrators)",
            responses={200: {"type": "object", "required": ["availabilityZoneInfo"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-availability-zone:" + ("detail" if self.detail else "list"))
        conf = self.compute.conf.compute
        services = self.compute.registry.list()
        with self.compute.db.reading() as session:
            host_zones = zones.host_zones(session)

        def zone(service: Any) -> str:
            if service.binary != BINARY:
                return conf.internal_service_availability_zone
            return host_zones.get(service.host, conf.default_availability_zone)

        enabled: dict[str, dict[str, dict[str, Any]]] = {}
        for service in services:
            if not service.disabled:
                enabled.setdefault(zone(service), {}).setdefault(service.host, {})[service.binary] = {
                    "available": service.up, "active": True,
                    "updated_at": service.last_seen_up.isoformat() if service.last_seen_up else None}
        unavailable = sorted({zone(s) for s in services if s.disabled} - set(enabled))
        shown = sorted(enabled) if self.detail else sorted(set(enabled) - {conf.internal_service_availability_zone})
        unavailable = [z for z in unavailable if self.detail or z != conf.internal_service_availability_zone]
        resp.media = {"availabilityZoneInfo": [
            {"zoneName": name, "zoneState": {"available": True}, "hosts": enabled[name] if self.detail else None}
            for name in shown] + [{"zoneName": name, "zoneState": {"available": False}, "hosts": None}
                                  for name in unavailable]}


class Limits:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A project's absolute limits and usage", responses={200: {"type": "object", "required": ["limits"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        project_id = req.params.get("tenant_id") or ctx.project_id
        if project_id != ctx.project_id and not ctx.is_admin:
            raise Forbidden("Only administrators may read another project's limits.")
        with self.compute.db.reading() as session:
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


#: quotas for files injected at create (personality), gone from 2.57 with personality itself
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _shown(req: falcon.Request, quota_set: dict[str, Any]) -> dict[str, Any]:
    if at_least(req, "2.57"):
        return {k: v for k, v in quota_set.items() if k not in INJECTED}
    return quota_set


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
            resp.media = {"quota_set": _shown(req, {"id": project_id, **quotas.defaults(self.compute.conf)})}
            return
        self._readable(req, project_id)
        with self.compute.db.reading() as session:
            limit = quotas.limits(session, self.compute.conf, project_id)
            if self.view == "detail":
                used = quotas.usage(session, project_id)
                pairs = session.scalar(sa.select(sa.func.count()).select_from(models.KeyPair)
                                       .where(models.KeyPair.user_id == context(req).user_id))
                used["key_pairs"] = int(pairs or 0)
                resp.media = {"quota_set": _shown(req, {"id": project_id, **{
                    r: {"limit": v, "in_use": used.get(r, 0), "reserved": 0} for r, v in limit.items()}})}
                return
        resp.media = {"quota_set": _shown(req, {"id": project_id, **limit})}

    @schema("Set a project's quotas (administrators)", request=QUOTA_UPDATE,
            responses={200: {"type": "object", "required": ["quota_set"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-sets:update")
        body = {k: int(v) for k, v in req.context.body["quota_set"].items() if k != "force"}
        for name in INJECTED:
            if name in body and at_least(req, "2.57"):
                raise Invalid(f"Invalid input for field/attribute quota_set. Additional properties are not "
                              f"allowed ('{name}' was unexpected); it was removed in microversion 2.57")
        with self.compute.db.transaction() as session:
            for resource, value in body.items():
                row = session.get(models.Quota, (project_id, resource))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=resource, limit=value))
                else:
                    row.limit = value
            session.flush()
            resp.media = {"quota_set": _shown(req, quotas.limits(session, self.compute.conf, project_id))}

    @schema("Reset a project's quotas to the defaults (administrators)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-sets:delete")
        with self.compute.db.transaction() as session:
            session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
        resp.status = 202
