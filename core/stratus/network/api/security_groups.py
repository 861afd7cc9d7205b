"""``/v2.0/security-groups`` and ``/v2.0/security-group-rules``."""

from __future__ import annotations

import uuid
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.interfaces.network import Operation, ResourceType
from stratus.network import errors, models, quotas, security, tags
from stratus.network.api import common, views
from stratus.network.api.query import Attribute, Collection, fields_of, parse_bool, project, respond_list
from stratus.network.service import NetworkService

Group, Rule = models.SecurityGroup, models.SecurityGroupRule
_NAME = {"type": "string", "maxLength": 255}
GROUP_CREATE = {"type": "object", "required": ["security_group"], "properties": {"security_group": {
    "type": "object", "additionalProperties": False, "properties": {
        "name": _NAME, "description": _NAME, "tenant_id": _NAME, "project_id": _NAME, "stateful": {"enum": [True]},
        "tags": tags.TAG_LIST}}}}
GROUP_UPDATE = {"type": "object", "required": ["security_group"], "properties": {"security_group": {
    "type": "object", "additionalProperties": False, "properties": {"name": _NAME, "description": _NAME}}}}
_PORT_NUMBER = {"type": ["integer", "null"]}
_PORT = common.integer(_PORT_NUMBER)
RULE_CREATE = {"type": "object", "required": ["security_group_rule"], "properties": {"security_group_rule": {
    "type": "object", "required": ["security_group_id", "direction"], "additionalProperties": False, "properties": {
        "security_group_id": {"type": "string"}, "direction": {"enum": ["ingress", "egress"]},
        "ethertype": {"enum": ["IPv4", "IPv6"]}, "protocol": {"type": ["string", "integer", "null"]},
        "port_range_min": _PORT, "port_range_max": _PORT, "remote_ip_prefix": {"type": ["string", "null"]},
        "remote_group_id": {"type": ["string", "null"]}, "description": _NAME, "tenant_id": _NAME,
        "project_id": _NAME}}}}
GROUPS = Collection("security_groups", Group, {
    "id": Attribute(Group.id), "name": Attribute(Group.name), "description": Attribute(Group.description),
    "tenant_id": Attribute(Group.project_id), "project_id": Attribute(Group.project_id),
    "stateful": Attribute(Group.stateful, parse_bool), "created_at": Attribute(Group.created_at),
    "updated_at": Attribute(Group.updated_at), "revision_number": Attribute(Group.revision_number, int)})
RULES = Collection("security_group_rules", Rule, {
    "id": Attribute(Rule.id), "security_group_id": Attribute(Rule.security_group_id),
    "direction": Attribute(Rule.direction), "ethertype": Attribute(Rule.ethertype),
    "protocol": Attribute(Rule.protocol, nullable=True), "port_range_min": Attribute(Rule.port_range_min, int, True),
    "port_range_max": Attribute(Rule.port_range_max, int, True),
    "remote_ip_prefix": Attribute(Rule.remote_ip_prefix, nullable=True),
    "remote_group_id": Attribute(Rule.remote_group_id, nullable=True), "description": Attribute(Rule.description),
    "tenant_id": Attribute(Rule.project_id), "project_id": Attribute(Rule.project_id),
    "created_at": Attribute(Rule.created_at), "updated_at": Attribute(Rule.updated_at),
    "revision_number": Attribute(Rule.revision_number, int)})


def group_visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else Group.project_id == ctx.project_id


def rule_visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else Rule.project_id == ctx.project_id


def find_group(session: Any, req: falcon.Request, group_id: str) -> models.SecurityGroup:
    row = session.scalars(sa.select(Group).where(Group.id == group_id,
                                                 group_visible(common.context(req)))).first()
    if row is None:
        raise errors.SecurityGroupNotFound(f"Security group {group_id} does not exist")
    return row


def defaults(session: Any) -> set[str]:
    return set(session.scalars(sa.select(models.DefaultSecurityGroup.security_group_id)))


def _not_default(body: dict[str, Any]) -> None:
    """:raises SecurityGroupDefaultAlreadyExists: the name is ``default`` (any case), which only the
    project's own default group may have (409, as Neutron)."""
    if str(body.get("name", "")).lower() == "default":
        raise errors.SecurityGroupDefaultAlreadyExists("Default security group already exists.")


