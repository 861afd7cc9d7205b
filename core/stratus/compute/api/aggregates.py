"""``/os-aggregates`` (administrators, Nova v2.1): host aggregates and the availability
zones they make.

An aggregate with ``availability_zone`` metadata is a zone; a host is in at most one
zone, and a host's zone never changes under servers it runs (Nova's 400/409s). ``uuid``
shows from 2.41; ``POST /os-aggregates/{id}/images`` (2.81) asks every host of the
aggregate to fetch images into its cache.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema, validate
from stratus.compute import models, zones
from stratus.compute.api.common import context
from stratus.compute.api.microversions import at_least
from stratus.compute.instances import utcnow
from stratus.compute.topics import TOPIC
from stratus.db.engine import insert_unless_taken
from stratus.exceptions import Conflict, Invalid, NotFound

Aggregate = models.Aggregate
_PRINTABLE = r"^(?![\s])[^\x00-\x1f\x7f]*(?<![\s])$"
NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _PRINTABLE}
ZONE = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?![\s])[^:\x00-\x1f\x7f]*"
                   r"(?<![\s])$"}, {"type": "null"}]}
HOST = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
CREATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": NAME, "availability_zone": ZONE}}}}
UPDATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "additionalProperties": False, "minProperties": 1,
                  "properties": {"name": NAME, "availability_zone": ZONE}}}}
_METADATA = {"type": "object", "additionalProperties": False, "patternProperties": {
    "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "null"], "maxLength": 255}}}
ACTIONS = {
    "add_host": {"type": "object", "required": ["host"], "additionalProperties": False,
                 "properties": {"host": HOST}},
    "remove_host": {"type": "object", "required": ["host"], "additionalProperties": False,
                    "properties": {"host": HOST}},
    "set_metadata": {"type": "object", "required": ["metadata"], "additionalProperties": False,
                     "properties": {"metadata": _METADATA}},
}
IMAGES = {"type": "object", "required": ["cache"], "additionalProperties": False, "properties": {
    "cache": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["id"], "additionalProperties": False,
        "properties": {"id": {"type": "string", "format": "uuid"}}}}}}


def _time(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def view(req: falcon.Request, row: Aggregate, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row.id, "name": row.name, "availability_zone": row.availability_zone,
                            "created_at": _time(row.created_at), "updated_at": _time(row.updated_at),
                            "deleted": False, "deleted_at": None}
    if full:
        body["hosts"] = [h.host for h in row.hosts]
        body["metadata"] = {m.key: m.value for m in row.metadata_items}
    if at_least(req, "2.41"):
        body["uuid"] = row.uuid
    return body


def _find(session: Any, aggregate_id: str) -> Aggregate:
    if not aggregate_id.removeprefix("-").isdigit():  # an integer, else 400; -1 is just not found (Nova)
        raise Invalid(f"Invalid input for field/attribute id. Value: {aggregate_id}. '{aggregate_id}' is not an "
                      "integer")
    row = session.get(Aggregate, int(aggregate_id))
    if row is None:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.")
    return row


def _servers_on(session: Any, hosts: list[str]) -> int:
    if not hosts:
        return 0
    return session.scalar(sa.select(sa.func.count()).select_from(models.Instance).where(
        models.Instance.host.in_(hosts), models.Instance.deleted.is_(False)))


def _check_zone_change(session: Any, row: Aggregate, zone: str | None, hosts: list[str] | None = None) -> None:
    """Nova's rules for a zone given to ``hosts`` (the aggregate's own by default): no empty
    name, no host already in another zone, and no servers moved to another zone under them.

    :raises Invalid: the change breaks one of them."""
    hosts = [h.host for h in row.hosts] if hosts is None else hosts
    if zone == "":
        raise Invalid(f"Aggregate {row.name} does not support empty named availability zone")
    if zone is None:
        if row.availability_zone is not None and _servers_on(session, hosts):
            raise Invalid(f"Cannot update aggregate {row.id}. Reason: One or more hosts contain instances in this "
                          "zone.")
        return
    others = sa.select(models.AggregateMetadata.value).join(
        models.AggregateHost, models.AggregateHost.aggregate_id == models.AggregateMetadata.aggregate_id).where(
        models.AggregateHost.host.in_(hosts), models.AggregateMetadata.key == zones.ZONE_KEY,
        models.AggregateMetadata.aggregate_id != row.id, models.AggregateMetadata.value != zone)
    conflicting = sorted(set(session.scalars(others)))
    if conflicting:
        raise Invalid(f"Cannot update aggregate {row.id}. Reason: One or more hosts already in availability "
                      f"zone(s) {conflicting}.")
    if zone != row.availability_zone and _servers_on(session, hosts):
        raise Invalid(f"Cannot update aggregate {row.id}. Reason: One or more hosts contain instances in this "
                      "zone.")


def _set_metadata(row: Aggregate, values: dict[str, str | None]) -> None:
    current = {m.key: m for m in row.metadata_items}
    for key, value in values.items():
        if value is None:
            if key in current:
                row.metadata_items.remove(current[key])
        elif key in current:
            current[key].value = value
        else:
            row.metadata_items.append(models.AggregateMetadata(key=key, value=value))
    row.updated_at = utcnow()


class Aggregates:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("List host aggregates", responses={200: {"type": "object", "required": ["aggregates"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-aggregates:index", {})
        with self.compute.db.reading() as session:
            resp.media = {"aggregates": [view(req, row) for row in
                                         session.scalars(sa.select(Aggregate).order_by(Aggregate.id))]}

    @schema("Create a host aggregate (an availability zone when it names one)", request=CREATE,
            responses={200: {"type": "object", "required": ["aggregate"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "os_compute_api:os-aggregates:create", {})
        body = req.context.body["aggregate"]
        zone = body.get("availability_zone")
        with self.compute.db.transaction() as session:
            row = Aggregate(uuid=str(uuidlib.uuid4()), name=body["name"], created_at=utcnow(),
                            metadata_items=[models.AggregateMetadata(key=zones.ZONE_KEY, value=zone)] if zone else [])
            if not insert_unless_taken(session, row):
                raise Conflict(f"Aggregate {body['name']} already exists.")
            resp.media = {"aggregate": view(req, row, full=False)}


class AggregateItem:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a host aggregate with its hosts and metadata",
            responses={200: {"type": "object", "required": ["aggregate"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-aggregates:show", {})
        with self.compute.db.reading() as session:
            resp.media = {"aggregate": view(req, _find(session, aggregate_id))}

    @schema("Rename a host aggregate or change its availability zone", request=UPDATE,
            responses={200: {"type": "object", "required": ["aggregate"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-aggregates:update", {})
        body = req.context.body["aggregate"]
        with self.compute.db.transaction() as session:
            row = _find(session, aggregate_id)
            if "name" in body and body["name"] != row.name:
                if session.scalar(sa.select(Aggregate.id).where(Aggregate.name == body["name"])) is not None:
                    raise Conflict(f"Aggregate {body['name']} already exists.")
                row.name = body["name"]
            if "availability_zone" in body:
                _check_zone_change(session, row, body["availability_zone"])
                _set_metadata(row, {zones.ZONE_KEY: body["availability_zone"]})
            row.updated_at = utcnow()
            try:
                with session.begin_nested():
                    session.flush()
            except sa.exc.IntegrityError:
                raise Conflict(f"Aggregate {body['name']} already exists.") from None
            resp.media = {"aggregate": view(req, row)}
        self.compute.host_states_changed(context(req))

    @schema("Delete a host aggregate (it must hold no host)", responses={200: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        enforce(req, self.policy, "os_compute_api:os-aggregates:delete", {})
        with self.compute.db.transaction() as session:
            row = _find(session, aggregate_id)
            if row.hosts:
                raise Invalid(f"Cannot remove aggregate {row.id}. Reason: Host aggregate is not empty.")
            session.delete(row)
        resp.status = 200


class AggregateAction:
    """``add_host``, ``remove_host`` and ``set_metadata`` (200 with the aggregate)."""

    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Add or remove a host, or set metadata (null removes a key)", request={"type": "object"},
            responses={200: {"type": "object", "required": ["aggregate"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        body = req.context.body
        names = [name for name in ACTIONS if name in body]
        if len(body) != 1 or not names:
            raise Invalid("Invalid request body: exactly one of add_host, remove_host or set_metadata is needed.")
        action = names[0]
        enforce(req, self.policy, f"os_compute_api:os-aggregates:{action}", {})
        validate({"type": "object", "properties": {action: ACTIONS[action]}}, body)
        with self.compute.db.transaction() as session:
            row = _find(session, aggregate_id)
            getattr(self, f"_{action}")(session, row, body[action])
            session.flush()
            resp.media = {"aggregate": view(req, row)}
        self.compute.host_states_changed(context(req))

    def _add_host(self, session: Any, row: Aggregate, body: dict[str, Any]) -> None:
        host = body["host"]
        if session.scalars(sa.select(models.ComputeNode.id).where(models.ComputeNode.host == host)).first() is None:
            raise NotFound(f"Compute host {host} could not be found.")
        if any(h.host == host for h in row.hosts):
            raise Conflict(f"Aggregate {row.id} already has host {host}.")
        zone = row.availability_zone
        if zone is not None:
            try:
                _check_zone_change(session, row, zone, [host])
            except Invalid as exc:
                raise Conflict(str(exc).replace("update", "add host to")) from None
            current = zones.zone_of(session, self.compute.conf, host)
            if current != zone and _servers_on(session, [host]):
                raise Conflict(f"Cannot add host to aggregate {row.id}. Reason: The host cannot be added to the "
                               f"aggregate as the availability zone of the host would change from '{current}' to "
                               f"'{zone}' but the host already has servers. Move them away first.")
        row.hosts.append(models.AggregateHost(host=host))
        row.updated_at = utcnow()

    def _remove_host(self, session: Any, row: Aggregate, body: dict[str, Any]) -> None:
        host = body["host"]
        member = next((h for h in row.hosts if h.host == host), None)
        if member is None:
            raise NotFound(f"Cannot remove host {host} in aggregate {row.id}")
        zone = row.availability_zone
        if zone is not None and _servers_on(session, [host]):
            after = next((v for v in zones.host_metadata(session, [host]).get(host, {}).get(zones.ZONE_KEY, ())
                          if v != zone), self.compute.conf.compute.default_availability_zone)
            if after != zone:
                raise Conflict(f"Cannot remove host from aggregate {row.id}. Reason: The host cannot be removed "
                               f"from the aggregate as the availability zone of the host would change from "
                               f"'{zone}' to '{after}' but the host already has servers. Move them away first.")
        row.hosts.remove(member)
        row.updated_at = utcnow()

    def _set_metadata(self, session: Any, row: Aggregate, body: dict[str, Any]) -> None:
        metadata = body["metadata"]
        if zones.ZONE_KEY in metadata:
            _check_zone_change(session, row, metadata[zones.ZONE_KEY])
        _set_metadata(row, metadata)


class AggregateImages:
    """``POST /os-aggregates/{id}/images`` (2.81): each host of the aggregate fetches the
    images into its cache, in the background (202)."""

    def __init__(self, compute: Any, policy: Policy, images: Any) -> None:
        self.compute, self.policy, self.images = compute, policy, images

    @schema("Ask an aggregate's hosts to cache images", request=IMAGES, responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, aggregate_id: str) -> None:
        if not at_least(req, "2.81"):
            raise NotFound("The resource could not be found.")
        enforce(req, self.policy, "compute:aggregates:images", {})
        wanted = [item["id"] for item in req.context.body["cache"]]
        if len(set(wanted)) != len(wanted):
            raise Invalid("Duplicate images in request")
        with self.compute.db.transaction() as session:
            hosts = [h.host for h in _find(session, aggregate_id).hosts]
        if self.images is not None:
            for image_id in wanted:
                image = self.images.show(image_id, context(req))
                if image is None:
                    raise Invalid(f"Image {image_id} could not be found.")
                if image.status != "active":
                    raise Invalid(f"Image {image_id} is not active.")
        for host in hosts:
            self.compute.rpc(TOPIC).cast(context(req), "cache_images", server=host, image_ids=wanted)
        resp.status = 202
