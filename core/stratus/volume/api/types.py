"""``/v3/{project_id}/types``: volume types, their extra specs and who may use private ones.

A type's ``volume_backend_name`` extra spec selects the backends its volumes go to. As in
Cinder, everyone sees public types (and private ones shared with their project);
administrators manage them and see every extra spec, others see the ones that do not
name backends.
"""

from __future__ import annotations

import uuid
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.volume import models
from stratus.volume.api.common import boolean, context
from stratus.volume.models import utcnow
from stratus.volume.service import VolumeService

VolumeType = models.VolumeType
#: extra specs only administrators see (they describe the backends)
SENSITIVE = ("volume_backend_name", "RESKEY:availability_zones", "capabilities:")
_SPECS = {"type": "object", "propertyNames": {"minLength": 1, "maxLength": 255},
          "additionalProperties": {"type": ["string", "boolean", "number"]}}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
CREATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "required": ["name"], "properties": {
        "name": _NAME, "description": {"type": ["string", "null"], "maxLength": 255},
        "os-volume-type-access:is_public": {"type": ["boolean", "string"]}, "extra_specs": _SPECS},
    "additionalProperties": False}}}
UPDATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "minProperties": 1, "properties": {
        "name": _NAME, "description": {"type": ["string", "null"], "maxLength": 255},
        "is_public": {"type": ["boolean", "string"]}}, "additionalProperties": False}}}
_RESPONSE = {"type": "object", "required": ["volume_type"]}


def type_view(req: falcon.Request, volume_type: models.VolumeType, created: bool = False,
              updated: bool = False) -> dict[str, Any]:
    """As Cinder shows a type: ``qos_specs_id`` to administrators, except in a create's answer;
    an update's answer has neither it nor the access extension's ``is_public``."""
    admin = context(req).is_admin
    specs = {k: v for k, v in volume_type.specs.items() if admin or not k.startswith(SENSITIVE)}
    view = {"id": volume_type.id, "name": volume_type.name, "description": volume_type.description,
            "is_public": volume_type.is_public, "os-volume-type-access:is_public": volume_type.is_public,
            "extra_specs": specs}
    if updated:
        del view["os-volume-type-access:is_public"]
    elif admin and not created:
        view["qos_specs_id"] = None
    return view


def _spec_value(value: Any) -> str:
    return ("True" if value else "False") if isinstance(value, bool) else str(value)


class TypeFinder:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    def find(self, session: Any, req: falcon.Request, type_id: str) -> models.VolumeType:
        ctx = context(req)
        if type_id == "default":
            return self.service.find_type(session, None, ctx.project_id, True)
        found = session.get(VolumeType, type_id)
        if found is None or not (found.is_public or ctx.is_admin or session.get(
                models.VolumeTypeProject, (found.id, ctx.project_id)) is not None):
            raise NotFound(f"Volume type {type_id} could not be found.")
        return found


