"""``/v2/metadefs``: metadata definitions (Glance's metadefs). A namespace groups properties
(JSON schema fragments), objects (named groups of properties) and tags, and applies to
resource types (``OS::Glance::Image``, ``OS::Nova::Flavor``...) under an optional property
prefix; dashboards read them to offer what may be set on an image, flavor or volume.

Everyone reads public namespaces and their own project's; administrators write them
(Glance's ``metadef_admin``). A protected namespace cannot be deleted.
"""

from __future__ import annotations

import datetime
import urllib.parse
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema, validate
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound
from stratus.image import models
from stratus.image.api import metadef_schemas as schemas
from stratus.image.api.views import iso
from stratus.image.service import ImageService

NS = models.MetadefNamespace
BASE = "/v2/metadefs"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)


# -- views -----------------------------------------------------------------------------


def association_view(row: models.MetadefNamespaceResourceType) -> dict[str, Any]:
    view: dict[str, Any] = {"name": row.resource_type.name, "created_at": iso(row.created_at),
                            "updated_at": iso(row.updated_at)}
    if row.prefix:
        view["prefix"] = row.prefix
    if row.properties_target:
        view["properties_target"] = row.properties_target
    return view


def property_view(row: models.MetadefProperty, prefix: str = "") -> dict[str, Any]:
    return {**row.json_schema, "name": f"{prefix}{row.name}"}


def object_view(row: models.MetadefObject, namespace: str, prefix: str = "") -> dict[str, Any]:
    view: dict[str, Any] = {"name": row.name, "required": list(row.required or []),
                            "properties": {f"{prefix}{k}": v for k, v in (row.json_schema or {}).items()},
                            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
                            "self": f"{BASE}/namespaces/{namespace}/objects/{row.name}",
                            "schema": "/v2/schemas/metadefs/object"}
    if row.description:
        view["description"] = row.description
    return view


