"""``/v3/{project_id}/volumes``: create, list, show, update, delete, metadata and actions."""

from __future__ import annotations

from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.microversions import at_least
from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.db import paging
from stratus.exceptions import Invalid, NotFound
from stratus.volume import models, states
from stratus.volume.api.common import (
    boolean,
    context,
    int_param,
    isotime,
    links,
    metadata_schema,
    next_link,
    sorting,
)
from stratus.volume.models import utcnow
from stratus.volume.service import VolumeService

Volume = models.Volume
_NAME = {"type": ["string", "null"], "maxLength": 255}
_SIZE = {"type": ["integer", "string"], "pattern": r"^\s*[0-9]+\s*$", "minimum": 1}
CREATE = {"type": "object", "required": ["volume"], "properties": {"volume": {
    "type": "object", "properties": {
        "size": {**_SIZE, "type": ["integer", "string", "null"]},
        "name": _NAME, "display_name": _NAME, "description": _NAME, "display_description": _NAME,
        "volume_type": {"type": ["string", "null"], "maxLength": 255},
        "availability_zone": {"type": ["string", "null"], "maxLength": 255},
        "metadata": {**metadata_schema(), "type": ["object", "null"]},
        "snapshot_id": {"type": ["string", "null"]}, "source_volid": {"type": ["string", "null"]},
        "imageRef": {"type": ["string", "null"]}, "image_id": {"type": ["string", "null"]},
        "multiattach": {"type": ["boolean", "string"]},
        "consistencygroup_id": {"type": ["string", "null"]}, "group_id": {"type": ["string", "null"]},
        "backup_id": {"type": ["string", "null"]},
    }, "additionalProperties": True}}}
UPDATE = {"type": "object", "required": ["volume"], "properties": {"volume": {
    "type": "object", "minProperties": 1, "properties": {
        "name": _NAME, "display_name": _NAME, "description": _NAME, "display_description": _NAME,
        "metadata": metadata_schema()}, "additionalProperties": False}}}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1}
_VOLUME_RESPONSE = {"type": "object", "required": ["volume"]}

#: what ``sort`` / ``sort_key`` may name: (column, nullable)
SORTABLE = {"created_at": (Volume.created_at, False), "updated_at": (Volume.updated_at, True),
            "name": (Volume.name, True), "size": (Volume.size, False), "status": (Volume.status, False),
            "id": (Volume.id, False), "availability_zone": (Volume.availability_zone, False),
            "display_name": (Volume.name, True),
            "bootable": (Volume.bootable, False)}
#: list filters Cinder lets everyone use (its resource_filters for volumes)
FILTERS = ("name", "status", "availability_zone", "bootable", "metadata", "size")


def volume_view(req: falcon.Request, conf: Any, volume: models.Volume, created: bool = False) -> dict[str, Any]:
    """As Cinder shows a volume; a create's answer lacks the extended attributes (``os-vol-*``,
    image metadata), as Cinder's does."""
    ctx = context(req)
    view: dict[str, Any] = {
        "id": volume.id, "name": volume.name, "description": volume.description, "status": volume.status,
        "size": volume.size, "availability_zone": volume.availability_zone,
        "created_at": isotime(volume.created_at), "updated_at": isotime(volume.updated_at),
        "attachments": [attachment_view(volume, a) for a in volume.attachments if a.attach_status == "attached"],
        "volume_type": volume.volume_type.name, "snapshot_id": volume.snapshot_id,
        "source_volid": volume.source_volid, "metadata": shown_metadata(volume),
        "links": links(req, conf, "volumes", volume.id), "user_id": volume.user_id,
        "bootable": "true" if volume.bootable else "false", "encrypted": volume.encrypted,
        "replication_status": None, "consistencygroup_id": None, "multiattach": volume.multiattach,
        "migration_status": volume.migration_status,
    }
    if at_least(req, "3.13"):
        view["group_id"] = None
    if at_least(req, "3.63"):
        view["volume_type_id"] = volume.volume_type_id
    if created:
        return view
    view["os-vol-tenant-attr:tenant_id"] = volume.project_id
    if volume.image_metadata_items:
        view["volume_image_metadata"] = {m.key: m.value for m in volume.image_metadata_items}
    if ctx.is_admin and at_least(req, "3.21"):
        view["provider_id"] = None
    if ctx.is_admin:
        view["os-vol-host-attr:host"] = volume.host
        view["os-vol-mig-status-attr:migstat"] = volume.migration_status
        view["os-vol-mig-status-attr:name_id"] = None
    return view