class SecurityGroups:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Create a security group", request=GROUP_CREATE,
            responses={201: {"type": "object", "required": ["security_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body["security_group"]
        enforce(req, self.policy, "network:create_security_group")
        _not_default(body)
        owner = common.owner_for(req, body)
        with self.service.change() as change:
            security.ensure_default(change.session, owner, common.now())
            row = security.new_group(owner, body.get("name", ""), body.get("description", ""), common.now())
            quotas.check(self.service.db, change.session, self.service.conf, owner, "security_group")
            change.session.add(row)
            change.session.flush()
            tags.replace(change.session, row, body.get("tags", ()), bump=False)
            current = views.security_group(row)
            change.events.append(self.service.event(ResourceType.SECURITY_GROUP, Operation.CREATE, current))
        resp.status = 201
        resp.media = {"security_group": project(current, fields_of(req))}

    @schema("List security groups", responses={200: {"type": "object", "required": ["security_groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_security_group")
        ctx = common.context(req)
        # as Neutron: the project a listing filters on gets its default group (for an admin
        # or a service listing another project's groups before it makes that project a port)
        wanted = req.get_param("project_id") or req.get_param("tenant_id")
        owner = wanted if wanted and (ctx.is_admin or wanted == ctx.project_id) else ctx.project_id
        with self.service.db.transaction() as session:
            security.ensure_default(session, owner, common.now())
            default_ids = defaults(session)
        respond_list(self.service, req, resp, GROUPS, group_visible(ctx),
                     lambda _, row: views.security_group(row, row.id in default_ids))


class SecurityGroupItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a security group", responses={200: {"type": "object", "required": ["security_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, security_group_id: str) -> None:
        enforce(req, self.policy, "network:get_security_group")
        with self.service.db.transaction() as session:
            row = find_group(session, req, security_group_id)
            body = views.security_group(row, security.is_default(session, row))
        resp.media = {"security_group": project(body, fields_of(req))}

    @schema("Rename or describe a security group", request=GROUP_UPDATE,
            responses={200: {"type": "object", "required": ["security_group"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, security_group_id: str) -> None:
        body = req.context.body["security_group"]
        with self.service.change() as change:
            row = find_group(change.session, req, security_group_id)
            enforce(req, self.policy, "network:update_security_group", {"project_id": row.project_id})
            default = security.is_default(change.session, row)
            if default and "name" in body:
                raise errors.SecurityGroupCannotUpdateDefault("Updating default security group not allowed.")
            _not_default(body)
            original = views.security_group(row, default)
            for key, value in body.items():
                setattr(row, key, value)
            row.updated_at, row.revision_number = common.now(), row.revision_number + 1
            change.session.flush()
            current = views.security_group(row, default)
            change.events.append(self.service.event(ResourceType.SECURITY_GROUP, Operation.UPDATE, current,
                                                    original))
        resp.media = {"security_group": current}

    @schema("Delete a security group", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, security_group_id: str) -> None:
        with self.service.change() as change:
            row = find_group(change.session, req, security_group_id)
            enforce(req, self.policy, "network:delete_security_group", {"project_id": row.project_id})
            if security.is_default(change.session, row) and not common.context(req).is_admin:
                raise errors.SecurityGroupCannotRemoveDefault("Insufficient rights for removing default security "
                                                              "group.")
            if change.session.scalar(sa.select(sa.func.count()).select_from(models.PortSecurityGroup).where(
                    models.PortSecurityGroup.security_group_id == row.id)):
                raise errors.SecurityGroupInUse(f"Security Group {row.id} in use.")
            original = views.security_group(row)
            change.session.execute(sa.delete(models.DefaultSecurityGroup).where(
                models.DefaultSecurityGroup.security_group_id == row.id))
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.SECURITY_GROUP, Operation.DELETE, None, original))
        resp.status = 204


class SecurityGroupRules:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Add a rule to a security group", request=RULE_CREATE,
            responses={201: {"type": "object", "required": ["security_group_rule"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = common.coerce(req.context.body["security_group_rule"],
                             {"port_range_min": _PORT_NUMBER, "port_range_max": _PORT_NUMBER})
        fields = security.normalize_rule(body)
        with self.service.change() as change:
            group = find_group(change.session, req, body["security_group_id"])
            enforce(req, self.policy, "network:create_security_group_rule", {"project_id": group.project_id})
            if fields["remote_group_id"]:
                find_group(change.session, req, fields["remote_group_id"])
            for existing in group.rules:
                if security.same_rule(existing, fields):
                    raise errors.SecurityGroupRuleExists(f"Security group rule already exists. Rule id is "
                                                         f"{existing.id}.")
            quotas.check(self.service.db, change.session, self.service.conf, group.project_id, "security_group_rule")
            now = common.now()
            row = Rule(id=str(uuid.uuid4()), project_id=group.project_id, security_group_id=group.id,
                       description=body.get("description", ""), created_at=now, updated_at=now, revision_number=1,
                       **fields)
            change.session.add(row)
            group.revision_number += 1
            change.session.flush()
            current = views.rule(row, security.is_default(change.session, group))
            change.events.append(self.service.event(ResourceType.SECURITY_GROUP_RULE, Operation.CREATE, current))
        resp.status = 201
        resp.media = {"security_group_rule": project(current, fields_of(req))}

    @schema("List security group rules", responses={200: {"type": "object", "required": ["security_group_rules"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "network:get_security_group_rule")
        ctx = common.context(req)
        with self.service.db.transaction() as session:
            default_ids = defaults(session)
        respond_list(self.service, req, resp, RULES, rule_visible(ctx),
                     lambda _, row: views.rule(row, row.security_group_id in default_ids))


class SecurityGroupRuleItem:
    def __init__(self, service: NetworkService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def _find(self, session: Any, req: falcon.Request, rule_id: str) -> models.SecurityGroupRule:
        row = session.scalars(sa.select(Rule).where(Rule.id == rule_id, rule_visible(common.context(req)))).first()
        if row is None:
            raise errors.SecurityGroupRuleNotFound(f"Security group rule {rule_id} does not exist")
        return row

    @schema("Show a security group rule", responses={200: {"type": "object", "required": ["security_group_rule"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, security_group_rule_id: str) -> None:
        enforce(req, self.policy, "network:get_security_group_rule")
        with self.service.db.transaction() as session:
            row = self._find(session, req, security_group_rule_id)
            resp.media = {"security_group_rule": project(views.rule(row, row.security_group_id in defaults(session)),
                                                         fields_of(req))}

    @schema("Delete a security group rule", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, security_group_rule_id: str) -> None:
        with self.service.change() as change:
            row = self._find(change.session, req, security_group_rule_id)
            enforce(req, self.policy, "network:delete_security_group_rule", {"project_id": row.project_id})
            original = views.rule(row)
            change.session.delete(row)
            change.events.append(self.service.event(ResourceType.SECURITY_GROUP_RULE, Operation.DELETE, None,
                                                    original))
        resp.status = 204
