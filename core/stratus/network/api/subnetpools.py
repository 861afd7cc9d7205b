"""``/v2.0/subnetpools`` (subnet_allocation, default-subnetpools, subnetpool-prefix-ops) and
``/v2.0/address-scopes`` (address-scope). A pool or scope is seen by its project and, when
shared, by everyone; only administrators share them or mark a pool the default."""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Invalid
from stratus.network import errors, models, subnetpools, tags
from stratus.network.api import common
from stratus.network.api.query import Attribute, Collection, fields_of, iso, parse_bool, project, respond_list
from stratus.network.service import NetworkService

Pool, Scope = models.SubnetPool, models.AddressScope
_NAME = {"type": "string", "maxLength": 255}
_PREFIXLEN = common.integer({"type": "integer", "minimum": 0, "maximum": 128})
_QUOTA = {"anyOf": [{"type": "null"}, common.integer({"type": "integer", "minimum": 0})]}
_PREFIXES = {"type": "array", "items": {"type": "string", "maxLength": 64}}
_POOL_WRITABLE = {"name": _NAME, "description": _NAME, "prefixes": _PREFIXES, "default_prefixlen": _PREFIXLEN,
                  "min_prefixlen": _PREFIXLEN, "max_prefixlen": _PREFIXLEN, "default_quota": _QUOTA,
                  "is_default": {"type": "boolean"}, "address_scope_id": {"type": ["string", "null"]}}
POOL_CREATE = {"type": "object", "required": ["subnetpool"], "properties": {"subnetpool": {
    "type": "object", "required": ["prefixes"], "additionalProperties": False, "properties": {
        **_POOL_WRITABLE, "shared": {"type": "boolean"}, "tenant_id": _NAME, "project_id": _NAME,
        "tags": tags.TAG_LIST}}}}
POOL_UPDATE = {"type": "object", "required": ["subnetpool"], "properties": {"subnetpool": {
    "type": "object", "additionalProperties": False, "properties": _POOL_WRITABLE}}}
PREFIX_OPS = {"type": "object", "required": ["prefixes"], "additionalProperties": False,
              "properties": {"prefixes": _PREFIXES}}
_INTEGERS = {"default_prefixlen": _PREFIXLEN["anyOf"][0], "min_prefixlen": _PREFIXLEN["anyOf"][0],
             "max_prefixlen": _PREFIXLEN["anyOf"][0]}
SCOPE_CREATE = {"type": "object", "required": ["address_scope"], "properties": {"address_scope": {
    "type": "object", "required": ["ip_version"], "additionalProperties": False, "properties": {
        "name": _NAME, "shared": {"type": "boolean"}, "ip_version": common.integer({"enum": [4, 6]}),
        "tenant_id": _NAME, "project_id": _NAME}}}}
SCOPE_UPDATE = {"type": "object", "required": ["address_scope"], "properties": {"address_scope": {
    "type": "object", "additionalProperties": False, "properties": {"name": _NAME, "shared": {"type": "boolean"}}}}}
POOLS = Collection("subnetpools", Pool, {
    "id": Attribute(Pool.id), "name": Attribute(Pool.name), "description": Attribute(Pool.description),
    "tenant_id": Attribute(Pool.project_id), "project_id": Attribute(Pool.project_id),
    "ip_version": Attribute(Pool.ip_version, int), "default_prefixlen": Attribute(Pool.default_prefixlen, int),
    "min_prefixlen": Attribute(Pool.min_prefixlen, int), "max_prefixlen": Attribute(Pool.max_prefixlen, int),
    "shared": Attribute(Pool.shared, parse_bool), "is_default": Attribute(Pool.is_default, parse_bool),
    "address_scope_id": Attribute(Pool.address_scope_id, nullable=True),
    "created_at": Attribute(Pool.created_at), "updated_at": Attribute(Pool.updated_at),
    "revision_number": Attribute(Pool.revision_number, int)})
