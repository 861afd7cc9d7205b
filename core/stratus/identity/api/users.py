"""``/v3/users`` and ``/v3/groups``: through the configured auth backend.

A read-only backend (LDAP) answers writes with 403, naming the backend.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid, NotAuthenticated, NotFound, UnsupportedOperation
from stratus.identity.api.common import base_url, collection, new_id
from stratus.identity.api.views import group_view, project_view, user_view
from stratus.identity.domain_backends import DomainBackends
from stratus.identity.service import IdentityService
from stratus.interfaces.auth import AuthCapability, Group, ListQuery, User
from stratus.interfaces.base import require

_USER_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "domain_id": {"type": "string", "minLength": 1, "maxLength": 64},
    "password": {"type": ["string", "null"]},
    "enabled": {"type": "boolean"},
    "email": {"type": ["string", "null"], "maxLength": 255},
    "description": {"type": ["string", "null"]},
    "default_project_id": {"type": ["string", "null"], "maxLength": 64},
    "options": {"type": "object"},
}
USER_CREATE = {"type": "object", "required": ["user"], "properties": {"user": {
    "type": "object", "required": ["name"], "properties": _USER_FIELDS}}}
USER_UPDATE = {"type": "object", "required": ["user"], "properties": {"user": {
    "type": "object", "minProperties": 1, "properties": _USER_FIELDS,
    "not": {"required": ["domain_id"]}}}}
PASSWORD_CHANGE = {"type": "object", "required": ["user"], "properties": {"user": {
    "type": "object", "required": ["password", "original_password"], "additionalProperties": False,
    "properties": {"password": {"type": "string", "minLength": 1}, "original_password": {"type": "string"}}}}}
_GROUP_FIELDS = {"name": {"type": "string", "minLength": 1, "maxLength": 64},
                 "domain_id": {"type": "string", "minLength": 1, "maxLength": 64},
                 "description": {"type": ["string", "null"]}}
GROUP_CREATE = {"type": "object", "required": ["group"], "properties": {"group": {
    "type": "object", "required": ["name"], "properties": _GROUP_FIELDS}}}
GROUP_UPDATE = {"type": "object", "required": ["group"], "properties": {"group": {
    "type": "object", "minProperties": 1, "properties": {k: _GROUP_FIELDS[k] for k in ("name", "description")}}}}
#: what a group's body may hold besides its extra attributes (kept and shown, as Keystone's)
_GROUP_KNOWN = {"id", "name", "domain_id", "description", "links"}


def writable(identity: IdentityService, what: str, domain_id: str) -> Any:
    """The backend, once sure it takes ``what`` in ``domain_id`` (403 otherwise: LDAP and the
    like are read-only, and so is a domain's own backend)."""
    backend = identity.backend
    try:
        routed = isinstance(backend, DomainBackends)
        require(backend.for_domain(domain_id) if routed else backend, AuthCapability.WRITE, what)
        if routed:
            backend.writable(domain_id, what)
    except UnsupportedOperation as exc:
        raise Forbidden(f"{exc}; users and groups are read-only here") from None
    return backend


def _domain_for(identity: IdentityService, req: falcon.Request, domain_id: str | None, field: str) -> str:
    domain_id = domain_id or req.context.stratus.domain_id or identity.conf.identity.default_domain_id
    identity.store.get_domain(domain_id)  # 404 for an unknown domain, as Keystone answers
    return domain_id


def _check_project(identity: IdentityService, project_id: str | None) -> None:
    if project_id:
        try:
            identity.store.get_project(project_id)
        except NotFound:
            raise Invalid(f"Invalid input for field/attribute user/default_project_id. Could not find project: "
                          f"{project_id}.") from None


class Users:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a user", request=USER_CREATE, responses={201: {"type": "object", "required": ["user"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_user")
        body = req.context.body["user"]
        domain_id = _domain_for(self.identity, req, body.get("domain_id"), "user/domain_id")
        _check_project(self.identity, body.get("default_project_id"))
        extra = {k: v for k, v in body.items() if k not in _USER_FIELDS}
        user = User(new_id(), body["name"], domain_id, body.get("enabled", True), body.get("email"),
                    body.get("description"), body.get("default_project_id"), extra)
        created = writable(self.identity, "Creating a user", domain_id).create_user(user, body.get("password"))
        resp.status = 201
        resp.media = {"user": user_view(created, base_url(req, self.identity.conf))}

    @schema("List users", responses={200: {"type": "object", "required": ["users"]}},
            query={k: {"type": "string"} for k in ("name", "domain_id", "enabled")})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_users")
        base = base_url(req, self.identity.conf)
        query = ListQuery(domain_id=req.get_param("domain_id"))
        users = [user_view(u, base) for u in self.identity.backend.list_users(query)]
        resp.media = collection(req, self.identity.conf, "users", users, ("name", "domain_id", "enabled", "id"))


