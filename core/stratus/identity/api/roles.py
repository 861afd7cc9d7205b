"""``/v3/roles``, role grants on projects, domains and the system, and ``/v3/role_assignments``."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Forbidden, Invalid, NotFound
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id, parse_bool
from stratus.identity.api.views import role_view
from stratus.identity.service import IdentityService

_ROLE_FIELDS = {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                "domain_id": {"type": ["string", "null"], "maxLength": 64},
                "description": {"type": ["string", "null"], "maxLength": 255}, "options": {"type": "object"}}
ROLE_CREATE = {"type": "object", "required": ["role"], "properties": {"role": {
    "type": "object", "required": ["name"], "properties": _ROLE_FIELDS}}}
ROLE_UPDATE = {"type": "object", "required": ["role"], "properties": {"role": {
    "type": "object", "minProperties": 1, "properties": {k: _ROLE_FIELDS[k] for k in ("name", "description")}}}}

_TYPES = {("project", "user"): "UserProject", ("project", "group"): "GroupProject",
          ("domain", "user"): "UserDomain", ("domain", "group"): "GroupDomain",
          ("system", "user"): "UserSystem", ("system", "group"): "GroupSystem"}


def _get_role(identity: IdentityService, role_id: str) -> models.Role:
    with identity.db.transaction() as session:
        role = session.get(models.Role, role_id)
    if role is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return role


class Roles:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Create a role", request=ROLE_CREATE, responses={201: {"type": "object", "required": ["role"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_role")
        body = req.context.body["role"]
        if body.get("domain_id"):
            self.identity.store.get_domain(body["domain_id"])
        row = models.Role(id=new_id(), name=body["name"], domain_id=body.get("domain_id") or models.GLOBAL,
                          description=body.get("description"))
        with conflict_on_duplicate(f"Conflict occurred attempting to store role - Duplicate entry for "
                                   f"{body['name']}."), self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"role": role_view(row, base_url(req, self.identity.conf))}

    @schema("List roles", responses={200: {"type": "object", "required": ["roles"]}},
            query={"name": {"type": "string"}, "domain_id": {"type": "string"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_roles")
        domain = req.get_param("domain_id") or models.GLOBAL
        with self.identity.db.transaction() as session:
            rows = session.scalars(sa.select(models.Role).where(models.Role.domain_id == domain)).all()
        base = base_url(req, self.identity.conf)
        resp.media = collection(req, self.identity.conf, "roles", [role_view(r, base) for r in rows], ("name", "id"))


class RoleItem:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    @schema("Show a role", responses={200: {"type": "object", "required": ["role"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, role_id: str) -> None:
        enforce(req, self.policy, "identity:get_role")
        resp.media = {"role": role_view(_get_role(self.identity, role_id), base_url(req, self.identity.conf))}

    @schema("Update a role", request=ROLE_UPDATE, responses={200: {"type": "object", "required": ["role"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, role_id: str) -> None:
        enforce(req, self.policy, "identity:update_role")
        body = req.context.body["role"]
        with conflict_on_duplicate(f"Conflict occurred attempting to store role - Duplicate entry for "
                                   f"{body.get('name')}."), self.identity.db.transaction() as session:
            row = session.get(models.Role, role_id)
            if row is None:
                raise NotFound(f"Could not find role: {role_id}.")
            for field in ("name", "description"):
                if field in body:
                    setattr(row, field, body[field])
        self.identity.revoke(role_id=role_id)  # tokens carry role names
        resp.media = {"role": role_view(row, base_url(req, self.identity.conf))}

    @schema("Delete a role and its assignments", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, role_id: str) -> None:
        enforce(req, self.policy, "identity:delete_role")
        with self.identity.db.transaction() as session:
            session.execute(sa.delete(models.Assignment).where(models.Assignment.role_id == role_id))
            session.execute(sa.delete(models.ImpliedRole).where(sa.or_(
                models.ImpliedRole.prior_role_id == role_id, models.ImpliedRole.implied_role_id == role_id)))
            if not session.execute(sa.delete(models.Role).where(models.Role.id == role_id)).rowcount:
                raise NotFound(f"Could not find role: {role_id}.")
        self.identity.revoke(role_id=role_id)
        resp.status = 204


class Grant:
    """PUT/HEAD/GET/DELETE ``.../{target}/{actor}s/{actor_id}/roles/{role_id}``."""

    def __init__(self, identity: IdentityService, policy: Policy, target: str, actor: str,
                 inherited: bool = False) -> None:
        self.identity, self.policy = identity, policy
        self.target, self.actor, self.inherited = target, actor, inherited
        self.type = _TYPES[(target, actor)]

    def _check(self, params: dict[str, str]) -> tuple[str, str, models.Role]:
        target_id = params.get(f"{self.target}_id", "system")
        actor_id = params[f"{self.actor}_id"]
        role = _get_role(self.identity, params["role_id"])
        if self.target == "project":
            target_domain = self.identity.store.get_project(target_id).domain_id
        elif self.target == "domain":
            target_domain = self.identity.store.get_domain(target_id).id
        else:
            target_domain = None
        if self.actor == "user":
            self.identity.backend.get_user(actor_id)
        else:
            self.identity.backend.get_group(actor_id)
        if role.domain_id != models.GLOBAL and role.domain_id != target_domain:
            raise Invalid(f"Domain-specific role {role.id} of domain {role.domain_id} cannot be assigned on "
                          f"{self.target} {target_id}.")
        return target_id, actor_id, role

    def _key(self, target_id: str, actor_id: str, role_id: str) -> tuple:
        return (self.type, actor_id, target_id, role_id, self.inherited)

    @schema("Assign a role", responses={204: None})
    def on_put(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        enforce(req, self.policy, "identity:create_grant")
        target_id, actor_id, role = self._check(params)
        with self.identity.db.transaction() as session:
            if session.get(models.Assignment, self._key(target_id, actor_id, role.id)) is None:
                session.add(models.Assignment(type=self.type, actor_id=actor_id, target_id=target_id,
                                              role_id=role.id, inherited=self.inherited))
        resp.status = 204

    @schema("Check a role assignment", responses={204: None, 404: None})
    def on_head(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        enforce(req, self.policy, "identity:check_grant")
        target_id, actor_id, role = self._check(params)
        with self.identity.db.transaction() as session:
            if session.get(models.Assignment, self._key(target_id, actor_id, role.id)) is None:
                raise NotFound(f"Could not find role assignment with role: {role.id}, {self.actor}: {actor_id}, "
                               f"{self.target}: {target_id}.")
        resp.status = 204

    on_get = on_head

    @schema("Unassign a role; the actor's tokens that carried it stop working", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        enforce(req, self.policy, "identity:revoke_grant")
        target_id, actor_id, role = self._check(params)
        with self.identity.db.transaction() as session:
            if not session.execute(sa.delete(models.Assignment).where(
                    models.Assignment.type == self.type, models.Assignment.actor_id == actor_id,
                    models.Assignment.target_id == target_id, models.Assignment.role_id == role.id,
                    models.Assignment.inherited.is_(self.inherited))).rowcount:
                raise NotFound(f"Could not find role assignment with role: {role.id}, {self.actor}: {actor_id}, "
                               f"{self.target}: {target_id}.")
        users = [actor_id] if self.actor == "user" else [u.id for u in
                                                        self.identity.backend.list_users_in_group(actor_id)]
        for user_id in users:
            if self.target == "project" and not self.inherited:
                self.identity.revoke(user_id=user_id, project_id=target_id)
            else:
                self.identity.revoke(user_id=user_id)
        resp.status = 204


class GrantList:
    """GET ``.../{target}/{actor}s/{actor_id}/roles``: the roles assigned directly."""

    def __init__(self, identity: IdentityService, policy: Policy, target: str, actor: str,
                 inherited: bool = False) -> None:
        self.identity, self.policy = identity, policy
        self.target, self.actor, self.inherited = target, actor, inherited
        self.type = _TYPES[(target, actor)]

    @schema("List the roles an actor has on a target", responses={200: {"type": "object", "required": ["roles"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        enforce(req, self.policy, "identity:list_grants")
        target_id = params.get(f"{self.target}_id", "system")
        A = models.Assignment
        with self.identity.db.transaction() as session:
            rows = session.scalars(sa.select(models.Role).join(A, A.role_id == models.Role.id).where(
                A.type == self.type, A.actor_id == params[f"{self.actor}_id"], A.target_id == target_id,
                A.inherited.is_(self.inherited))).all()
        base = base_url(req, self.identity.conf)
        resp.media = collection(req, self.identity.conf, "roles", [role_view(r, base) for r in rows], ("name",))


class RoleAssignments:
    """``GET /v3/role_assignments`` with Keystone's filters, ``effective`` and ``include_names``."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _assignments(self) -> list[models.Assignment]:
        with self.identity.db.transaction() as session:
            return list(session.scalars(sa.select(models.Assignment)))

    def _effective(self, rows: list[models.Assignment]) -> list[dict[str, Any]]:
        """Expand groups into their members, inheritance into projects, and implied roles."""
        store, backend = self.identity.store, self.identity.backend
        with self.identity.db.transaction() as session:
            projects = list(session.scalars(sa.select(models.Project)))
            implied = [(r.prior_role_id, r.implied_role_id) for r in session.scalars(sa.select(models.ImpliedRole))]
            domain_roles = set(session.scalars(sa.select(models.Role.id).where(models.Role.domain_id != models.GLOBAL)))
        out: list[dict[str, Any]] = []
        for row in rows:
            users = [(row.actor_id, None)] if row.type.startswith("User") else [
                (u.id, row.actor_id) for u in backend.list_users_in_group(row.actor_id)]
            if row.inherited:
                if row.type.endswith("Domain"):
                    targets = [("project", p.id) for p in projects if p.domain_id == row.target_id]
                else:
                    targets = [("project", p.id) for p in projects
                               if row.target_id in {a.id for a in store.ancestors(p)}]
            else:
                kind = "project" if row.type.endswith("Project") else "domain" if row.type.endswith("Domain") \
                    else "system"
                targets = [(kind, row.target_id)]
            prior_of = {row.role_id: None}  # a domain-specific role gives only what it implies, as in a token
            frontier = {row.role_id}
            while frontier:
                step = {i: p for p, i in implied if p in frontier and i not in prior_of}
                prior_of.update(step)
                frontier = set(step)
            for user_id, via_group in users:
                for kind, target_id in targets:
                    for role_id in sorted(set(prior_of) - domain_roles):
                        out.append({"user": user_id, "group": None, "via_group": via_group, "kind": kind,
                                    "target": target_id, "role": role_id, "inherited": False,
                                    "prior_role": prior_of[role_id]})
        unique = {(e["user"], e["kind"], e["target"], e["role"]): e for e in out}
        return list(unique.values())

    @schema("List role assignments", responses={200: {"type": "object", "required": ["role_assignments"]}},
            query={k: {"type": "string"} for k in ("user.id", "group.id", "role.id", "scope.project.id",
                                                   "scope.domain.id", "scope.system", "effective", "include_names",
                                                   "scope.OS-INHERIT:inherited_to")})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_role_assignments")
        effective = "effective" in req.params and parse_bool(req.get_param("effective") or "", "effective")
        names = "include_names" in req.params and parse_bool(req.get_param("include_names") or "", "include_names")
        rows = self._assignments()
        if effective:
            entries = self._effective(rows)
        else:
            entries = [{"user": r.actor_id if r.type.startswith("User") else None,
                        "group": r.actor_id if r.type.startswith("Group") else None, "via_group": None,
                        "kind": "project" if r.type.endswith("Project") else "domain" if r.type.endswith("Domain")
                        else "system", "target": r.target_id, "role": r.role_id, "inherited": r.inherited}
                       for r in rows]
        wanted = {
            "user": req.get_param("user.id"), "group": req.get_param("group.id"), "role": req.get_param("role.id"),
        }
        for key, value in wanted.items():
            if value:
                entries = [e for e in entries if e[key] == value]
        for kind in ("project", "domain"):
            value = req.get_param(f"scope.{kind}.id")
            if value:
                entries = [e for e in entries if e["kind"] == kind and e["target"] == value]
        if req.get_param("scope.system"):
            entries = [e for e in entries if e["kind"] == "system"]
        if req.get_param("scope.OS-INHERIT:inherited_to"):
            entries = [e for e in entries if e["inherited"]]
        base = base_url(req, self.identity.conf)
        resp.media = {"role_assignments": [self._view(e, base, names) for e in entries],
                      "links": {"self": f"{base}{req.path}", "previous": None, "next": None}}

    def _view(self, entry: dict[str, Any], base: str, names: bool) -> dict[str, Any]:
        identity = self.identity
        view: dict[str, Any] = {"role": {"id": entry["role"]}}
        actor_kind = "user" if entry["user"] else "group"
        actor_id = entry[actor_kind]
        view[actor_kind] = {"id": actor_id}
        scope_target: dict[str, Any] = {"id": entry["target"]} if entry["kind"] != "system" else {"all": True}
        view["scope"] = {entry["kind"]: scope_target}
        if entry["inherited"]:
            view["scope"]["OS-INHERIT:inherited_to"] = "projects"
        target_path = "system" if entry["kind"] == "system" else f"{entry['kind']}s/{entry['target']}"
        view["links"] = {"assignment": f"{base}/v3/{target_path}/{actor_kind}s/{actor_id}/roles/{entry['role']}"}
        if entry.get("prior_role"):
            view["links"]["prior_role"] = f"{base}/v3/roles/{entry['prior_role']}"
        if entry.get("via_group"):
            view["links"]["membership"] = f"{base}/v3/groups/{entry['via_group']}/users/{actor_id}"
        if names:
            try:
                role = _get_role(identity, entry["role"])
                view["role"]["name"] = role.name
                actor = identity.backend.get_user(actor_id) if actor_kind == "user" else \
                    identity.backend.get_group(actor_id)
                domain = identity.store.get_domain(actor.domain_id)
                view[actor_kind].update(name=actor.name, domain={"id": domain.id, "name": domain.name})
                if entry["kind"] == "project":
                    project = identity.store.get_project(entry["target"])
                    pdomain = identity.store.get_domain(project.domain_id)
                    scope_target.update(name=project.name, domain={"id": pdomain.id, "name": pdomain.name})
                elif entry["kind"] == "domain":
                    scope_target["name"] = identity.store.get_domain(entry["target"]).name
            except NotFound:
                pass  # an entity deleted while listing: show what is known
        return view


