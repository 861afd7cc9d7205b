"""``os-services`` (administrators): the cloud's services, by database id before 2.53 and
by uuid from it (Nova v2.1).

Before 2.53 a service changes through ``PUT /os-services/{enable|disable|
disable-log-reason|force-down}`` with ``host`` and ``binary`` in the body; from 2.53
through ``PUT /os-services/{uuid}`` with ``status``/``disabled_reason``/``forced_down``,
answered with the whole service. Deleting a compute service removes its nodes and its
aggregate memberships too; one that still hosts servers or takes part in an unfinished
migration is kept (409). A compute service whose process still runs registers itself
again at its next heartbeat.
"""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema, validate
from stratus.compute import models
from stratus.compute.api.common import context, is_uuid
from stratus.compute.api.microversions import at_least
from stratus.compute.binaries import COMPUTE as BINARY
from stratus.compute.zones import host_zones
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.servicegroup.models import ServiceRecord

ACTIONS = ("enable", "disable", "disable-log-reason", "force-down")
UNFINISHED = ("pre-migrating", "migrating", "post-migrating", "finished", "confirming", "reverting")


def zones(compute: Any) -> dict[str, str]:
    """The availability zone of each compute host in one (from aggregates)."""
    with compute.db.transaction() as session:
        return host_zones(session)


def view(req: falcon.Request, compute: Any, record: ServiceRecord, zone: str | None = None) -> dict[str, Any]:
    up = compute.registry.is_up(record)
    conf = compute.conf.compute
    body = {"id": record.uuid if at_least(req, "2.53") else record.id, "binary": record.binary, "host": record.host,
            "zone": (zone or conf.default_availability_zone) if record.binary == BINARY
            else conf.internal_service_availability_zone,
            "status": "disabled" if record.disabled else "enabled", "state": "up" if up else "down",
            "updated_at": record.updated_at.isoformat() if record.updated_at else None,
            "disabled_reason": record.disabled_reason}
    if at_least(req, "2.11"):
        body["forced_down"] = record.forced_down
    return body


class Services:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List services (filters host, binary)", responses={200: {"type": "object", "required": ["services"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-services:list")
        query = sa.select(ServiceRecord).order_by(ServiceRecord.id)
        for name in ("binary", "host"):
            if req.params.get(name):
                query = query.where(getattr(ServiceRecord, name) == req.params[name])
        host_zones = zones(self.compute)
        with self.compute.services_db.transaction() as session:
            resp.media = {"services": [view(req, self.compute, r, host_zones.get(r.host))
                                       for r in session.scalars(query)]}


OLD_CHANGE = {"type": "object", "required": ["host", "binary"], "properties": {
    "host": {"type": "string", "minLength": 1, "maxLength": 255},
    "binary": {"type": "string", "minLength": 1, "maxLength": 255},
    "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
    "forced_down": {"type": "boolean"}}}
CHANGE = {"type": "object", "additionalProperties": False, "properties": {
    "status": {"type": "string", "enum": ["enabled", "disabled"]},
    "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
    "forced_down": {"type": "boolean"}}}


