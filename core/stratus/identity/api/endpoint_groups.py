"""``/v3/OS-EP-FILTER``: which endpoints a project's tokens carry in their catalog.

Endpoints are tied to projects one by one (``/projects/{id}/endpoints/{endpoint_id}``) or
through endpoint groups, whose ``filters`` (``interface``, ``service_id``, ``region_id``)
select endpoints as they are now and as they will be. A project with any such tie gets only
those endpoints in its tokens' catalog (a service left without one is dropped); a project
with none gets the whole catalog, as Keystone's ``return_all_endpoints_if_no_filter``.
"""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.catalog import endpoint_view
from stratus.identity.api.common import base_url, collection, conflict_on_duplicate, new_id
from stratus.identity.api.views import project_view
from stratus.identity.service import IdentityService
from stratus.identity.store import project_endpoint_ids, selected_endpoints

PREFIX = "/v3/OS-EP-FILTER"
FILTERS = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
    "interface": {"enum": ["public", "internal", "admin"]},
    "service_id": {"type": "string", "minLength": 1, "maxLength": 64},
    "region_id": {"type": "string", "minLength": 1, "maxLength": 255}}}
_FIELDS = {"name": {"type": "string", "minLength": 1, "maxLength": 255},
           "description": {"type": ["string", "null"]}, "filters": FILTERS}
CREATE = {"type": "object", "required": ["endpoint_group"], "properties": {"endpoint_group": {
    "type": "object", "required": ["name", "filters"], "properties": _FIELDS, "additionalProperties": False}}}
UPDATE = {"type": "object", "required": ["endpoint_group"], "properties": {"endpoint_group": {
    "type": "object", "minProperties": 1, "properties": _FIELDS, "additionalProperties": False}}}
LIST = {"type": "object"}
NO_CONTENT: dict[int, Any] = {204: None}


def group_view(row: models.EndpointGroup, base: str) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description or "", "filters": row.filters,
            "links": {"self": f"{base}{PREFIX}/endpoint_groups/{row.id}"}}


def _group(session: Any, group_id: str) -> models.EndpointGroup:
    row = session.get(models.EndpointGroup, group_id)
    if row is None:
        raise NotFound(f"Could not find endpoint group: {group_id}.")
    return row


def _project(session: Any, project_id: str) -> models.Project:
    row = session.get(models.Project, project_id)
    if row is None:
        raise NotFound(f"Could not find project: {project_id}.")
    return row


def _endpoint(session: Any, endpoint_id: str) -> models.Endpoint:
    row = session.get(models.Endpoint, endpoint_id)
    if row is None:
        raise NotFound(f"Could not find endpoint: {endpoint_id}.")
    return row


class _Resource:
    def __init__(self, identity: IdentityService, policy: Policy) -> None:
        self.identity, self.policy = identity, policy

    def base(self, req: falcon.Request) -> str:
        return base_url(req, self.identity.conf)