class Types(TypeFinder):
    @schema("List the volume types the caller may use (administrators: is_public=all for every one)",
            responses={200: {"type": "object", "required": ["volume_types"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume_extension:type_get_all", {"project_id": ctx.project_id})
        query = sa.select(VolumeType).order_by(VolumeType.name)
        wanted = (req.get_param("is_public") or "true").lower()
        if not ctx.is_admin:
            shared = sa.select(models.VolumeTypeProject.type_id).where(
                models.VolumeTypeProject.project_id == ctx.project_id)
            query = query.where(sa.or_(VolumeType.is_public.is_(True), VolumeType.id.in_(shared)))
        elif wanted != "none" and wanted != "all":
            query = query.where(VolumeType.is_public.is_(boolean("is_public", wanted)))
        with self.service.db.reading() as session:
            resp.media = {"volume_types": [type_view(req, t) for t in session.scalars(query)]}

    @schema("Create a volume type (administrators)", request=CREATE, responses={200: _RESPONSE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "volume_extension:types_manage", {"project_id": context(req).project_id})
        body = req.context.body["volume_type"]
        name = body["name"].strip()
        if not name:
            raise Invalid("Invalid input received: name must not be blank")
        volume_type = VolumeType(id=str(uuid.uuid4()), name=name, description=body.get("description"),
                                 is_public=boolean("os-volume-type-access:is_public",
                                                   body.get("os-volume-type-access:is_public", True)),
                                 created_at=utcnow())
        volume_type.extra_specs = [models.VolumeTypeExtraSpec(key=k, value=_spec_value(v))
                                   for k, v in (body.get("extra_specs") or {}).items()]
        try:
            with self.service.db.transaction() as session:
                session.add(volume_type)
        except sa.exc.IntegrityError:
            raise Conflict(f"Volume Type {name} already exists.") from None
        with self.service.db.reading() as session:
            resp.media = {"volume_type": type_view(req, session.get(VolumeType, volume_type.id), created=True)}


class TypeItem(TypeFinder):
    @schema("Show a volume type (default: the default type)", responses={200: _RESPONSE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        enforce(req, self.policy, "volume_extension:type_get", {"project_id": context(req).project_id})
        with self.service.db.reading() as session:
            resp.media = {"volume_type": type_view(req, self.find(session, req, type_id))}

    @schema("Rename, describe, or make a volume type public or private", request=UPDATE,
            responses={200: _RESPONSE})
    def on_put(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        enforce(req, self.policy, "volume_extension:types_manage", {"project_id": context(req).project_id})
        body = req.context.body["volume_type"]
        try:
            with self.service.db.transaction() as session:
                volume_type = self.find(session, req, type_id)
                if "name" in body:
                    if volume_type.name == self.service.conf.volume.default_volume_type:
                        raise Invalid("Invalid input received: the default volume type cannot be renamed")
                    volume_type.name = body["name"].strip()
                if "description" in body:
                    volume_type.description = body["description"]
                if "is_public" in body:
                    volume_type.is_public = boolean("is_public", body["is_public"])
                volume_type.updated_at = utcnow()
                session.flush()
                resp.media = {"volume_type": type_view(req, volume_type, updated=True)}
        except sa.exc.IntegrityError:
            raise Conflict(f"Volume Type {body.get('name')} already exists.") from None

    @schema("Delete a volume type no volume uses (not the default type)", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        enforce(req, self.policy, "volume_extension:types_manage", {"project_id": context(req).project_id})
        with self.service.db.transaction() as session:
            volume_type = self.find(session, req, type_id)
            if volume_type.name == self.service.conf.volume.default_volume_type:
                raise Invalid("Invalid input received: the default volume type cannot be deleted")
            if session.scalar(sa.select(sa.func.count()).where(models.Volume.volume_type_id == volume_type.id)):
                raise Invalid(f"Invalid volume type: Target volume type {volume_type.id} is still in use.")
            session.delete(volume_type)
        resp.status = 202


class ExtraSpecs(TypeFinder):
    @schema("A volume type's extra specs", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, type_id: str, key: str | None = None) -> None:
        enforce(req, self.policy, "volume_extension:types_extra_specs:index", {"project_id": context(req).project_id})
        with self.service.db.reading() as session:
            specs = type_view(req, self.find(session, req, type_id))["extra_specs"]
        if key is None:
            resp.media = {"extra_specs": specs}
        elif key in specs:
            resp.media = {key: specs[key]}
        else:
            raise NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")

    def _write(self, req: falcon.Request, type_id: str, specs: dict[str, Any]) -> dict[str, str]:
        enforce(req, self.policy, "volume_extension:types_manage", {"project_id": context(req).project_id})
        with self.service.db.transaction() as session:
            volume_type = self.find(session, req, type_id)
            if session.scalar(sa.select(sa.func.count()).where(models.Volume.volume_type_id == volume_type.id)) \
                    and "volume_backend_name" in specs:
                raise Invalid(f"Invalid volume type: Volume type {type_id} is in use; its backend cannot change.")
            current = volume_type.specs
            current.update({k: _spec_value(v) for k, v in specs.items()})
            volume_type.extra_specs = [models.VolumeTypeExtraSpec(key=k, value=v) for k, v in current.items()]
            return {k: _spec_value(v) for k, v in specs.items()}

    @schema("Set extra specs", request={"type": "object", "required": ["extra_specs"],
                                        "properties": {"extra_specs": _SPECS}},
            responses={200: {"type": "object", "required": ["extra_specs"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        resp.media = {"extra_specs": self._write(req, type_id, req.context.body["extra_specs"])}

    @schema("Set one extra spec", request={**_SPECS, "minProperties": 1, "maxProperties": 1},
            responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, type_id: str, key: str) -> None:
        if key not in req.context.body:
            raise Invalid("Invalid input received: the body must set the key of the URL")
        resp.media = self._write(req, type_id, req.context.body)

    @schema("Delete an extra spec", responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, type_id: str, key: str) -> None:
        enforce(req, self.policy, "volume_extension:types_manage", {"project_id": context(req).project_id})
        with self.service.db.transaction() as session:
            volume_type = self.find(session, req, type_id)
            remaining = [s for s in volume_type.extra_specs if s.key != key]
            if len(remaining) == len(volume_type.extra_specs):
                raise NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
            volume_type.extra_specs = remaining
        resp.status = 202


class TypeAccess(TypeFinder):
    @schema("The projects a private volume type is shared with (administrators)",
            responses={200: {"type": "object", "required": ["volume_type_access"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        enforce(req, self.policy, "volume_extension:volume_type_access:addProjectAccess",
                {"project_id": context(req).project_id})
        with self.service.db.reading() as session:
            volume_type = self.find(session, req, type_id)
            if volume_type.is_public:
                raise NotFound(f"Volume type {type_id} is public: access is not listed for it.")
            projects = session.scalars(sa.select(models.VolumeTypeProject.project_id).where(
                models.VolumeTypeProject.type_id == volume_type.id).order_by(models.VolumeTypeProject.project_id))
            resp.media = {"volume_type_access": [{"volume_type_id": volume_type.id, "project_id": p}
                                                 for p in projects]}


class TypeAction(TypeFinder):
    @schema("addProjectAccess / removeProjectAccess of a private volume type", request={
        "type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
            "addProjectAccess": {"type": "object", "required": ["project"]},
            "removeProjectAccess": {"type": "object", "required": ["project"]}},
        "additionalProperties": False}, responses={202: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, type_id: str) -> None:
        (name, args), = req.context.body.items()
        enforce(req, self.policy, f"volume_extension:volume_type_access:{name}",
                {"project_id": context(req).project_id})
        project = str(args["project"])
        with self.service.db.transaction() as session:
            volume_type = self.find(session, req, type_id)
            if volume_type.is_public:
                raise Invalid(f"Invalid volume type: Type access modification is not applicable to public volume "
                              f"type {type_id}.")
            row = session.get(models.VolumeTypeProject, (volume_type.id, project))
            if name == "addProjectAccess":
                if row is not None:
                    raise Conflict(f"Volume type access for {type_id} / {project} combination already exists.")
                session.add(models.VolumeTypeProject(type_id=volume_type.id, project_id=project))
            else:
                if row is None:
                    raise NotFound(f"Volume type access not found for {type_id} / {project} combination.")
                session.delete(row)
        resp.status = 202