def shown_metadata(volume: models.Volume) -> dict[str, str]:
    """The volume's metadata, with ``readonly`` once set and ``attached_mode`` while attached (the
    administrative metadata Cinder shows there)."""
    shown = {m.key: m.value for m in volume.metadata_items}
    if volume.readonly is not None:
        shown["readonly"] = str(volume.readonly)
    attached = [a for a in volume.attachments if a.attach_status == "attached"]
    if attached:
        shown["attached_mode"] = attached[0].attach_mode
    return shown


def attachment_view(volume: models.Volume, attachment: models.VolumeAttachment) -> dict[str, Any]:
    return {"id": volume.id, "attachment_id": attachment.id, "volume_id": volume.id,
            "server_id": attachment.instance_uuid, "host_name": attachment.attached_host,
            "device": attachment.mountpoint, "attached_at": isotime(attachment.attach_time)}


def dict_filter(name: str, value: Any) -> dict[str, str]:
    """A list filter given as a dictionary in the query (``metadata={'k': 'v'}``, as the clients send it).

    :raises Invalid: not a dictionary."""
    if not value:
        return {}
    import ast

    try:
        found = ast.literal_eval(value) if isinstance(value, str) else None
    except (ValueError, SyntaxError):
        found = None
    if not isinstance(found, dict):
        raise Invalid(f"Invalid input received: {name} filter {value!r} is not a dictionary")
    return {str(k): str(v) for k, v in found.items()}


def _size(value: Any, name: str = "size") -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"Invalid input received: {name} must be an integer (and greater than 0), not "
                      f"{value!r}") from None
    if size < 1 or size > 2 ** 31 - 1:
        raise Invalid(f"Invalid input received: {name} must be an integer between 1 and 2147483647, not {size}")
    return size