class EndpointGroups(_Resource):
    @schema("Create an endpoint group", request=CREATE,
            responses={201: {"type": "object", "required": ["endpoint_group"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:create_endpoint_group")
        body = req.context.body["endpoint_group"]
        row = models.EndpointGroup(id=new_id(), name=body["name"], description=body.get("description"),
                                   filters=body["filters"])
        with self.identity.db.transaction() as session:
            session.add(row)
        resp.status = 201
        resp.media = {"endpoint_group": group_view(row, self.base(req))}

    @schema("List endpoint groups (name)", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "identity:list_endpoint_groups")
        with self.identity.db.reading() as session:
            rows = list(session.scalars(sa.select(models.EndpointGroup)))
        base = self.base(req)
        resp.media = collection(req, self.identity.conf, "endpoint_groups", [group_view(r, base) for r in rows],
                                ("name",))


class EndpointGroup(_Resource):
    @schema("Show an endpoint group", responses={200: {"type": "object", "required": ["endpoint_group"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:get_endpoint_group")
        with self.identity.db.reading() as session:
            resp.media = {"endpoint_group": group_view(_group(session, group_id), self.base(req))}

    @schema("Check that an endpoint group exists", responses={200: None})
    def on_head(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:get_endpoint_group")
        with self.identity.db.reading() as session:
            _group(session, group_id)

    @schema("Update an endpoint group", request=UPDATE,
            responses={200: {"type": "object", "required": ["endpoint_group"]}})
    def on_patch(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:update_endpoint_group")
        body = req.context.body["endpoint_group"]
        with self.identity.db.transaction() as session:
            row = _group(session, group_id)
            for name in _FIELDS:
                if name in body:
                    setattr(row, name, body[name])
            resp.media = {"endpoint_group": group_view(row, self.base(req))}

    @schema("Delete an endpoint group (and its ties to projects)", responses=NO_CONTENT)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:delete_endpoint_group")
        with self.identity.db.transaction() as session:
            session.execute(sa.delete(models.ProjectEndpointGroup).where(
                models.ProjectEndpointGroup.endpoint_group_id == group_id))
            session.delete(_group(session, group_id))
        resp.status = 204


class GroupEndpoints(_Resource):
    @schema("List the endpoints an endpoint group selects", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:list_endpoints_associated_with_endpoint_group")
        with self.identity.db.reading() as session:
            endpoints = selected_endpoints(session, _group(session, group_id).filters)
        base = self.base(req)
        resp.media = collection(req, self.identity.conf, "endpoints", [endpoint_view(e, base) for e in endpoints])


class GroupProjects(_Resource):
    @schema("List the projects an endpoint group is tied to", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        enforce(req, self.policy, "identity:list_projects_associated_with_endpoint_group")
        with self.identity.db.reading() as session:
            _group(session, group_id)
            projects = list(session.scalars(sa.select(models.Project).join(
                models.ProjectEndpointGroup, models.ProjectEndpointGroup.project_id == models.Project.id).where(
                models.ProjectEndpointGroup.endpoint_group_id == group_id)))
            views = [project_view(p, self.base(req)) for p in projects]
        resp.media = collection(req, self.identity.conf, "projects", views)


class GroupProject(_Resource):
    """``/endpoint_groups/{group_id}/projects/{project_id}``: a project tied to a group."""

    def _view(self, req: falcon.Request, group_id: str, project_id: str) -> dict[str, Any]:
        return {"project_endpoint_group": {
            "endpoint_group_id": group_id, "project_id": project_id,
            "links": {"self": f"{self.base(req)}{PREFIX}/endpoint_groups/{group_id}/projects/{project_id}"}}}

    def _check(self, session: Any, group_id: str, project_id: str) -> models.ProjectEndpointGroup:
        _project(session, project_id)
        _group(session, group_id)
        tie = session.get(models.ProjectEndpointGroup, (group_id, project_id))
        if tie is None:
            raise NotFound(f"Could not find project endpoint group: endpoint group {group_id} is not tied to "
                           f"project {project_id}.")
        return tie

    @schema("Show that an endpoint group is tied to a project", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str, project_id: str) -> None:
        enforce(req, self.policy, "identity:get_endpoint_group_in_project")
        with self.identity.db.reading() as session:
            self._check(session, group_id, project_id)
        resp.media = self._view(req, group_id, project_id)

    @schema("Tie an endpoint group to a project", responses=NO_CONTENT)
    def on_put(self, req: falcon.Request, resp: falcon.Response, group_id: str, project_id: str) -> None:
        enforce(req, self.policy, "identity:add_endpoint_group_to_project")
        with conflict_on_duplicate(f"Endpoint group {group_id} is already tied to project {project_id}."), \
                self.identity.db.transaction() as session:
            _project(session, project_id)
            _group(session, group_id)
            if session.get(models.ProjectEndpointGroup, (group_id, project_id)) is None:
                session.add(models.ProjectEndpointGroup(endpoint_group_id=group_id, project_id=project_id))
        resp.status = 204

    @schema("Untie an endpoint group from a project", responses=NO_CONTENT)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str, project_id: str) -> None:
        enforce(req, self.policy, "identity:remove_endpoint_group_from_project")
        with self.identity.db.transaction() as session:
            session.delete(self._check(session, group_id, project_id))
        resp.status = 204


class ProjectEndpointGroups(_Resource):
    @schema("List the endpoint groups tied to a project", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:list_endpoint_groups_for_project")
        with self.identity.db.reading() as session:
            _project(session, project_id)
            rows = list(session.scalars(sa.select(models.EndpointGroup).join(
                models.ProjectEndpointGroup, models.ProjectEndpointGroup.endpoint_group_id == models.EndpointGroup.id
            ).where(models.ProjectEndpointGroup.project_id == project_id)))
        base = self.base(req)
        resp.media = collection(req, self.identity.conf, "endpoint_groups", [group_view(r, base) for r in rows])


class ProjectEndpoints(_Resource):
    @schema("List the endpoints tied to a project (one by one and through groups)", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        enforce(req, self.policy, "identity:list_endpoints_for_project")
        with self.identity.db.reading() as session:
            _project(session, project_id)
            ids = project_endpoint_ids(session, project_id)
            endpoints = list(session.scalars(sa.select(models.Endpoint).where(models.Endpoint.id.in_(ids))))
        base = self.base(req)
        resp.media = collection(req, self.identity.conf, "endpoints", [endpoint_view(e, base) for e in endpoints])


class ProjectEndpoint(_Resource):
    """``/projects/{project_id}/endpoints/{endpoint_id}``: one endpoint tied to a project."""

    @schema("Check that an endpoint is tied to a project", responses=NO_CONTENT)
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str, endpoint_id: str) -> None:
        enforce(req, self.policy, "identity:check_endpoint_in_project")
        with self.identity.db.reading() as session:
            _endpoint(session, endpoint_id)
            _project(session, project_id)
            if session.get(models.ProjectEndpoint, (project_id, endpoint_id)) is None:
                raise NotFound(f"Endpoint {endpoint_id} is not tied to project {project_id}.")
        resp.status = 204

    on_head = on_get

    @schema("Tie an endpoint to a project", responses=NO_CONTENT)
    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str, endpoint_id: str) -> None:
        enforce(req, self.policy, "identity:add_endpoint_to_project")
        with conflict_on_duplicate(f"Endpoint {endpoint_id} is already tied to project {project_id}."), \
                self.identity.db.transaction() as session:
            _endpoint(session, endpoint_id)
            _project(session, project_id)
            if session.get(models.ProjectEndpoint, (project_id, endpoint_id)) is None:
                session.add(models.ProjectEndpoint(project_id=project_id, endpoint_id=endpoint_id))
        resp.status = 204

    @schema("Untie an endpoint from a project", responses=NO_CONTENT)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str, endpoint_id: str) -> None:
        enforce(req, self.policy, "identity:remove_endpoint_from_project")
        with self.identity.db.transaction() as session:
            tie = session.get(models.ProjectEndpoint, (project_id, endpoint_id))
            if tie is None:
                raise NotFound(f"Endpoint {endpoint_id} is not tied to project {project_id}.")
            session.delete(tie)
        resp.status = 204


class EndpointProjects(_Resource):
    @schema("List the projects an endpoint is tied to one by one", responses={200: LIST})
    def on_get(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        enforce(req, self.policy, "identity:list_projects_for_endpoint")
        with self.identity.db.reading() as session:
            _endpoint(session, endpoint_id)
            projects = list(session.scalars(sa.select(models.Project).join(
                models.ProjectEndpoint, models.ProjectEndpoint.project_id == models.Project.id).where(
                models.ProjectEndpoint.endpoint_id == endpoint_id)))
            views = [project_view(p, self.base(req)) for p in projects]
        resp.media = collection(req, self.identity.conf, "projects", views)


def add_routes(app: Any, identity: IdentityService, policy: Policy) -> None:
    groups = f"{PREFIX}/endpoint_groups"
    app.add_route(groups, EndpointGroups(identity, policy))
    app.add_route(f"{groups}/{{group_id}}", EndpointGroup(identity, policy))
    app.add_route(f"{groups}/{{group_id}}/endpoints", GroupEndpoints(identity, policy))
    app.add_route(f"{groups}/{{group_id}}/projects", GroupProjects(identity, policy))
    app.add_route(f"{groups}/{{group_id}}/projects/{{project_id}}", GroupProject(identity, policy))
    app.add_route(f"{PREFIX}/projects/{{project_id}}/endpoint_groups", ProjectEndpointGroups(identity, policy))
    app.add_route(f"{PREFIX}/projects/{{project_id}}/endpoints", ProjectEndpoints(identity, policy))
    app.add_route(f"{PREFIX}/projects/{{project_id}}/endpoints/{{endpoint_id}}", ProjectEndpoint(identity, policy))
    app.add_route(f"{PREFIX}/endpoints/{{endpoint_id}}/projects", EndpointProjects(identity, policy))