SCOPES = Collection("address_scopes", Scope, {
    "id": Attribute(Scope.id), "name": Attribute(Scope.name), "tenant_id": Attribute(Scope.project_id),
    "project_id": Attribute(Scope.project_id), "shared": Attribute(Scope.shared, parse_bool),
    "ip_version": Attribute(Scope.ip_version, int)})


def pool_view(row: models.SubnetPool) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
            "description": row.description, "prefixes": list(row.prefixes), "ip_version": row.ip_version,
            "default_prefixlen": row.default_prefixlen, "min_prefixlen": row.min_prefixlen,
            "max_prefixlen": row.max_prefixlen, "default_quota": row.default_quota, "shared": row.shared,
            "is_default": row.is_default, "address_scope_id": row.address_scope_id,
            "tags": [t.tag for t in row.tag_rows], "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "revision_number": row.revision_number}


def scope_view(row: models.AddressScope) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
            "shared": row.shared, "ip_version": row.ip_version}


def _visible(model: Any, ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else sa.or_(model.project_id == ctx.project_id, model.shared.is_(True))


def find_pool(session: Any, req: falcon.Request, pool_id: str) -> models.SubnetPool:
    row = session.scalars(sa.select(Pool).where(Pool.id == pool_id, _visible(Pool, common.context(req)))).first()
    if row is None:
        raise errors.SubnetPoolNotFound(f"Subnet pool {pool_id} could not be found.")
    return row


def find_scope(session: Any, req: falcon.Request, scope_id: str) -> models.AddressScope:
    row = session.scalars(sa.select(Scope).where(Scope.id == scope_id, _visible(Scope, common.context(req)))).first()
    if row is None:
        raise errors.AddressScopeNotFound(f"Address scope {scope_id} could not be found.")
    return row


def _one_default(session: Any, version: int, pool_id: str) -> None:
    other = session.scalars(sa.select(Pool.id).where(Pool.is_default.is_(True), Pool.ip_version == version,
                                                     Pool.id != pool_id)).first()
    if other is not None:
        raise Invalid(f"Invalid input for operation: A default subnetpool for this IP family has already been set "
                      f"(subnet pool {other}). Only one default may exist.")


def _apply(session: Any, req: falcon.Request, row: models.SubnetPool, body: dict[str, Any],
           prefixes: list[Any] | None) -> None:
    """Set ``body``'s attributes on ``row`` (new or existing), checking what Neutron checks."""
    if prefixes is not None:
        if row.prefixes:
            subnetpools.check_growth(row.prefixes, prefixes)
        if prefixes[0].version != row.ip_version:
            raise errors.PrefixVersionMismatch("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
        row.prefixes = [str(p) for p in prefixes]
    low, default, high = subnetpools.bounds(row.ip_version, body, row if row.min_prefixlen is not None else None)
    row.min_prefixlen, row.default_prefixlen, row.max_prefixlen = low, default, high
    for name in ("name", "description"):
        if name in body:
            setattr(row, name, body[name])
    if "default_quota" in body:
        row.default_quota = int(body["default_quota"]) if body["default_quota"] is not None else None
    if body.get("is_default") is not None and body["is_default"] != row.is_default:
        if body["is_default"]:
            _one_default(session, row.ip_version, row.id)
        row.is_default = body["is_default"]
    if "address_scope_id" in body and body["address_scope_id"] != row.address_scope_id:
        if body["address_scope_id"]:
            scope = find_scope(session, req, body["address_scope_id"])
            if scope.project_id != row.project_id and not scope.shared:
                raise errors.IllegalSubnetPoolAssociationToAddressScope(
                    f"Illegal subnetpool association: subnetpool {row.id} cannot be associated with address scope "
                    f"{scope.id}: the scope is neither the pool's project's nor shared.")
        row.address_scope_id = body["address_scope_id"]
    if row.address_scope_id:
        scope = session.get(Scope, row.address_scope_id)
        subnetpools.check_scope(session, row.id, row.ip_version, [ipaddress.ip_network(p) for p in row.prefixes],
                                scope)


class SubnetPools:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create a subnet pool", request=POOL_CREATE,
            responses={201: {"type": "object", "required": ["subnetpool"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["subnetpool"]
        enforce(req, self.policy, "network:create_subnetpool")
        for flag in ("shared", "is_default"):
            if body.get(flag):
                enforce(req, self.policy, f"network:create_subnetpool:{flag}")
        common.coerce(body, _INTEGERS)
        prefixes = subnetpools.parse_prefixes(body["prefixes"])
        now = common.now()
        with self.service.db.transaction() as session:
            row = Pool(id=common.new_id(), project_id=common.owner_for(req, body), name="", description="",
                       ip_version=prefixes[0].version, prefixes=[], shared=body.get("shared", False),
                       is_default=False, created_at=now, updated_at=now, revision_number=1)
            _apply(session, req, row, body, prefixes)
            session.add(row)
            session.flush()
            tags.replace(session, row, body.get("tags", ()), bump=False)
            shown = pool_view(row)
        resp.status = 201
        resp.media = {"subnetpool": project(shown, fields_of(req))}

    @schema("List subnet pools", responses={200: {"type": "object", "required": ["subnetpools"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_subnetpool")
        respond_list(self.service, req, resp, POOLS, _visible(Pool, common.context(req)),
                     lambda _, row: pool_view(row))


class SubnetPoolItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a subnet pool", responses={200: {"type": "object", "required": ["subnetpool"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, subnetpool_id: str) -> None:
        enforce(req, self.policy, "network:get_subnetpool")
        with self.service.db.reading() as session:
            resp.media = {"subnetpool": project(pool_view(find_pool(session, req, subnetpool_id)), fields_of(req))}

    @schema("Update a subnet pool (prefixes may only be added)", request=POOL_UPDATE,
            responses={200: {"type": "object", "required": ["subnetpool"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, subnetpool_id: str) -> None:
        body = req.context.body["subnetpool"]
        common.coerce(body, _INTEGERS)
        with self.service.db.transaction() as session:
            row = find_pool(session, req, subnetpool_id)
            enforce(req, self.policy, "network:update_subnetpool", {"project_id": row.project_id})
            if "is_default" in body and body["is_default"] != row.is_default:
                enforce(req, self.policy, "network:update_subnetpool:is_default")
            row = subnetpools.lock(session, row.id)
            prefixes = subnetpools.parse_prefixes(body["prefixes"]) if "prefixes" in body else None
            _apply(session, req, row, body, prefixes)
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            session.flush()
            shown = pool_view(row)
        resp.media = {"subnetpool": shown}

    @schema("Delete a subnet pool no subnet was carved from", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, subnetpool_id: str) -> None:
        with self.service.db.transaction() as session:
            row = find_pool(session, req, subnetpool_id)
            enforce(req, self.policy, "network:delete_subnetpool", {"project_id": row.project_id})
            row = subnetpools.lock(session, row.id)
            if session.scalar(sa.select(sa.func.count()).select_from(models.Subnet).where(
                    models.Subnet.subnetpool_id == row.id)):
                raise errors.SubnetPoolInUse(f"Unable to complete operation on subnet pool {row.id}. Subnets are "
                                             "allocated from it.")
            session.delete(row)
        resp.status = 204


class SubnetPoolPrefixes:
    """``PUT /v2.0/subnetpools/{id}/add_prefixes`` and ``.../remove_prefixes``
    (subnetpool-prefix-ops). A prefix a subnet was carved from cannot be removed."""

    def __init__(self, service: NetworkService, policy: Policy, adding: bool) -> None:
        self.service, self.policy, self.adding = service, policy, adding

    @schema("Add prefixes to a subnet pool, or remove unused ones", request=PREFIX_OPS,
            responses={200: {"type": "object", "required": ["prefixes"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, subnetpool_id: str) -> None:
        given = subnetpools.parse_prefixes(req.context.body["prefixes"])
        with self.service.db.transaction() as session:
            row = find_pool(session, req, subnetpool_id)
            enforce(req, self.policy, "network:update_subnetpool", {"project_id": row.project_id})
            row = subnetpools.lock(session, row.id)
            if given[0].version != row.ip_version:
                raise errors.PrefixVersionMismatch("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
            current = [ipaddress.ip_network(p) for p in row.prefixes]
            if self.adding:
                merged = list(ipaddress.collapse_addresses([*current, *given]))  # type: ignore[arg-type]
            else:
                merged = subnetpools.free_blocks(current, given)
                merged = list(ipaddress.collapse_addresses(merged))  # type: ignore[arg-type]
                for used in subnetpools.allocated(session, row):
                    if not any(used.subnet_of(p) for p in merged):  # type: ignore[arg-type]
                        raise errors.IllegalSubnetPoolPrefixUpdate(
                            f"Illegal update to prefixes: subnet {used} of the pool lies in a prefix being removed.")
                if not merged:
                    raise errors.EmptySubnetPoolPrefixList("Empty subnet pool prefix list.")
            row.prefixes = [str(p) for p in merged]
            if row.address_scope_id:
                subnetpools.check_scope(session, row.id, row.ip_version, merged, session.get(Scope,
                                                                                            row.address_scope_id))
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            resp.media = {"prefixes": list(row.prefixes)}


class AddressScopes:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create an address scope", request=SCOPE_CREATE,
            responses={201: {"type": "object", "required": ["address_scope"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["address_scope"]
        enforce(req, self.policy, "network:create_address_scope")
        if body.get("shared"):
            enforce(req, self.policy, "network:create_address_scope:shared")
        common.coerce(body, {"ip_version": {"enum": [4, 6]}})
        now = common.now()
        row = Scope(id=common.new_id(), project_id=common.owner_for(req, body), name=body.get("name", ""),
                    description="", shared=body.get("shared", False), ip_version=int(body["ip_version"]),
                    created_at=now, updated_at=now, revision_number=1)
        with self.service.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"address_scope": project(scope_view(row), fields_of(req))}

    @schema("List address scopes", responses={200: {"type": "object", "required": ["address_scopes"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_address_scope")
        respond_list(self.service, req, resp, SCOPES, _visible(Scope, common.context(req)),
                     lambda _, row: scope_view(row))


class AddressScopeItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show an address scope", responses={200: {"type": "object", "required": ["address_scope"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, address_scope_id: str) -> None:
        enforce(req, self.policy, "network:get_address_scope")
        with self.service.db.reading() as session:
            resp.media = {"address_scope": project(scope_view(find_scope(session, req, address_scope_id)),
                                                   fields_of(req))}

    @schema("Update an address scope (a shared one stays shared)", request=SCOPE_UPDATE,
            responses={200: {"type": "object", "required": ["address_scope"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, address_scope_id: str) -> None:
        body = req.context.body["address_scope"]
        with self.service.db.transaction() as session:
            row = find_scope(session, req, address_scope_id)
            enforce(req, self.policy, "network:update_address_scope", {"project_id": row.project_id})
            if "shared" in body and body["shared"] != row.shared:
                enforce(req, self.policy, "network:update_address_scope:shared")
                if not body["shared"]:
                    raise errors.AddressScopeUpdateError(f"Unable to update address scope {row.id}: Shared address "
                                                         "scope can't be unshared.")
                row.shared = True
            if "name" in body:
                row.name = body["name"]
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            resp.media = {"address_scope": scope_view(row)}

    @schema("Delete an address scope no subnet pool is in", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, address_scope_id: str) -> None:
        with self.service.db.transaction() as session:
            row = find_scope(session, req, address_scope_id)
            enforce(req, self.policy, "network:delete_address_scope", {"project_id": row.project_id})
            if session.scalar(sa.select(sa.func.count()).select_from(Pool).where(Pool.address_scope_id == row.id)):
                raise errors.AddressScopeInUse(f"Unable to complete operation on address scope {row.id}. There are "
                                               "one or more subnet pools in use on the address scope.")
            session.delete(row)
        resp.status = 204