def tag_view(row: models.MetadefTag) -> dict[str, Any]:
    return {"name": row.name, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def namespace_view(session: Any, row: models.MetadefNamespace, full: bool,
                   resource_type: str | None = None) -> dict[str, Any]:
    associations = _associations(session, row.id)
    view: dict[str, Any] = {
        "namespace": row.namespace, "visibility": row.visibility, "protected": row.protected, "owner": row.owner,
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "self": f"{BASE}/namespaces/{row.namespace}", "schema": "/v2/schemas/metadefs/namespace"}
    for name in ("display_name", "description"):
        if getattr(row, name):
            view[name] = getattr(row, name)
    if associations:
        view["resource_type_associations"] = [association_view(a) for a in associations]
    if full:
        prefix = next((a.prefix or "" for a in associations if a.resource_type.name == resource_type), "")
        properties = _rows(session, models.MetadefProperty, row.id)
        objects = _rows(session, models.MetadefObject, row.id)
        tags = _rows(session, models.MetadefTag, row.id)
        if properties:
            view["properties"] = {f"{prefix}{p.name}": {k: v for k, v in property_view(p).items() if k != "name"}
                                  for p in properties}
        if objects:
            view["objects"] = [{k: v for k, v in object_view(o, row.namespace, prefix).items()
                                if k not in ("self", "schema")} for o in objects]
        if tags:
            view["tags"] = [{"name": t.name} for t in tags]
    return view


def _associations(session: Any, namespace_id: int) -> list[models.MetadefNamespaceResourceType]:
    return list(session.scalars(sa.select(models.MetadefNamespaceResourceType).where(
        models.MetadefNamespaceResourceType.namespace_id == namespace_id)))


def _rows(session: Any, model: Any, namespace_id: int) -> list[Any]:
    return list(session.scalars(sa.select(model).where(model.namespace_id == namespace_id).order_by(model.name)))


# -- access ----------------------------------------------------------------------------


def _visible(ctx: Any) -> sa.ColumnElement[bool]:
    return sa.true() if ctx.is_admin else sa.or_(NS.visibility == "public", NS.owner == (ctx.project_id or ""))


class _Resource:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    def namespace(self, session: Any, req: falcon.Request, name: str, action: str) -> models.MetadefNamespace:
        """The namespace ``name`` as the caller may see it, after checking ``action``'s policy.

        :raises NotFound: absent or not visible (a private namespace of another project).
        """
        row = session.scalars(sa.select(NS).where(NS.namespace == name, _visible(req.context.stratus))).first()
        if row is None:
            raise NotFound(f"Metadata definition namespace={name} was not found.")
        enforce(req, self.policy, f"image:{action}", {"project_id": row.owner})
        return row

    def touch(self, row: models.MetadefNamespace) -> None:
        row.updated_at = _now()


def _check_properties(properties: dict[str, Any]) -> None:
    for name, prop in properties.items():
        validate(schemas.PROPERTY_BODY, {**prop, "name": name})


def _resource_type(session: Any, name: str) -> models.MetadefResourceType:
    """The resource type ``name``, created when first named (as Glance does)."""
    row = session.scalars(sa.select(models.MetadefResourceType).where(models.MetadefResourceType.name == name)).first()
    if row is None:
        now = _now()
        row = models.MetadefResourceType(name=name, protected=False, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
    return row


def add_contents(session: Any, row: models.MetadefNamespace, body: dict[str, Any]) -> None:
    """Add ``body``'s resource type associations, properties, objects and tags to ``row``."""
    now = _now()
    for association in body.get("resource_type_associations") or []:
        session.add(models.MetadefNamespaceResourceType(
            namespace_id=row.id, resource_type_id=_resource_type(session, association["name"]).id,
            prefix=association.get("prefix"), properties_target=association.get("properties_target"),
            created_at=now, updated_at=now))
    _check_properties(body.get("properties") or {})
    for name, prop in (body.get("properties") or {}).items():
        session.add(models.MetadefProperty(namespace_id=row.id, name=name,
                                           json_schema={k: v for k, v in prop.items() if k != "name"}))
    for obj in body.get("objects") or []:
        _check_properties(obj.get("properties") or {})
        session.add(models.MetadefObject(namespace_id=row.id, name=obj["name"], description=obj.get("description"),
                                         required=obj.get("required") or [], json_schema=obj.get("properties") or {},
                                         created_at=now, updated_at=now))
    for tag in body.get("tags") or []:
        session.add(models.MetadefTag(namespace_id=row.id, name=tag["name"], created_at=now, updated_at=now))
    session.flush()


# -- namespaces ------------------------------------------------------------------------


class Namespaces(_Resource):
    @schema("Create a metadata definition namespace (with its contents)", request=schemas.NAMESPACE_BODY,
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:add_metadef_namespace")
        body = req.context.body
        now = _now()
        ctx = req.context.stratus
        try:
            with self.images.db.transaction() as session:
                row = NS(namespace=body["namespace"], display_name=body.get("display_name"),
                         description=body.get("description"), visibility=body.get("visibility", "private"),
                         protected=body.get("protected", False), owner=body.get("owner") or ctx.project_id or "",
                         created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                add_contents(session, row, body)
                shown = namespace_view(session, row, True)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata definition namespace with name={body['namespace']} already exists, or "
                           "names one of its properties, objects or tags twice.") from None
        resp.status = 201
        resp.location = shown["self"]
        resp.media = shown

    @schema("List metadata definition namespaces (visibility, resource_types, limit, marker, sort_key, sort_dir)",
            responses={200: {"type": "object", "required": ["namespaces"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:get_metadef_namespaces")
        query = sa.select(NS).where(_visible(req.context.stratus))
        visibility = req.get_param("visibility")
        if visibility:
            if visibility not in ("public", "private"):
                raise Invalid(f"Invalid visibility value: {visibility}")
            query = query.where(NS.visibility == visibility)
        kinds = [k for k in (req.get_param("resource_types") or "").split(",") if k]
        if kinds:
            A, R = models.MetadefNamespaceResourceType, models.MetadefResourceType
            query = query.where(sa.exists().where(A.namespace_id == NS.id, A.resource_type_id == R.id,
                                                  R.name.in_(kinds)))
        sort_key = req.get_param("sort_key") or "created_at"
        sort_dir = req.get_param("sort_dir") or "desc"
        columns = {"created_at": NS.created_at, "updated_at": NS.updated_at, "namespace": NS.namespace,
                   "display_name": NS.display_name, "id": NS.id}
        if sort_key not in columns or sort_dir not in ("asc", "desc"):
            raise Invalid(f"Invalid sort: {sort_key} {sort_dir}")
        limit = self._limit(req)
        with self.images.db.reading() as session:
            rows = list(session.scalars(query.order_by(getattr(columns[sort_key], sort_dir)(), NS.id)))
            marker = req.get_param("marker")
            if marker:
                names = [r.namespace for r in rows]
                if marker not in names:
                    raise NotFound(f"Metadata definition namespace={marker} was not found.")
                rows = rows[names.index(marker) + 1:]
            page = rows[:limit]
            body: dict[str, Any] = {"namespaces": [namespace_view(session, r, False) for r in page],
                                    "first": f"{BASE}/namespaces", "schema": "/v2/schemas/metadefs/namespaces"}
        if len(rows) > limit:
            params = {k: v for k, v in req.params.items() if k != "marker"}
            body["next"] = f"{BASE}/namespaces?{urllib.parse.urlencode({**params, 'marker': page[-1].namespace})}"
        resp.media = body

    def _limit(self, req: falcon.Request) -> int:
        conf = self.images.conf.image
        raw = req.get_param("limit")
        try:
            limit = int(raw) if raw is not None else conf.limit_param_default
        except ValueError:
            raise Invalid(f"limit param must be an integer, not {raw}") from None
        if limit < 0:
            raise Invalid("limit param must be positive")
        return min(limit, conf.api_limit_max)


class Namespace(_Resource):
    @schema("Show a namespace with its contents (resource_type: its prefix on property names)",
            responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_namespace")
            resp.media = namespace_view(session, row, True, req.get_param("resource_type"))

    @schema("Update a namespace (not its contents)", request=schemas.NAMESPACE_UPDATE,
            responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        body = req.context.body
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "modify_metadef_namespace")
                for name in ("namespace", "display_name", "description", "visibility", "protected", "owner"):
                    if name in body:
                        setattr(row, name, body[name])
                self.touch(row)
                session.flush()
                resp.media = namespace_view(session, row, True)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata definition namespace with name={body['namespace']} already exists.") from None

    @schema("Delete a namespace that is not protected, with its contents", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, "delete_metadef_namespace")
            if row.protected:
                raise Forbidden(f"Namespace {namespace} is protected and cannot be deleted.")
            session.delete(row)
        resp.status = 204


class _Contents(_Resource):
    """What namespaces hold by name: properties, objects, tags."""

    model: Any
    noun: str  # "property"
    plural: str  # "properties"

    def find(self, session: Any, row: models.MetadefNamespace, name: str) -> Any:
        found = session.scalars(sa.select(self.model).where(self.model.namespace_id == row.id,
                                                            self.model.name == name)).first()
        if found is None:
            raise NotFound(f"Metadata definition {self.noun} not found for namespace={row.namespace} and "
                           f"name={name}.")
        return found

    def delete_one(self, req: falcon.Request, namespace: str, name: str) -> None:
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, f"remove_metadef_{self.noun}")
            session.delete(self.find(session, row, name))
            self.touch(row)

    def delete_all(self, req: falcon.Request, namespace: str) -> None:
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, f"remove_metadef_{self.noun}")
            if row.protected:
                raise Forbidden(f"Namespace {namespace} is protected: its {self.plural} cannot be deleted.")
            session.execute(sa.delete(self.model).where(self.model.namespace_id == row.id))
            self.touch(row)


# -- properties ------------------------------------------------------------------------


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


class Properties(_Contents):
    model, noun, plural = models.MetadefProperty, "property", "properties"

    @schema("Add a property to a namespace", request=schemas.PROPERTY_BODY, responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        body = req.context.body
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, "add_metadef_property")
            if session.scalars(sa.select(self.model.id).where(self.model.namespace_id == row.id,
                                                              self.model.name == body["name"])).first():
                raise Conflict(f"A metadata definition property with name={body['name']} already exists in "
                               f"namespace={namespace}.")
            prop = self.model(namespace_id=row.id, name=body["name"],
                              json_schema={k: v for k, v in body.items() if k != "name"})
            session.add(prop)
            self.touch(row)
            session.flush()
            resp.media = property_view(prop)
        resp.status = 201

    @schema("List a namespace's properties", responses={200: {"type": "object", "required": ["properties"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_properties")
            resp.media = {"properties": {p.name: {k: v for k, v in property_view(p).items() if k != "name"}
                                         for p in _rows(session, self.model, row.id)},
                          "schema": "/v2/schemas/metadefs/properties"}

    @schema("Delete every property of a namespace", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        self.delete_all(req, namespace)
        resp.status = 204


class Property(_Contents):
    model, noun, plural = models.MetadefProperty, "property", "properties"

    def _prefix(self, session: Any, row: models.MetadefNamespace, req: falcon.Request) -> str:
        wanted = req.get_param("resource_type")
        return next((a.prefix or "" for a in _associations(session, row.id) if a.resource_type.name == wanted), "")

    @schema("Show a property (resource_type: its name with that type's prefix)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_property")
            prefix = self._prefix(session, row, req)
            resp.media = property_view(self.find(session, row, _strip(name, prefix)), prefix)

    @schema("Replace a property (it may be renamed)", request=schemas.PROPERTY_BODY,
            responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        body = req.context.body
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "modify_metadef_property")
                prop = self.find(session, row, name)
                prop.name = body["name"]
                prop.json_schema = {k: v for k, v in body.items() if k != "name"}
                self.touch(row)
                session.flush()
                resp.media = property_view(prop)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata definition property with name={body['name']} already exists in "
                           f"namespace={namespace}.") from None

    @schema("Delete a property", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        self.delete_one(req, namespace, name)
        resp.status = 204


# -- objects ---------------------------------------------------------------------------


class Objects(_Contents):
    model, noun, plural = models.MetadefObject, "object", "objects"

    @schema("Add an object to a namespace", request=schemas.OBJECT_BODY, responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        body = req.context.body
        _check_properties(body.get("properties") or {})
        now = _now()
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "add_metadef_object")
                obj = self.model(namespace_id=row.id, name=body["name"], description=body.get("description"),
                                 required=body.get("required") or [], json_schema=body.get("properties") or {},
                                 created_at=now, updated_at=now)
                session.add(obj)
                self.touch(row)
                session.flush()
                resp.media = object_view(obj, namespace)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata definition object with name={body['name']} already exists in "
                           f"namespace={namespace}.") from None
        resp.status = 201

    @schema("List a namespace's objects", responses={200: {"type": "object", "required": ["objects"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_objects")
            resp.media = {"objects": [object_view(o, namespace) for o in _rows(session, self.model, row.id)],
                          "schema": "/v2/schemas/metadefs/objects"}

    @schema("Delete every object of a namespace", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        self.delete_all(req, namespace)
        resp.status = 204


class Object(_Contents):
    model, noun, plural = models.MetadefObject, "object", "objects"

    @schema("Show an object", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_object")
            resp.media = object_view(self.find(session, row, name), namespace)

    @schema("Replace an object (it may be renamed)", request=schemas.OBJECT_BODY, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        body = req.context.body
        _check_properties(body.get("properties") or {})
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "modify_metadef_object")
                obj = self.find(session, row, name)
                obj.name, obj.description = body["name"], body.get("description")
                obj.required, obj.json_schema = body.get("required") or [], body.get("properties") or {}
                obj.updated_at = _now()
                self.touch(row)
                session.flush()
                resp.media = object_view(obj, namespace)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata definition object with name={body['name']} already exists in "
                           f"namespace={namespace}.") from None

    @schema("Delete an object", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        self.delete_one(req, namespace, name)
        resp.status = 204


# -- tags ------------------------------------------------------------------------------


class Tags(_Contents):
    model, noun, plural = models.MetadefTag, "tag", "tags"

    @schema("Create tags (replacing the namespace's, or added with X-Openstack-Append: True)",
            request=schemas.TAGS_BODY, responses={201: {"type": "object", "required": ["tags"]}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        names = [t["name"] for t in req.context.body["tags"]]
        if len(set(names)) != len(names):
            raise Conflict("A metadata tag is given twice.")
        append = (req.get_header("X-Openstack-Append") or "").lower() == "true"
        now = _now()
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, "add_metadef_tags")
            if not append:
                session.execute(sa.delete(self.model).where(self.model.namespace_id == row.id))
            existing = {t.name for t in _rows(session, self.model, row.id)}
            if existing & set(names):
                raise Conflict(f"Metadata tag {sorted(existing & set(names))[0]} already exists in "
                               f"namespace={namespace}.")
            made = [self.model(namespace_id=row.id, name=n, created_at=now, updated_at=now) for n in names]
            session.add_all(made)
            self.touch(row)
            session.flush()
            resp.media = {"tags": [tag_view(t) for t in made]}
        resp.status = 201

    @schema("List a namespace's tags", responses={200: {"type": "object", "required": ["tags"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_tags")
            resp.media = {"tags": [tag_view(t) for t in _rows(session, self.model, row.id)]}

    @schema("Delete every tag of a namespace", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        self.delete_all(req, namespace)
        resp.status = 204


class Tag(_Contents):
    model, noun, plural = models.MetadefTag, "tag", "tags"

    @schema("Add a tag", responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        validate(schemas.TAG_BODY, {"name": name})
        now = _now()
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "add_metadef_tag")
                tag = self.model(namespace_id=row.id, name=name, created_at=now, updated_at=now)
                session.add(tag)
                self.touch(row)
                session.flush()
                resp.media = tag_view(tag)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata tag with name={name} already exists in namespace={namespace}.") from None
        resp.status = 201

    @schema("Show a tag", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_tag")
            resp.media = tag_view(self.find(session, row, name))

    @schema("Rename a tag", request=schemas.TAG_BODY, responses={200: {"type": "object"}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        new_name = req.context.body["name"]
        try:
            with self.images.db.transaction() as session:
                row = self.namespace(session, req, namespace, "modify_metadef_tag")
                tag = self.find(session, row, name)
                tag.name, tag.updated_at = new_name, _now()
                self.touch(row)
                session.flush()
                resp.media = tag_view(tag)
        except sa.exc.IntegrityError:
            raise Conflict(f"A metadata tag with name={new_name} already exists in namespace={namespace}.") from None

    @schema("Delete a tag", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        self.delete_one(req, namespace, name)
        resp.status = 204


# -- resource types --------------------------------------------------------------------


class ResourceTypes(_Resource):
    @schema("List the resource types namespaces may apply to",
            responses={200: {"type": "object", "required": ["resource_types"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:list_metadef_resource_types")
        with self.images.db.reading() as session:
            rows = session.scalars(sa.select(models.MetadefResourceType).order_by(models.MetadefResourceType.name))
            resp.media = {"resource_types": [{"name": r.name, "created_at": iso(r.created_at),
                                              "updated_at": iso(r.updated_at)} for r in rows]}


class Associations(_Resource):
    @schema("Apply a namespace to a resource type (created if new)", request=schemas.ASSOCIATION_BODY,
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        body = req.context.body
        A = models.MetadefNamespaceResourceType
        now = _now()
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, "add_metadef_resource_type_association")
            kind = _resource_type(session, body["name"])
            if session.get(A, (row.id, kind.id)) is not None:
                raise Conflict(f"The metadata definition resource-type association of resource-type={body['name']} "
                               f"to namespace={namespace}, already exists.")
            association = A(namespace_id=row.id, resource_type_id=kind.id, prefix=body.get("prefix"),
                            properties_target=body.get("properties_target"), created_at=now, updated_at=now)
            session.add(association)
            self.touch(row)
            session.flush()
            session.refresh(association)
            resp.media = association_view(association)
        resp.status = 201

    @schema("List the resource types a namespace applies to",
            responses={200: {"type": "object", "required": ["resource_type_associations"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str) -> None:
        with self.images.db.reading() as session:
            row = self.namespace(session, req, namespace, "get_metadef_resource_type")
            resp.media = {"resource_type_associations": [association_view(a)
                                                         for a in _associations(session, row.id)]}


class Association(_Resource):
    @schema("Stop applying a namespace to a resource type", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        A, R = models.MetadefNamespaceResourceType, models.MetadefResourceType
        with self.images.db.transaction() as session:
            row = self.namespace(session, req, namespace, "remove_metadef_resource_type_association")
            association = session.scalars(sa.select(A).join(R, A.resource_type_id == R.id).where(
                A.namespace_id == row.id, R.name == name)).first()
            if association is None:
                raise NotFound(f"The metadata definition resource-type association of resource-type={name} to "
                               f"namespace={namespace}, was not found.")
            session.delete(association)
            self.touch(row)
        resp.status = 204


def add_routes(app: Any, images: ImageService, policy: Policy) -> None:
    ns = f"{BASE}/namespaces/{{namespace}}"
    app.add_route(f"{BASE}/namespaces", Namespaces(images, policy))
    app.add_route(ns, Namespace(images, policy))
    app.add_route(f"{ns}/properties", Properties(images, policy))
    app.add_route(f"{ns}/properties/{{name}}", Property(images, policy))
    app.add_route(f"{ns}/objects", Objects(images, policy))
    app.add_route(f"{ns}/objects/{{name}}", Object(images, policy))
    app.add_route(f"{ns}/tags", Tags(images, policy))
    app.add_route(f"{ns}/tags/{{name}}", Tag(images, policy))
    app.add_route(f"{BASE}/resource_types", ResourceTypes(images, policy))
    app.add_route(f"{ns}/resource_types", Associations(images, policy))
    app.add_route(f"{ns}/resource_types/{{name}}", Association(images, policy))