class ServiceItem:
    """``PUT`` (a change) and ``DELETE`` of one service; ``service_id`` is the action name
    before 2.53 for ``PUT``."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    def _record(self, session: Any, req: falcon.Request, service_id: str) -> ServiceRecord:
        if at_least(req, "2.53"):
            if not is_uuid(service_id):
                raise Invalid(f"Invalid uuid {service_id}")
            record = session.scalar(sa.select(ServiceRecord).where(ServiceRecord.uuid == service_id))
        else:
            if not service_id.isdigit():
                raise Invalid(f"Invalid input for field/attribute id. Value: {service_id}. "
                              f"'{service_id}' is not an integer")
            record = session.get(ServiceRecord, int(service_id))
        if record is None:
            raise NotFound(f"Service {service_id} not found.")
        return record

    @schema("Change a service: before 2.53 the action in the path and host/binary in the body; from 2.53 "
            "its uuid in the path and status/disabled_reason/forced_down in the body",
            request={"type": "object"}, responses={200: {"type": "object", "required": ["service"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, service_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-services:update")
        body = req.context.body
        if not at_least(req, "2.53"):
            if service_id not in ACTIONS or (service_id == "force-down" and not at_least(req, "2.11")):
                raise NotFound("Unknown action")
            validate(OLD_CHANGE, body)
            resp.media = {"service": self._old_change(service_id, body)}
            self.compute.host_states_changed(context(req))
            return
        validate(CHANGE, body)
        host_zones = zones(self.compute)
        with self.compute.services_db.transaction() as session:
            record = self._record(session, req, service_id)
            if record.binary != BINARY:
                raise Invalid(f"Updating a {record.binary} service is not supported. Only {BINARY} services "
                              "can be updated.")
            if not {"status", "forced_down"} & set(body):
                raise Invalid("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
            if body.get("status") == "enabled":
                if body.get("disabled_reason"):
                    raise Invalid("Specifying 'disabled_reason' with status 'enabled' is invalid.")
                record.disabled, record.disabled_reason = False, None
            elif body.get("status") == "disabled":
                record.disabled, record.disabled_reason = True, body.get("disabled_reason")
            if "forced_down" in body:
                record.forced_down = body["forced_down"]
            session.flush()
            resp.media = {"service": view(req, self.compute, record, host_zones.get(record.host))}
        self.compute.host_states_changed(context(req))

    def _old_change(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        where = (ServiceRecord.host == body["host"]) & (ServiceRecord.binary == body["binary"])
        if action == "force-down":
            if "forced_down" not in body:
                raise Invalid("Missing forced_down field")
            values: dict[str, Any] = {"forced_down": body["forced_down"]}
            answer = {"host": body["host"], "binary": body["binary"], "forced_down": body["forced_down"]}
        else:
            reason = body.get("disabled_reason") if action == "disable-log-reason" else None
            if action == "disable-log-reason" and not reason:
                raise Invalid("Missing disabled reason field")
            values = {"disabled": action != "enable", "disabled_reason": reason}
            answer = {"host": body["host"], "binary": body["binary"],
                      "status": "enabled" if action == "enable" else "disabled"}
            if reason:
                answer["disabled_reason"] = reason
        with self.compute.services_db.transaction() as session:
            if not session.execute(sa.update(ServiceRecord).where(where).values(values)).rowcount:
                raise NotFound(f"Compute host {body['host']} could not be found.")
        return answer

    @schema("Delete a service (a compute service with its nodes; 409 while it hosts servers or migrations)",
            responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, service_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-services:delete")
        with self.compute.services_db.transaction() as session:
            record = self._record(session, req, service_id)
            host, binary, record_id = record.host, record.binary, record.id
        if binary == BINARY:
            with self.compute.db.transaction() as session:
                hosted = session.scalar(sa.select(sa.func.count()).select_from(models.Instance).where(
                    models.Instance.host == host, models.Instance.deleted.is_(False)))
                if hosted:
                    raise Conflict("Unable to delete compute service that is hosting instances. Migrate or "
                                   "delete the instances first.")
                moving = session.scalar(sa.select(sa.func.count()).select_from(models.Migration).where(
                    sa.or_(models.Migration.source_compute == host, models.Migration.dest_compute == host),
                    models.Migration.status.in_(UNFINISHED)))
                if moving:
                    raise Conflict(f"Unable to delete compute service that has in-progress migrations. "
                                   f"Complete the migrations or delete the instances first. Host: {host}")
                session.execute(sa.delete(models.ComputeNode).where(models.ComputeNode.host == host))
                session.execute(sa.delete(models.AggregateHost).where(models.AggregateHost.host == host))
        with self.compute.services_db.transaction() as session:
            session.execute(sa.delete(ServiceRecord).where(ServiceRecord.id == record_id))
        self.compute.host_states_changed(context(req))
        resp.status = 204