class Volumes:
    def __init__(self, service: VolumeService, policy: Policy, detail: bool) -> None:
        self.service, self.policy, self.detail = service, policy, detail

    @schema("List volumes (filters name, status, availability_zone, bootable, metadata; sort, limit, marker)",
            responses={200: {"type": "object", "required": ["volumes"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume:get_all", {"project_id": ctx.project_id})
        query = sa.select(Volume)
        all_projects = ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0")
        project = req.get_param("project_id") if ctx.is_admin else None
        if project:
            query = query.where(Volume.project_id == project)
        elif not all_projects:
            query = query.where(Volume.project_id == ctx.project_id)
        query = self._filtered(req, query)
        keys = paging.sort_keys([(k, SORTABLE[k][0], asc, SORTABLE[k][1]) for k, asc in sorting(req, SORTABLE)],
                                ("id", Volume.id))
        limit = int_param(req, "limit", 0)
        cap = self.service.conf.volume.osapi_max_limit
        limit = cap if limit is None else min(limit, cap)
        offset = int_param(req, "offset", 0)
        with self.service.db.reading() as session:
            marker_id = req.get_param("marker")
            if marker_id:
                marker = session.get(Volume, marker_id)
                if marker is None or (marker.project_id != ctx.project_id and not ctx.is_admin):
                    raise NotFound(f"Marker {marker_id} could not be found.")
                query = query.where(paging.after(keys, marker))
            query = query.order_by(*paging.order_by(keys)).limit(limit)
            if offset:
                query = query.offset(offset)
            rows = list(session.scalars(query))
            conf = self.service.conf
            items = [volume_view(req, conf, v) if self.detail else
                     {"id": v.id, "name": v.name, "links": links(req, conf, "volumes", v.id)} for v in rows]
        resp.media = {"volumes": items}
        if rows and len(rows) == limit and req.get_param("limit") is not None:
            resp.media["volumes_links"] = next_link(req, self.service.conf, "volumes/detail" if self.detail
                                                    else "volumes", rows[-1].id)

    def _filtered(self, req: falcon.Request, query: Any) -> Any:
        params = req.params
        name = params.get("name") or params.get("display_name")
        if name:
            query = query.where(Volume.name == name)
        if at_least(req, "3.34") and params.get("name~"):
            query = query.where(Volume.name.contains(params["name~"], autoescape=True))
        if params.get("status"):
            query = query.where(Volume.status == params["status"])
        if params.get("availability_zone"):
            query = query.where(Volume.availability_zone == params["availability_zone"])
        if params.get("bootable") is not None:
            value = params["bootable"]
            # before 3.2 anything but a false value meant bootable; from 3.2 it must be a boolean
            bootable = boolean("bootable", value) if at_least(req, "3.2") else \
                str(value).strip().lower() not in ("false", "0", "f", "n", "no", "off")
            query = query.where(Volume.bootable.is_(bootable))
        if params.get("size"):
            query = query.where(Volume.size == _size(params["size"]))
        for key, value in dict_filter("metadata", params.get("metadata")).items():
            query = query.where(Volume.metadata_items.any(sa.and_(
                models.VolumeMetadata.key == key, models.VolumeMetadata.value == value)))
        if at_least(req, "3.4"):
            for key, value in dict_filter("glance_metadata", params.get("glance_metadata")).items():
                query = query.where(Volume.image_metadata_items.any(sa.and_(
                    models.VolumeImageMetadata.key == key, models.VolumeImageMetadata.value == value)))
        if at_least(req, "3.10") and params.get("group_id"):
            query = query.where(sa.false())  # there are no volume groups: no volume is in one
        return query

    @schema("Create a volume: empty, from a snapshot or from another volume (202; creating, then available)",
            request=CREATE, responses={202: _VOLUME_RESPONSE})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "volume:create", {"project_id": ctx.project_id})
        body = req.context.body["volume"]
        if body.get("backup_id"):
            raise Invalid("Invalid input received: volumes from backups are not supported by this cloud yet")
        request = {
            "size": _size(body["size"]) if body.get("size") is not None else None,
            "name": body.get("name", body.get("display_name")),
            "description": body.get("description", body.get("display_description")),
            "volume_type": body.get("volume_type"), "availability_zone": body.get("availability_zone"),
            "metadata": body.get("metadata") or {}, "snapshot_id": body.get("snapshot_id"),
            "source_volid": body.get("source_volid"), "image_id": body.get("imageRef") or body.get("image_id"),
            "multiattach": boolean("multiattach", body.get("multiattach", False)),
        }
        if request["size"] is None and not (request["snapshot_id"] or request["source_volid"]):
            raise Invalid("Invalid input received: size is a required property (unless the volume is made from "
                          "a snapshot or a volume)")
        volume_id = self.service.create_volume(ctx, request)
        with self.service.db.reading() as session:
            resp.media = {"volume": volume_view(req, self.service.conf, session.get(Volume, volume_id),
                                                created=True)}
        resp.status = 202


class VolumeSummary:
    """``/volumes/summary`` (3.12): how many volumes and GiB; their metadata values from 3.36."""

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Count and total size of the project's volumes (all_tenants for administrators)",
            responses={200: {"type": "object", "required": ["volume-summary"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not at_least(req, "3.12"):
            raise NotFound("The resource could not be found: volumes/summary needs microversion 3.12 or later.")
        ctx = context(req)
        enforce(req, self.policy, "volume:get_all", {"project_id": ctx.project_id})
        where = [] if ctx.is_admin and boolean("all_tenants", req.get_param("all_tenants") or "0") else [
            Volume.project_id == ctx.project_id]
        with self.service.db.reading() as session:
            count, size = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Volume.size), 0))
                                          .where(*where)).one()
            summary: dict[str, Any] = {"total_size": int(size), "total_count": int(count)}
            if at_least(req, "3.36"):
                values: dict[str, set[str]] = {}
                for key, value in session.execute(sa.select(models.VolumeMetadata.key, models.VolumeMetadata.value)
                                                  .join(Volume).where(*where)):
                    values.setdefault(key, set()).add(value)
                summary["metadata"] = {k: sorted(v) for k, v in sorted(values.items())}
        resp.media = {"volume-summary": summary}


class VolumeItem:
    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Show a volume", responses={200: _VOLUME_RESPONSE})
    def on_get(self, req: falcon.Request, resp: falcon.Response, volume_id: str) -> None:
        ctx = context(req)
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, volume_id)
            enforce(req, self.policy, "volume:get", {"project_id": volume.project_id})
            resp.media = {"volume": volume_view(req, self.service.conf, volume)}

    @schema("Update a volume's name, description or metadata", request=UPDATE, responses={200: _VOLUME_RESPONSE})
    def on_put(self, req: falcon.Request, resp: falcon.Response, volume_id: str) -> None:
        ctx = context(req)
        body = req.context.body["volume"]
        with self.service.db.transaction() as session:
            volume = self.service.volume(session, ctx, volume_id)
            enforce(req, self.policy, "volume:update", {"project_id": volume.project_id})
            for field, legacy in (("name", "display_name"), ("description", "display_description")):
                if field in body or legacy in body:
                    setattr(volume, field, body.get(field, body.get(legacy)))
            if "metadata" in body:
                volume.metadata_items = [models.VolumeMetadata(key=k, value=v) for k, v in body["metadata"].items()]
            volume.updated_at = utcnow()
            session.flush()
            resp.media = {"volume": volume_view(req, self.service.conf, volume, created=True)}

    @schema("Delete a volume (cascade=true: its snapshots too)", query={"cascade": {"type": "string"},
                                                                         "force": {"type": "string"}},
            responses={202: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, volume_id: str) -> None:
        ctx = context(req)
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, volume_id)
            enforce(req, self.policy, "volume:delete", {"project_id": volume.project_id})
        force = at_least(req, "3.23") and boolean("force", req.get_param("force") or "false")
        if force:
            enforce(req, self.policy, "volume:force_delete", {"project_id": volume.project_id})
        self.service.delete_volume(ctx, volume_id, cascade=boolean("cascade", req.get_param("cascade") or "false"),
                                   force=force)
        resp.status = 202


class VolumeAction:
    """``POST /volumes/{id}/action``: os-extend, os-set_bootable, os-reset_status, os-force_delete,
    os-initialize_connection (the pre-attachments way to learn how to reach a volume)."""

    def __init__(self, service: VolumeService, policy: Policy) -> None:
        self.service, self.policy = service, policy

    @schema("Act on a volume", request=ACTION, responses={202: None, 200: None})
    def on_post(self, req: falcon.Request, resp: falcon.Response, volume_id: str) -> None:
        (name, args), = req.context.body.items()
        handler = {"os-extend": self._extend, "os-set_bootable": self._bootable,
                   "os-reset_status": self._reset_status, "os-force_delete": self._force_delete,
                   "os-initialize_connection": self._initialize, "os-terminate_connection": self._terminate,
                   "os-reserve": self._reserve, "os-unreserve": self._unreserve, "os-attach": self._attach,
                   "os-begin_detaching": self._begin_detaching, "os-roll_detaching": self._roll_detaching,
                   "os-detach": self._detach, "os-update_readonly_flag": self._readonly,
                   "os-force_detach": self._force_detach, "os-set_image_metadata": self._set_image_metadata,
                   "os-unset_image_metadata": self._unset_image_metadata,
                   "os-show_image_metadata": self._show_image_metadata,
                   "os-volume_upload_image": self._upload_image, "os-retype": self._retype,
                   "os-unmanage": self._unmanage,
                   **({"revert": self._revert} if at_least(req, "3.40") else {})}.get(name)
        if handler is None:
            raise Invalid(f"Invalid input received: There is no such action: {name}")
        ctx = context(req)
        with self.service.db.reading() as session:
            volume = self.service.volume(session, ctx, volume_id)
            project = volume.project_id
        handler(req, resp, volume_id, project, args if isinstance(args, dict) else {})

    def _extend(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume:extend", {"project_id": project})
        if "new_size" not in args:
            raise Invalid("Invalid input for field/attribute os-extend. 'new_size' is a required property")
        self.service.extend_volume(context(req), volume_id, _size(args["new_size"], "new_size"),
                                   in_use=at_least(req, "3.42"))
        resp.status = 202

    def _bootable(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                  args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:set_bootable", {"project_id": project})
        if "bootable" not in args:
            raise Invalid("Invalid input for field/attribute os-set_bootable. 'bootable' is a required property")
        bootable = boolean("bootable", args["bootable"])
        self._update(volume_id, bootable=bootable)
        resp.status = 200

    def _reset_status(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                      args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_admin_actions:reset_status", {"project_id": project})
        values: dict[str, Any] = {}
        if "status" in args:
            if args["status"] not in states.VOLUME_STATUSES:
                raise Invalid(f"Invalid input received: Invalid status {args['status']!r}")
            values["status"] = args["status"]
        if "attach_status" in args:
            if args["attach_status"] not in states.ATTACH_STATUSES:
                raise Invalid(f"Invalid input received: Invalid attach_status {args['attach_status']!r}")
            values["attach_status"] = args["attach_status"]
        if "migration_status" in args:
            values["migration_status"] = args["migration_status"]
        if not values:
            raise Invalid("Invalid input received: os-reset_status needs status, attach_status or migration_status")
        self._update(volume_id, **values)
        resp.status = 202

    def _force_delete(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                      args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume:force_delete", {"project_id": project})
        self.service.delete_volume(context(req), volume_id, cascade=True, force=True)
        resp.status = 202

    def _initialize(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                    args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:initialize_connection",
                {"project_id": project})
        connector = args.get("connector")
        if not isinstance(connector, dict):
            raise Invalid("Invalid input received: os-initialize_connection needs a connector")
        resp.media = {"connection_info": self.service.initialize_connection(context(req), volume_id, connector)}

    def _terminate(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                   args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:terminate_connection", {"project_id": project})
        if not isinstance(args.get("connector"), dict):
            raise Invalid("Invalid input received: os-terminate_connection needs a connector")
        self.service.terminate_connection(context(req), volume_id, args["connector"])
        resp.status = 202

    def _simple(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str, rule: str,
                step: Any) -> None:
        enforce(req, self.policy, f"volume_extension:volume_actions:{rule}", {"project_id": project})
        step(context(req), volume_id)
        resp.status = 202

    def _reserve(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                 args: dict[str, Any]) -> None:
        self._simple(req, resp, volume_id, project, "reserve", self.service.reserve)

    def _unreserve(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                   args: dict[str, Any]) -> None:
        self._simple(req, resp, volume_id, project, "unreserve", self.service.unreserve)

    def _begin_detaching(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                         args: dict[str, Any]) -> None:
        self._simple(req, resp, volume_id, project, "begin_detaching", self.service.begin_detaching)

    def _roll_detaching(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                        args: dict[str, Any]) -> None:
        self._simple(req, resp, volume_id, project, "roll_detaching", self.service.roll_detaching)

    def _attach(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:attach", {"project_id": project})
        if not args.get("mountpoint") or not isinstance(args["mountpoint"], str):
            raise Invalid("Invalid input for field/attribute os-attach. 'mountpoint' is a required property")
        if bool(args.get("instance_uuid")) == bool(args.get("host_name")):
            raise Invalid("Invalid request to attach volume to an invalid target: give instance_uuid or "
                          "host_name")
        self.service.attach(context(req), volume_id, args.get("instance_uuid"), args.get("host_name"),
                            args["mountpoint"], str(args.get("mode") or "rw"))
        resp.status = 202

    def _detach(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:detach", {"project_id": project})
        self.service.detach(context(req), volume_id, args.get("attachment_id"))
        resp.status = 202

    def _unmanage(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                  args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_unmanage", {"project_id": project})
        self.service.unmanage(context(req), volume_id)
        resp.status = 202

    def _retype(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume:retype", {"project_id": project})
        new_type = args.get("new_type")
        if not isinstance(new_type, str) or not new_type:
            raise Invalid("Invalid input for field/attribute os-retype. 'new_type' is a required property")
        policy = args.get("migration_policy") or "never"
        if policy not in ("never", "on-demand"):
            raise Invalid(f"Invalid input received: migration_policy must be never or on-demand, not {policy!r}")
        self.service.retype(context(req), volume_id, new_type, policy)
        resp.status = 202

    def _upload_image(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                      args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_actions:upload_image", {"project_id": project})
        name = args.get("image_name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise Invalid("Invalid input for field/attribute os-volume_upload_image. 'image_name' is a required "
                          "property of at most 255 characters")
        disk_format = args.get("disk_format", "raw")
        if disk_format not in ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx"):
            raise Invalid(f"Invalid input received: Invalid disk-format '{disk_format}' is specified. Allowed "
                          "disk-formats are raw, qcow2, vmdk, vdi, vhd, vhdx.")
        request = {"image_name": name, "disk_format": disk_format,
                   "container_format": args.get("container_format", "bare")}
        if at_least(req, "3.1"):
            if "visibility" in args:
                if args["visibility"] not in ("public", "private", "community", "shared"):
                    raise Invalid(f"Invalid input received: visibility {args['visibility']!r}")
                if args["visibility"] == "public":
                    enforce(req, self.policy, "volume_extension:volume_actions:upload_public", {"project_id": project})
                request["visibility"] = args["visibility"]
            if "protected" in args:
                request["protected"] = boolean("protected", args["protected"])
        answer = self.service.upload_to_image(context(req), volume_id, request,
                                              force=boolean("force", args.get("force", False)))
        answer["updated_at"] = isotime(answer["updated_at"])
        resp.media = {"os-volume_upload_image": answer}
        resp.status = 202

    def _image_metadata(self, volume_id: str, change: Any = None) -> dict[str, str]:
        with self.service.db.transaction() as session:
            volume = session.get(Volume, volume_id)
            items = {m.key: m.value for m in volume.image_metadata_items}
            if change is not None:
                items = change(items)
                volume.image_metadata_items = [models.VolumeImageMetadata(key=k, value=v) for k, v in items.items()]
                volume.updated_at = utcnow()
            return items

    def _set_image_metadata(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                            args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_image_metadata:set", {"project_id": project})
        wanted = args.get("metadata")
        if not isinstance(wanted, dict) or not all(isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255
                                                   for k, v in wanted.items()):
            raise Invalid("Invalid input for field/attribute os-set_image_metadata. 'metadata' must map keys to "
                          "strings")
        resp.media = {"metadata": self._image_metadata(volume_id, lambda items: {**items, **wanted})}

    def _unset_image_metadata(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                              args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_image_metadata:remove", {"project_id": project})
        key = args.get("key")
        if key not in self._image_metadata(volume_id):
            raise NotFound(f"Glance metadata for volume {volume_id} has no key {key!r}.")
        self._image_metadata(volume_id, lambda items: {k: v for k, v in items.items() if k != key})
        resp.status = 200

    def _show_image_metadata(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                             args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_image_metadata:show", {"project_id": project})
        resp.media = {"metadata": self._image_metadata(volume_id)}

    def _revert(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume:revert_to_snapshot", {"project_id": project})
        if not isinstance(args.get("snapshot_id"), str):
            raise Invalid("Invalid input for field/attribute revert. 'snapshot_id' is a required property")
        self.service.revert(context(req), volume_id, args["snapshot_id"])
        resp.status = 202

    def _force_detach(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                      args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume_extension:volume_admin_actions:force_detach", {"project_id": project})
        connector = args.get("connector")
        self.service.force_detach(context(req), volume_id, args.get("attachment_id"),
                                  connector if isinstance(connector, dict) else None)
        resp.status = 202

    def _readonly(self, req: falcon.Request, resp: falcon.Response, volume_id: str, project: str,
                  args: dict[str, Any]) -> None:
        enforce(req, self.policy, "volume:update_readonly_flag", {"project_id": project})
        if "readonly" not in args:
            raise Invalid("Invalid input for field/attribute os-update_readonly_flag. 'readonly' is a required "
                          "property")
        readonly = boolean("readonly", args["readonly"])
        with self.service.db.reading() as session:
            status = session.get(Volume, volume_id).status
        if status != states.AVAILABLE:
            raise Invalid(f"Invalid volume: Volume {volume_id} status must be available to update its read-only "
                          f"flag, but current status is: {status}.")
        self._update(volume_id, readonly=readonly)
        resp.status = 202

    def _update(self, volume_id: str, **values: Any) -> None:
        with self.service.db.transaction() as session:
            session.execute(sa.update(Volume).where(Volume.id == volume_id).values(updated_at=utcnow(), **values))