class UserItem:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a user", responses={200: {"type": "object", "required": ["user"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:get_user", {"target_user_id": user_id})
        resp.media = {"user": user_view(self.identity.backend.get_user(user_id), base_url(req, self.identity.conf))}

    @schema("Update a user (an administrator may set the password)", request=USER_UPDATE,
            responses={200: {"type": "object", "required": ["user"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:update_user")
        body = req.context.body["user"]
        current = self.identity.backend.get_user(user_id)
        backend = writable(self.identity, "Updating a user", current.domain_id)
        _check_project(self.identity, body.get("default_project_id"))
        changes = {k: body[k] for k in ("name", "enabled", "email", "description", "default_project_id") if k in body}
        extra = {**current.extra, **{k: v for k, v in body.items() if k not in _USER_FIELDS}}
        updated = backend.update_user(dataclasses.replace(current, extra=extra, **changes))
        if body.get("password"):
            backend.set_password(user_id, body["password"])
        if (current.enabled and not updated.enabled) or body.get("password"):
            self.identity.revoke(user_id=user_id)
        resp.media = {"user": user_view(updated, base_url(req, self.identity.conf))}

    @schema("Delete a user", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:delete_user")
        domain_id = self.identity.backend.get_user(user_id).domain_id
        writable(self.identity, "Deleting a user", domain_id).delete_user(user_id)
        self.identity.store.delete_assignments_of(user_id)
        self.identity.revoke(user_id=user_id)
        resp.status = 204


class UserPassword:
    """``POST /v3/users/{user_id}/password``: a user changes their own password. As Keystone's,
    it needs no token (a user whose password expired has none): the original password is the
    proof; a wrong one, or an unknown user, is 401."""

    auth_required = False

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Change one's own password (no token needed: the original password proves who asks)",
            request=PASSWORD_CHANGE, responses={204: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        body = req.context.body["user"]
        backend = self.identity.backend
        try:
            require(backend, AuthCapability.PASSWORD_CHANGE, "Changing a password")
        except UnsupportedOperation as exc:
            raise Forbidden(str(exc)) from None
        try:
            backend.authenticate(user_id, body["original_password"])
        except (NotAuthenticated, NotFound):
            raise NotAuthenticated("Error when changing user password: the user or the original password is not "
                                   "correct.") from None
        backend.set_password(user_id, body["password"])
        self.identity.revoke(user_id=user_id)
        resp.status = 204


class UserProjects:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Projects a user has a role on", responses={200: {"type": "object", "required": ["projects"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:list_user_projects", {"target_user_id": user_id})
        self.identity.backend.get_user(user_id)
        groups = [g.id for g in self.identity.backend.list_groups_for_user(user_id)]
        base = base_url(req, self.identity.conf)
        projects = [project_view(p, base) for p in self.identity.store.projects_for(user_id, groups)]
        resp.media = collection(req, self.identity.conf, "projects", projects, ("name", "domain_id", "enabled"))


class UserGroups:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Groups a user belongs to", responses={200: {"type": "object", "required": ["groups"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        enforce(req, self.policy, "identity:list_groups_for_user", {"target_user_id": user_id})
        base = base_url(req, self.identity.conf)
        groups = [group_view(g, base) for g in self.identity.backend.list_groups_for_user(user_id)]
        resp.media = collection(req, self.identity.conf, "groups", groups, ("name", "domain_id"))


class Groups:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a group", request=GROUP_CREATE, responses={201: {"type": "object", "required": ["group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_group")
        body = req.context.body["group"]
        domain_id = _domain_for(self.identity, req, body.get("domain_id"), "group/domain_id")
        group = writable(self.identity, "Creating a group", domain_id).create_group(
            Group(new_id(), body["name"], domain_id, body.get("description"),
                  {k: v for k, v in body.items() if k not in _GROUP_KNOWN}))
        resp.status = 201
        resp.media = {"group": group_view(group, base_url(req, self.identity.conf))}

    @schema("List groups", responses={200: {"type": "object", "required": ["groups"]}},
            query={k: {"type": "string"} for k in ("name", "domain_id")})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_groups")
        base = base_url(req, self.identity.conf)
        groups = [group_view(g, base)
                  for g in self.identity.backend.list_groups(ListQuery(domain_id=req.get_param("domain_id")))]
        resp.media = collection(req, self.identity.conf, "groups", groups, ("name", "domain_id", "id"))


class GroupItem:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a group", responses={200: {"type": "object", "required": ["group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:get_group")
        resp.media = {"group": group_view(self.identity.backend.get_group(group_id),
                                          base_url(req, self.identity.conf))}

    @schema("Update a group", request=GROUP_UPDATE, responses={200: {"type": "object", "required": ["group"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:update_group")
        current = self.identity.backend.get_group(group_id)
        backend = writable(self.identity, "Updating a group", current.domain_id)
        body = req.context.body["group"]
        if "domain_id" in body and body["domain_id"] != current.domain_id:
            raise Invalid("Cannot change the domain_id of a group.")
        extra = {**current.extra, **{k: v for k, v in body.items() if k not in _GROUP_KNOWN}}
        updated = backend.update_group(dataclasses.replace(
            current, extra=extra, **{k: v for k, v in body.items() if k in ("name", "description")}))
        resp.media = {"group": group_view(updated, base_url(req, self.identity.conf))}

    @schema("Delete a group", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:delete_group")
        backend = writable(self.identity, "Deleting a group", self.identity.backend.get_group(group_id).domain_id)
        members = [u.id for u in backend.list_users_in_group(group_id)]
        backend.delete_group(group_id)
        self.identity.store.delete_assignments_of(group_id)
        for user_id in members:
            self.identity.revoke(user_id=user_id)
        resp.status = 204


class GroupUsers:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Members of a group", responses={200: {"type": "object", "required": ["users"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:list_users_in_group")
        base = base_url(req, self.identity.conf)
        users = [user_view(u, base) for u in self.identity.backend.list_users_in_group(group_id)]
        resp.media = collection(req, self.identity.conf, "users", users, ("name", "domain_id", "enabled"))


class GroupMember:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Add a user to a group", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, group_id: str, user_id: str) -> None:
        enforce(req, self.policy, "identity:add_user_to_group")
        domain_id = self.identity.backend.get_group(group_id).domain_id
        writable(self.identity, "Changing group membership", domain_id).add_user_to_group(user_id, group_id)
        resp.status = 204

    @schema("Check membership", responses={204: None, 404: None})
    def on_head(self, req: falcon.Request, resp: falcon.Response, group_id: str, user_id: str) -> None:
        enforce(req, self.policy, "identity:check_user_in_group")
        if user_id not in {u.id for u in self.identity.backend.list_users_in_group(group_id)}:
            raise NotFound(f"User {user_id} is not a member of group {group_id}.")
        resp.status = 204

    on_get = on_head

    @schema("Remove a user from a group", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str, user_id: str) -> None:
        enforce(req, self.policy, "identity:remove_user_from_group")
        domain_id = self.identity.backend.get_group(group_id).domain_id
        writable(self.identity, "Changing group membership", domain_id).remove_user_from_group(user_id, group_id)
        self.identity.revoke(user_id=user_id)  # roles held through the group are gone
        resp.status = 204
