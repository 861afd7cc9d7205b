"""Where servers can go and what a project may use: ``os-availability-zone``, ``limits``,
``os-quota-sets`` and ``os-quota-class-sets`` (Nova v2.1)."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema, validate
from stratus.compute import models, quotas, zones
from stratus.compute.api.common import context
from stratus.compute.api.microversions import at_least
from stratus.compute.binaries import COMPUTE as BINARY
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
        if not at_least(req, "2.36"):  # nova-network's limits, as Nova still shows them before 2.36
            absolute.update({"maxSecurityGroups": limit["security_groups"],
                             "maxSecurityGroupRules": limit["security_group_rules"],
                             "maxTotalFloatingIps": limit["floating_ips"],
                             "totalSecurityGroupsUsed": 0, "totalFloatingIpsUsed": 0})
        if at_least(req, "2.39"):
            del absolute["maxImageMeta"]
        if at_least(req, "2.57"):
            del absolute["maxPersonality"], absolute["maxPersonalitySize"]
        resp.media = {"limits": {"rate": [], "absolute": absolute}}


#: a quota as Nova's database holds it: -1 (unlimited) to the largest signed 32-bit integer
QUOTA_VALUE = {"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1}


def quota_values(given: dict[str, Any], field: str) -> dict[str, int]:
    """``given``'s values as integers (numeric strings taken, as Nova does), each in range.

    :raises Invalid: one is out of range (400 naming it, where the database would overflow).
    """
    values = {k: int(v) for k, v in given.items()}
    validate({"type": "object", "properties": {field: {"type": "object", "additionalProperties": QUOTA_VALUE}}},
             {field: values})
    return values


QUOTA_UPDATE = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "additionalProperties": False,
    "properties": {**{r: {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1}
                      for r in quotas.QUOTA_SET}, "force": {"type": ["boolean", "string"]}}}}}


QUOTA_CLASS_UPDATE = {"type": "object", "required": ["quota_class_set"], "additionalProperties": False,
                      "properties": {"quota_class_set": {"type": "object", "additionalProperties": {
                          "type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1,
                          "maximum": 2 ** 31 - 1}}}}

#: nova-network's quotas, gone from 2.36
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
#: quotas for files injected at create (personality), gone from 2.57 with personality itself
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _hidden(req: falcon.Request) -> tuple[tuple[str, str], ...]:
    """(quota, the version that removed it) of the quotas gone at the request's version."""
    return tuple((name, version) for names, version in ((NETWORK, "2.36"), (INJECTED, "2.57"))
                 if at_least(req, version) for name in names)


def _shown(req: falcon.Request, quota_set: dict[str, Any]) -> dict[str, Any]:
    hidden = {name for name, _ in _hidden(req)}
    return {k: v for k, v in quota_set.items() if k not in hidden}


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
            with self.compute.db.reading() as session:
                resp.media = {"quota_set": _shown(req, {"id": project_id,
                                                        **quotas.defaults(self.compute.conf, session)})}
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
        body = quota_values({k: v for k, v in req.context.body["quota_set"].items() if k != "force"}, "quota_set")
        for name, version in _hidden(req):
            if name in body:
                raise Invalid(f"Invalid input for field/attribute quota_set. Additional properties are not "
                              f"allowed ('{name}' was unexpected); it was removed in microversion {version}")
        self.compute.verify_project(project_id, context(req))
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


#: the server group quotas, shown in quota classes from 2.50
SERVER_GROUPS = ("server_groups", "server_group_members")


def _class_shown(req: falcon.Request, values: dict[str, Any]) -> dict[str, Any]:
    """A quota class as the request's version shows it: nova-network's quotas until 2.49, the
    server group ones from 2.50, no injected-file ones from 2.57 (Nova's quota classes)."""
    hidden = set(SERVER_GROUPS) if not at_least(req, "2.50") else set(NETWORK)
    if at_least(req, "2.57"):
        hidden |= set(INJECTED)
    return {k: v for k, v in values.items() if k not in hidden}


class QuotaClassSet:
    """``/os-quota-class-sets/{class}``: the ``default`` class's values are every project's
    defaults (over the configured ones); other classes are kept and shown, as Nova's."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a quota class", responses={200: {"type": "object", "required": ["quota_class_set"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, class_name: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-class-sets:show")
        with self.compute.db.reading() as session:
            values = quotas.class_limits(session, self.compute.conf, class_name)
        resp.media = {"quota_class_set": {"id": class_name, **_class_shown(req, values)}}

    @schema("Set a quota class's values (administrators)", request=QUOTA_CLASS_UPDATE,
            responses={200: {"type": "object", "required": ["quota_class_set"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, class_name: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-quota-class-sets:update")
        if not 1 <= len(class_name) <= 255:
            raise Invalid("quota_class_name has a length of 1 to 255 characters.")
        body = quota_values(req.context.body["quota_class_set"], "quota_class_set")
        allowed = set(_class_shown(req, dict.fromkeys(quotas.QUOTA_SET, 0)))
        for name in body:
            if name not in allowed:
                raise Invalid(f"Invalid input for field/attribute quota_class_set. Additional properties are not "
                              f"allowed ('{name}' was unexpected)")
        with self.compute.db.transaction() as session:
            for resource, value in body.items():
                row = session.get(models.QuotaClass, (class_name, resource))
                if row is None:
                    session.add(models.QuotaClass(class_name=class_name, resource=resource, limit=int(value)))
                else:
                    row.limit = int(value)
            session.flush()
            values = quotas.class_limits(session, self.compute.conf, class_name)
        resp.media = {"quota_class_set": _class_shown(req, values)}
