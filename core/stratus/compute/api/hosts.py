"""``os-hosts`` (Nova v2.1, until 2.42; administrators): the cloud's hosts by service and
zone, a compute host's resources (total, in use, claimed by servers, per project), enabling
or disabling a compute host for new servers. Maintenance mode and host power actions are
not something the hypervisors here offer: 501, as Nova answers for such drivers."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import models
from stratus.compute.api.microversions import at_least
from stratus.compute.api.services import zones
from stratus.compute.binaries import COMPUTE as BINARY
from stratus.exceptions import NotFound, StratusError
from stratus.servicegroup.models import ServiceRecord

_SWITCH = {"type": "string", "enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]}
UPDATE = {"type": "object", "minProperties": 1, "additionalProperties": False,
          "properties": {"status": _SWITCH, "maintenance_mode": _SWITCH}}


class NotImplementedByHypervisor(StratusError):
    http_status = 501
    title = "Not Implemented"


def compute_node(session: Any, host: str) -> models.ComputeNode:
    """:raises NotFound: ``host`` is no compute host."""
    node = session.scalars(sa.select(models.ComputeNode).where(models.ComputeNode.host == host)).first()
    if node is None:
        raise NotFound(f"Compute host {host} could not be found.")
    return node


def _until_2_42(req: falcon.Request) -> None:
    if at_least(req, "2.43"):
        raise NotFound("The resource could not be found (os-hosts was removed in microversion 2.43).")


class Hosts:
    """``GET /os-hosts`` (``zone`` filter): every enabled service's host."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List hosts (until 2.42)", responses={200: {"type": "object", "required": ["hosts"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _until_2_42(req)
        enforce(req, self.policy, "os_compute_api:os-hosts:list")
        conf = self.compute.conf.compute
        host_zones = zones(self.compute)
        hosts = []
        for service in self.compute.registry.list():
            if service.disabled:
                continue
            zone = (host_zones.get(service.host, conf.default_availability_zone) if service.binary == BINARY
                    else conf.internal_service_availability_zone)
            hosts.append({"host_name": service.host, "service": service.topic, "zone": zone})
        wanted = req.params.get("zone")
        resp.media = {"hosts": [h for h in hosts if not wanted or h["zone"] == wanted]}


class HostItem:
    """``GET`` a compute host's resources; ``PUT`` its status (and maintenance mode: 501)."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A compute host's resources: total, in use, claimed by servers, per project (until 2.42)",
            responses={200: {"type": "object", "required": ["host"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, host_name: str) -> None:
        _until_2_42(req)
        enforce(req, self.policy, "os_compute_api:os-hosts:show")
        with self.compute.db.reading() as session:
            node = compute_node(session, host_name)
            flavors = session.execute(sa.select(models.Instance.project_id, models.Instance.flavor).where(
                models.Instance.host == host_name, models.Instance.deleted.is_(False))).all()

        def resource(project: str, cpu: int, memory: int, disk: int) -> dict[str, Any]:
            return {"resource": {"host": host_name, "project": project, "cpu": cpu, "memory_mb": memory,
                                 "disk_gb": disk}}

        def disk(flavor: dict[str, Any]) -> int:
            return int(flavor["disk"]) + int(flavor.get("ephemeral", 0))

        rows = [resource("(total)", node.vcpus, node.memory_mb, node.local_gb),
                resource("(used_now)", node.vcpus_used, node.memory_mb_used, node.local_gb_used),
                resource("(used_max)", sum(int(f["vcpus"]) for _, f in flavors),
                         sum(int(f["ram"]) for _, f in flavors), sum(disk(f) for _, f in flavors))]
        projects: dict[str, list[int]] = {}
        for project, flavor in flavors:
            totals = projects.setdefault(project, [0, 0, 0])
            totals[0] += int(flavor["vcpus"])
            totals[1] += int(flavor["ram"])
            totals[2] += disk(flavor)
        rows += [resource(project, *totals) for project, totals in projects.items()]
        resp.media = {"host": rows}

    @schema("Enable or disable a compute host for new servers (maintenance mode: 501; until 2.42)",
            request=UPDATE, responses={200: {"type": "object", "required": ["host"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, host_name: str) -> None:
        _until_2_42(req)
        enforce(req, self.policy, "os_compute_api:os-hosts:update")
        body = req.context.body
        with self.compute.db.reading() as session:
            compute_node(session, host_name)
        answer: dict[str, Any] = {"host": host_name}
        if "maintenance_mode" in body:
            raise NotImplementedByHypervisor("Maintenance mode is not offered by this cloud's hypervisors.")
        enabled = body["status"].lower() == "enable"
        with self.compute.services_db.transaction() as session:
            changed = session.execute(sa.update(ServiceRecord).where(
                ServiceRecord.host == host_name, ServiceRecord.binary == BINARY).values(
                disabled=not enabled, disabled_reason=None if enabled else "disabled through os-hosts")).rowcount
        if not changed:
            raise NotFound(f"Compute host {host_name} could not be found.")
        self.compute.host_states_changed(req.context.stratus)
        answer["status"] = "enabled" if enabled else "disabled"
        resp.media = answer


class HostPowerAction:
    """``GET /os-hosts/{host}/startup|shutdown|reboot``: 501, no hypervisor here powers its host."""

    def __init__(self, compute: Any, policy: Policy, action: str) -> None:
        self.compute, self.policy, self.action = compute, policy, action

    @schema("Power a host up, down or reboot it: not offered here (501; until 2.42)", responses={501: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, host_name: str) -> None:
        _until_2_42(req)
        enforce(req, self.policy, f"os_compute_api:os-hosts:{'start' if self.action == 'startup' else self.action}")
        with self.compute.db.reading() as session:
            compute_node(session, host_name)
        raise NotImplementedByHypervisor(f"Host {self.action} is not offered by this cloud's hypervisors.")