def _role_ref(role: models.Role, base: str) -> dict[str, Any]:
    return {"id": role.id, "name": role.name, "links": {"self": f"{base}/v3/roles/{role.id}"}}


def _role(session: Any, role_id: str) -> models.Role:
    row = session.get(models.Role, role_id)
    if row is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return row


class RoleInference:
    """``/v3/roles/{prior}/implies/{implied}``: a role implying another (create, check, show, delete)."""

    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def _view(self, req: falcon.Request, role_id: str, implied_role_id: str, session: Any) -> dict[str, Any]:
        base = base_url(req, self.identity.conf)
        return {"role_inference": {"prior_role": _role_ref(_role(session, role_id), base),
                                   "implies": _role_ref(_role(session, implied_role_id), base)},
                "links": {"self": f"{base}/v3/roles/{role_id}/implies/{implied_role_id}"}}

    @schema("Make a role imply another (not a domain role, no loops)", responses={201: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, role_id: str, implied_role_id: str) -> None:
        enforce(req, self.policy, "identity:create_implied_role")
        with self.identity.db.transaction() as session:
            prior, implied = _role(session, role_id), _role(session, implied_role_id)
            if implied.name in self.identity.conf.identity.prohibited_implied_role:
                raise Forbidden(f"{implied.id} cannot be an implied role.")
            if prior.domain_id == models.GLOBAL and implied.domain_id != models.GLOBAL:
                raise Forbidden(f"Global role cannot imply a domain-specific role: {implied.id}.")
            reachable, frontier = {implied.id}, {implied.id}  # a role implying the prior one makes a loop
            while frontier:
                frontier = set(session.scalars(sa.select(models.ImpliedRole.implied_role_id).where(
                    models.ImpliedRole.prior_role_id.in_(frontier)))) - reachable
                reachable |= frontier
            if prior.id in reachable:
                raise Forbidden(f"Implying {implied.id} from {prior.id} would make roles imply each other.")
            if session.get(models.ImpliedRole, (prior.id, implied.id)) is None:
                session.add(models.ImpliedRole(prior_role_id=prior.id, implied_role_id=implied.id))
            session.flush()
            resp.media = self._view(req, role_id, implied_role_id, session)
        resp.status = 201

    @schema("Show that a role implies another", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, role_id: str, implied_role_id: str) -> None:
        enforce(req, self.policy, "identity:get_implied_role")
        with self.identity.db.reading() as session:
            if session.get(models.ImpliedRole, (role_id, implied_role_id)) is None:
                raise NotFound(f"{role_id} does not imply {implied_role_id}.")
            resp.media = self._view(req, role_id, implied_role_id, session)

    @schema("Check that a role implies another", responses={204: None})
    def on_head(self, req: falcon.Request, resp: falcon.Response, role_id: str, implied_role_id: str) -> None:
        enforce(req, self.policy, "identity:check_implied_role")
        with self.identity.db.reading() as session:
            if session.get(models.ImpliedRole, (role_id, implied_role_id)) is None:
                raise NotFound(f"{role_id} does not imply {implied_role_id}.")
        resp.status = 204

    @schema("Stop a role implying another", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, role_id: str, implied_role_id: str) -> None:
        enforce(req, self.policy, "identity:delete_implied_role")
        with self.identity.db.transaction() as session:
            row = session.get(models.ImpliedRole, (role_id, implied_role_id))
            if row is None:
                raise NotFound(f"{role_id} does not imply {implied_role_id}.")
            session.delete(row)
        # tokens carry the roles implied when they were issued: those of the prior role go
        self.identity.revoke(role_id=role_id)
        resp.status = 204


class RoleInferences:
    """``/v3/roles/{prior}/implies`` (what one role implies) and ``/v3/role_inferences`` (all)."""

    def __init__(self, identity: IdentityService, policy: Policy, one: bool) -> None:
        self.identity, self.policy, self.one = identity, policy, one

    @schema("List role inferences", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, role_id: str | None = None) -> None:
        enforce(req, self.policy, "identity:list_implied_roles" if self.one else "identity:list_role_inference_rules")
        base = base_url(req, self.identity.conf)
        with self.identity.db.reading() as session:
            query = sa.select(models.ImpliedRole)
            if role_id is not None:
                _role(session, role_id)
                query = query.where(models.ImpliedRole.prior_role_id == role_id)
            grouped: dict[str, list[str]] = {}
            for row in session.scalars(query):
                grouped.setdefault(row.prior_role_id, []).append(row.implied_role_id)
            roles = {r.id: r for r in session.scalars(sa.select(models.Role))}
        inferences = [{"prior_role": _role_ref(roles[prior], base),
                       "implies": [_role_ref(roles[i], base) for i in sorted(implied)]}
                      for prior, implied in sorted(grouped.items())]
        if self.one:
            resp.media = {"role_inference": inferences[0] if inferences else {
                "prior_role": _role_ref(roles[role_id], base), "implies": []},
                "links": {"self": f"{base}/v3/roles/{role_id}/implies"}}
        else:
            resp.media = {"role_inferences": inferences, "links": {"self": f"{base}/v3/role_inferences"}}
