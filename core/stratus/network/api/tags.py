"""``/v2.0/{resources}/{id}/tags[/{tag}]`` (standard-attr-tag) on networks, subnets, ports,
routers, security groups and floating IPs. Who may update a resource may tag it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.network import errors, tags
from stratus.network.api import floating_ips, networks, ports, routers, security_groups, subnetpools, subnets
from stratus.network.service import NetworkService

#: collection -> (policy noun, how to find a visible row)
TAGGED: dict[str, tuple[str, Callable[[Any, falcon.Request, str], Any]]] = {
    "networks": ("network", networks.find),
    "subnets": ("subnet", subnets.find),
    "ports": ("port", ports.find),
    "routers": ("router", routers.find),
    "security-groups": ("security_group", security_groups.find_group),
    "floatingips": ("floatingip", floating_ips.find),
    "subnetpools": ("subnetpool", subnetpools.find_pool),
}
REPLACE = {"type": "object", "required": ["tags"], "properties": {"tags": tags.TAG_LIST}}
TAGS = {200: {"type": "object", "required": ["tags"]}}


class _Tags:
    def __init__(self, service: NetworkService, policy: Policy, collection: str) -> None:
        self.service, self.policy = service, policy
        self.noun, self.find = TAGGED[collection]
        self.id_name = id_name(collection)

    def _row(self, session: Any, req: falcon.Request, resource_id: str, write: bool) -> Any:
        row = self.find(session, req, resource_id)
        action = "update" if write else "get"
        enforce(req, self.policy, f"network:{action}_{self.noun}", {"project_id": row.project_id})
        return row


class ResourceTags(_Tags):
    @schema("List a resource's tags", responses=TAGS)
    def on_get(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        with self.service.db.reading() as session:
            row = self._row(session, req, path[self.id_name], False)
            resp.media = {"tags": [t.tag for t in row.tag_rows]}

    @schema("Replace a resource's tags", request=REPLACE, responses=TAGS)
    def on_put(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        with self.service.db.transaction() as session:
            row = self._row(session, req, path[self.id_name], True)
            resp.media = {"tags": tags.replace(session, row, req.context.body["tags"])}

    @schema("Add tags to a resource (those it has are kept)", request=REPLACE, responses={201: TAGS[200]})
    def on_post(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        with self.service.db.transaction() as session:
            row = self._row(session, req, path[self.id_name], True)
            tags.replace(session, row, {t.tag for t in row.tag_rows} | set(req.context.body["tags"]))
        resp.status = 201
        resp.media = {"tags": req.context.body["tags"]}

    @schema("Remove every tag of a resource", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        with self.service.db.transaction() as session:
            tags.replace(session, self._row(session, req, path[self.id_name], True), [])
        resp.status = 204


class ResourceTag(_Tags):
    @schema("Check that a resource has a tag", responses={204: None})
    def on_get(self, req: falcon.Request, resp: falcon.Response, tag: str, **path: str) -> None:
        tags.check(tag)
        with self.service.db.reading() as session:
            row = self._row(session, req, path[self.id_name], False)
            if tag not in {t.tag for t in row.tag_rows}:
                raise errors.TagNotFound(f"Tag {tag} could not be found.")
        resp.status = 204

    @schema("Add a tag to a resource", responses={201: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, tag: str, **path: str) -> None:
        with self.service.db.transaction() as session:
            tags.add(session, self._row(session, req, path[self.id_name], True), tag)
        resp.status = 201

    @schema("Remove a tag from a resource", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, tag: str, **path: str) -> None:
        tags.check(tag)
        with self.service.db.transaction() as session:
            if not tags.remove(session, self._row(session, req, path[self.id_name], True), tag):
                raise errors.TagNotFound(f"Tag {tag} could not be found.")
        resp.status = 204


def id_name(collection: str) -> str:
    """The path field the collection's item routes name its id with (``security_group_id``)."""
    return f"{collection[:-1].replace('-', '_')}_id"


def add_routes(app: Any, service: NetworkService, policy: Policy) -> None:
    for collection in TAGGED:
        item = f"/v2.0/{collection}/{{{id_name(collection)}}}"
        app.add_route(f"{item}/tags", ResourceTags(service, policy, collection))
        app.add_route(f"{item}/tags/{{tag}}", ResourceTag(service, policy, collection))
