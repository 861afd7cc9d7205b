"""``os-services``, ``scheduler-stats/get_pools`` and ``os-availability-zone`` of block storage."""

from __future__ import annotations

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.servicegroup.registry import ServiceRegistry
from stratus.volume import models
from stratus.volume.api.common import boolean, context, isotime
from stratus.volume.scheduler import capacity
from stratus.volume.service import VolumeService
from stratus.volume.topics import SCHEDULER_BINARY, VOLUME_BINARY


class Services:
    def __init__(self, service: VolumeService, policy: Policy, registry: ServiceRegistry) -> None:
        self.service, self.policy, self.registry = service, policy, registry

    @schema("The volume services and schedulers, up or down (administrators; filters host, binary)",
            responses={200: {"type": "object", "required": ["services"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "volume_extension:services:index", {"project_id": context(req).project_id})
        zones = {}
        with self.service.db.reading() as session:
            for host, zone in session.execute(sa.select(models.Pool.host, models.Pool.availability_zone)):
                zones[host] = zone
        default = self.service.conf.volume.default_availability_zone
        found = []
        for binary in (SCHEDULER_BINARY, VOLUME_BINARY):
            if req.get_param("binary") and req.get_param("binary") != binary:
                continue
            wanted = req.get_param("host")
            for status in self.registry.list(binary=binary):
                if wanted and wanted not in (status.host, status.host.partition("@")[0]):
                    continue  # a host's name finds its volume services (host@backend) too, as in Cinder
                found.append({"binary": status.binary, "host": status.host, "zone": zones.get(status.host, default),
                              "status": "disabled" if status.disabled else "enabled",
                              "state": "up" if status.up else "down", "updated_at": isotime(status.last_seen_up),
                              "disabled_reason": status.disabled_reason,
                              **({"cluster": None} if at_least(req, "3.7") else {})})
        resp.media = {"services": found}


class Pools:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("The backends' pools as last reported (detail=true: with capacities)",
            responses={200: {"type": "object", "required": ["pools"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "scheduler_extension:scheduler_stats:get_pools",
                {"project_id": context(req).project_id})
        detail = boolean("detail", req.get_param("detail") or "false")
        with self.service.db.reading() as session:
            pools = list(session.scalars(sa.select(models.Pool).order_by(models.Pool.name)))
            wanted_type = None
            if at_least(req, "3.35") and req.get_param("volume_type"):
                wanted_type = self.service.find_type(session, req.get_param("volume_type"), None, True)
        filters = {k: v for k, v in req.params.items() if k not in ("detail", "volume_type")} \
            if at_least(req, "3.28") else {}
        items = []
        for pool in pools:
            capabilities = self._capabilities(pool)
            if any(str(capabilities.get(k, pool.name if k == "name" else None)) != str(v) for k, v in filters.items()):
                continue
            backend = wanted_type.specs.get("volume_backend_name") if wanted_type is not None else None
            if backend and pool.volume_backend_name != backend:
                continue
            item: dict = {"name": pool.name}
            if detail:
                item["capabilities"] = capabilities
            items.append(item)
        resp.media = {"pools": items}

    @staticmethod
    def _capabilities(pool: models.Pool) -> dict:
        return {
            "pool_name": pool.name.partition("#")[2], "volume_backend_name": pool.volume_backend_name,
            "vendor_name": pool.vendor_name, "driver_version": "1.0", "storage_protocol": pool.storage_protocol,
            "total_capacity_gb": round(pool.total_gb, 2), "free_capacity_gb": round(pool.free_gb, 2),
            "provisioned_capacity_gb": round(pool.provisioned_gb, 2),
            "allocated_capacity_gb": pool.allocated_gb,
            "max_over_subscription_ratio": pool.max_over_subscription_ratio,
            "reserved_percentage": pool.reserved_percentage,
            "thin_provisioning_support": pool.thin_provisioning,
            "thick_provisioning_support": not pool.thin_provisioning,
            "multiattach": pool.multiattach, "timestamp": isotime(pool.updated_at),
            "availability_zone": pool.availability_zone,
            "virtual_free_capacity_gb": round(capacity(pool) - pool.allocated_gb, 2),
            "online_extend_support": "online_extend" in pool.capabilities,
        }




class AvailabilityZones:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("The volume availability zones", responses={200: {"type": "object",
                                                                "required": ["availabilityZoneInfo"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "volume_extension:availability_zone_list", {"project_id": context(req).project_id})
        with self.service.db.reading() as session:
            zones = set(session.scalars(sa.select(models.Pool.availability_zone).distinct()))
        zones.add(self.service.conf.volume.default_availability_zone)
        resp.media = {"availabilityZoneInfo": [{"zoneName": z, "zoneState": {"available": True}}
                                               for z in sorted(zones)]}


#: the list filters each resource takes (``resource_filters``, 3.33)
RESOURCE_FILTERS = {
    "volume": ["name", "status", "metadata", "bootable", "availability_zone", "size", "glance_metadata",
               "group_id"],
    "snapshot": ["name", "status", "volume_id", "metadata"],
    "attachment": ["volume_id", "status", "instance_id"],
    "pool": ["name", "volume_type"],
}


class ResourceFilters:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @schema("The list filters each resource takes (3.33; resource= for one)",
            responses={200: {"type": "object", "required": ["resource_filters"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not at_least(req, "3.33"):
            from stratus.exceptions import NotFound

            raise NotFound("The resource could not be found: resource_filters needs microversion 3.33 or later.")
        wanted = req.get_param("resource")
        resp.media = {"resource_filters": [{"resource": name, "filters": filters}
                                           for name, filters in RESOURCE_FILTERS.items()
                                           if wanted in (None, name)]}


class ServiceChange:
    """``PUT /os-services/{enable,disable,disable-log-reason}``: take a volume service (or the
    scheduler) out of placement and back. A disabled volume service keeps serving its volumes;
    the scheduler places no new ones on it."""

    ACTIONS = ("enable", "disable", "disable-log-reason")

    def __init__(self, service: VolumeService, policy: Policy, registry: ServiceRegistry) -> None:
        self.service, self.policy, self.registry = service, policy, registry

    @schema("Enable or disable a block-storage service (host and binary in the body)", request={
        "type": "object", "required": ["host"], "properties": {
            "host": {"type": "string", "minLength": 1, "maxLength": 255},
            "binary": {"type": "string", "maxLength": 255},
            "disabled_reason": {"type": ["string", "null"], "maxLength": 255}}},
        responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, action: str) -> None:
        from stratus.exceptions import Invalid, NotFound
        from stratus.servicegroup.models import ServiceRecord

        enforce(req, self.policy, "volume_extension:services:update", {"project_id": context(req).project_id})
        if action not in self.ACTIONS:
            raise NotFound(f"Unknown action {action!r} (this cloud has no volume replication to freeze or thaw)")
        body = req.context.body
        binary = body.get("binary") or VOLUME_BINARY
        reason = body.get("disabled_reason")
        if action == "disable-log-reason" and (not isinstance(reason, str) or not reason.strip()):
            raise Invalid("Invalid input received: disabled_reason is required and must not be blank")
        with self.registry.db.transaction() as session:
            record = session.scalars(sa.select(ServiceRecord).where(ServiceRecord.host == body["host"],
                                                                    ServiceRecord.binary == binary)).first()
            if record is None or binary not in (VOLUME_BINARY, SCHEDULER_BINARY):
                raise NotFound(f"Service {binary} on host {body['host']} could not be found.")
            record.disabled = action != "enable"
            record.disabled_reason = reason if action == "disable-log-reason" else None
            resp.media = {"host": record.host, "binary": record.binary,
                          "status": "disabled" if record.disabled else "enabled", "disabled": record.disabled,
                          **({"disabled_reason": reason} if action == "disable-log-reason" else {})}
