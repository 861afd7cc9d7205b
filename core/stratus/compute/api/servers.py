"""``/servers`` (Nova v2.1): create, list (``/servers``, ``/servers/detail``), show, update,
delete. Creating writes the servers in ``BUILD`` and casts them to the conductor."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import hashlib
import ipaddress
import re
import secrets
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import binaries, history, models, quotas, states, zones
from stratus.compute.api import block_devices
from stratus.compute.api.common import bool_param, changes, context, int_param, is_uuid, links, page_links
from stratus.compute.api.flavors import embedded
from stratus.compute.api.flavors import find as find_flavor
from stratus.compute.api.microversions import Version, at_least, unexpected_before
from stratus.compute.creating import ServerRequest, create_servers
from stratus.compute.instances import LAZY, finish_delete, utcnow
from stratus.compute.topics import TOPIC
from stratus.db import paging
from stratus.exceptions import Conflict, Forbidden, Invalid, NotFound

Instance = models.Instance
_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s*$).+"}
_HOST = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
_META = {"type": "object",
         "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
         "additionalProperties": {"type": "string", "maxLength": 255}}
PERSONALITY = {"type": "array", "items": {"type": "object", "required": ["path", "contents"],
                                          "additionalProperties": False, "properties": {
    "path": {"type": "string"}, "contents": {"type": "string"}}}}
TRUSTED_CERTIFICATES = {"type": ["array", "null"], "maxItems": 50, "uniqueItems": True,
                        "items": {"type": "string", "minLength": 1}}
CREATE = {"type": "object", "required": ["server"], "properties": {"server": {
    "type": "object", "required": ["name", "flavorRef"], "properties": {
        "name": _NAME, "imageRef": {"type": "string", "maxLength": 255},
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "networks": {"oneOf": [
            {"type": "array", "items": {"type": "object", "additionalProperties": False, "properties": {
                "uuid": {"type": "string"}, "port": {"type": ["string", "null"]},
                "fixed_ip": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                "tag": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}}}},
            {"enum": ["auto", "none"]}]},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "user_data": {"type": "string", "maxLength": 65535},
        "metadata": _META,
        "security_groups": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255}}}},
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "min_count": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "max_count": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "return_reservation_id": {"type": ["boolean", "string"]},
        "config_drive": {"type": ["boolean", "string"]},
        "accessIPv4": {"type": "string", "format": "ipv4"}, "accessIPv6": {"type": "string", "format": "ipv6"},
        "adminPass": {"type": "string"}, "OS-DCF:diskConfig": {"enum": ["AUTO", "MANUAL"]},
        "tags": {"type": "array", "maxItems": 50, "items": {
            "type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}},
        "personality": PERSONALITY,
        "host": _HOST, "hypervisor_hostname": _HOST, "trusted_image_certificates": TRUSTED_CERTIFICATES,
        "hostname": {"type": "string"},
        "block_device_mapping_v2": block_devices.BDM_V2, "block_device_mapping": block_devices.LEGACY,
    }}, "os:scheduler_hints": {"type": "object"}, "OS-SCH-HNT:scheduler_hints": {"type": "object"}}}
UPDATE = {"type": "object", "required": ["server"], "properties": {"server": {
    "type": "object", "additionalProperties": False, "properties": {
        "name": _NAME, "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"}, "OS-DCF:diskConfig": {"enum": ["AUTO", "MANUAL"]},
        "description": {"type": ["string", "null"], "maxLength": 255}, "hostname": {"type": "string"}}}}}
SORT_KEYS = {"created_at": Instance.created_at, "display_name": Instance.display_name,
             "updated_at": Instance.updated_at, "uuid": Instance.uuid, "vm_state": Instance.vm_state,
             "host": Instance.host, "launched_at": Instance.launched_at, "locked": Instance.locked,
             "access_ip_v4": Instance.access_ip_v4, "access_ip_v6": Instance.access_ip_v6,
             "availability_zone": Instance.availability_zone, "config_drive": Instance.config_drive,
             "display_description": Instance.display_description, "hostname": Instance.hostname,
             "image_ref": Instance.image_ref, "key_name": Instance.key_name, "launch_index": Instance.launch_index,
             "locked_by": Instance.locked_by, "node": Instance.node, "power_state": Instance.power_state,
             "progress": Instance.progress, "project_id": Instance.project_id, "task_state": Instance.task_state,
             "terminated_at": Instance.terminated_at, "user_id": Instance.user_id}


def _ref(value: Any) -> str:
    """An id, or the last part of a URL to one (Nova accepts both)."""
    return str(value).rstrip("/").rsplit("/", 1)[-1]


_SHORT_HOSTNAME = re.compile(r"^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$")
_FQDN = re.compile(r"^[a-zA-Z0-9-._]*$")


def requested_hostname(req: falcon.Request, body: dict[str, Any], count: int = 1) -> str | None:
    """The ``hostname`` a create, update or rebuild asks for (2.90; a fully qualified name
    from 2.94), or None.

    :raises Invalid: before 2.90, not a valid name, or for several servers at once."""
    unexpected_before(req, "2.90", body, "hostname")
    if "hostname" not in body:
        return None
    name = body["hostname"]
    fqdn = at_least(req, "2.94")
    valid = isinstance(name, str) and (1 <= len(name) <= 255 and _FQDN.match(name) if fqdn
                                       else 2 <= len(name) <= 63 and _SHORT_HOSTNAME.match(name))
    if not valid:
        raise Invalid(f"Invalid input for field/attribute hostname. Value: {name}. It must be a "
                      f"{'fully qualified domain name' if fqdn else 'host name of 2 to 63 letters, digits and -'}")
    if count > 1:
        raise Invalid("Unable to allocate a single hostname to multiple instances")
    return name


def host_id(project_id: str, host: str | None) -> str:
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def _addresses(instance: Instance, extended: bool = True) -> dict[str, list[dict[str, Any]]]:
    """The server's addresses by network name (hidden while it builds, as Nova's);
    ``extended``: with OS-EXT-IPS type and MAC (every view but the 2.1-2.74 update/rebuild answer)."""
    result: dict[str, list[dict[str, Any]]] = {}
    if instance.vm_state == states.BUILDING:
        return result
    for nic in instance.network_info:
        for fixed in nic["fixed_ips"]:
            entries = result.setdefault(nic["network_name"] or nic["network_id"], [])
            address = fixed["ip_address"]
            entry: dict[str, Any] = {"version": 6 if ":" in address else 4, "addr": address}
            if extended:
                entry.update({"OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": nic["mac_address"]})
            entries.append(entry)
            for floating in nic.get("floating_ips", {}).get(address, []):
                entry = {"version": 6 if ":" in floating else 4, "addr": floating}
                if extended:
                    entry.update({"OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": nic["mac_address"]})
                entries.append(entry)
    return result


def _time(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


#: statuses whose view shows ``progress``; and ``fault`` (Nova's)
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FAULT_STATUSES = ("ERROR", "DELETED")


def canonical_ipv6(address: str | None) -> str | None:
    """An IPv6 address as Nova stores and shows it (compressed: ``::babe:dc0c:1602``)."""
    return str(ipaddress.IPv6Address(address)) if address else address


def view(req: falcon.Request, conf: Any, row: Instance, detail: bool = True, *, host_status: str = "",
         single: bool = False, full: bool = True) -> dict[str, Any]:
    """Nova's server view at the request's microversion (``host_status``: UP, DOWN, MAINTENANCE or
    UNKNOWN for its host, shown to administrators from 2.16; ``single``: one server's show,
    update or rebuild answer, which from 2.71 names its server groups; ``full=False``: the
    shorter answer of update and rebuild before 2.75, without zone, config drive, key, usage,
    security groups, extended attributes, states and volumes)."""
    body: dict[str, Any] = {"id": row.uuid, "name": row.display_name, "links": links(req, conf, "servers", row.uuid)}
    if not detail:
        return body
    ctx = context(req)
    flavor = row.flavor
    status = states.status(row.vm_state, row.task_state)
    body.update({
        "status": status, "tenant_id": row.project_id, "user_id": row.user_id,
        "metadata": {m.key: m.value for m in row.metadata_items}, "hostId": host_id(row.project_id, row.host),
        "image": {"id": row.image_ref, "links": [{"rel": "bookmark", "href": links(
            req, conf, "images", row.image_ref)[1]["href"]}]} | (
            {"properties": dict(row.request_spec.get("image_properties", {}))} if at_least(req, "2.98") else {})
        if row.image_ref else "",
        "flavor": {"id": flavor["id"], "links": [{"rel": "bookmark", "href": links(
            req, conf, "flavors", flavor["id"])[1]["href"]}]},
        "created": _time(row.created_at), "updated": _time(row.updated_at),
        "addresses": _addresses(row, extended=full),
        "accessIPv4": row.access_ip_v4 or "", "accessIPv6": row.access_ip_v6 or "",
        "OS-DCF:diskConfig": "AUTO" if row.auto_disk_config else "MANUAL",
    })
    if status in PROGRESS_STATUSES:
        body["progress"] = row.progress or 0
    if full:
        body.update({
            "OS-EXT-AZ:availability_zone": row.availability_zone or "nova",
            "config_drive": "True" if row.config_drive else "", "key_name": row.key_name,
            "OS-SRV-USG:launched_at": row.launched_at.isoformat() if row.launched_at else None,
            "OS-SRV-USG:terminated_at": row.terminated_at.isoformat() if row.terminated_at else None,
            "OS-EXT-STS:task_state": row.task_state, "OS-EXT-STS:vm_state": row.vm_state,
            "OS-EXT-STS:power_state": row.power_state,
            "os-extended-volumes:volumes_attached": [
                {"id": b["volume_id"], **({"delete_on_termination": bool(b.get("delete_on_termination"))}
                                          if at_least(req, "2.3") else {})}
                for b in row.block_device_mapping or [] if b.get("destination_type") == "volume"],
        })
        if row.security_groups:  # the groups on its ports; none, no key (as Nova)
            body["security_groups"] = [{"name": name} for name in row.security_groups]
    if at_least(req, "2.47"):
        body["flavor"] = {k: flavor.get(k, 0) for k in ("vcpus", "ram", "disk", "ephemeral", "swap")} | {
            "original_name": flavor["original_name"], "extra_specs": dict(flavor.get("extra_specs", {}))}
    extended = full and ctx.is_admin
    if extended:
        body.update({"OS-EXT-SRV-ATTR:host": row.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": row.node,
                     "OS-EXT-SRV-ATTR:instance_name": f"instance-{row.uuid[:8]}"})
        if at_least(req, "2.3"):
            body.update({"OS-EXT-SRV-ATTR:reservation_id": row.reservation_id,
                         "OS-EXT-SRV-ATTR:launch_index": row.launch_index, "OS-EXT-SRV-ATTR:hostname": row.hostname,
                         "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                         "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda", "OS-EXT-SRV-ATTR:user_data": row.user_data})
    if at_least(req, "2.9"):
        body["locked"] = bool(row.locked)
    if at_least(req, "2.16") and ctx.is_admin and full:
        body["host_status"] = host_status
    if at_least(req, "2.19"):
        body["description"] = row.display_description
    if at_least(req, "2.26"):
        body["tags"] = [t.tag for t in row.tags]
    if at_least(req, "2.63"):
        body["trusted_image_certificates"] = None  # no image signature verification here (create refuses them)
    if at_least(req, "2.71") and single:
        body["server_groups"] = row.server_groups if isinstance(row, _Listed) else _groups(
            sa.orm.object_session(row), row.uuid)
    if at_least(req, "2.73"):
        body["locked_reason"] = row.locked_reason
    if at_least(req, "2.90") and not extended:
        body["OS-EXT-SRV-ATTR:hostname"] = row.hostname
    if at_least(req, "2.96") and full:
        body["pinned_availability_zone"] = row.request_spec.get("availability_zone")
    if at_least(req, "2.100"):
        body["scheduler_hints"] = dict(row.request_spec.get("scheduler_hints", {}))
    if status in FAULT_STATUSES and row.faults:
        fault = row.faults[-1]
        body["fault"] = {"code": fault.code, "created": _time(fault.created_at), "message": fault.message}
        if ctx.is_admin:
            body["fault"]["details"] = fault.details
    return body


def volumes_for(volumes: Any, ctx: Any, disks: list[dict[str, Any]], count: int, name: str,
                zone: str | None) -> list[str]:
    """Check the existing volumes a create maps and start making the others (from an image, a
    snapshot or blank) in the caller's project; the ids of those made (gone if the create fails).
    Each entry gets its ``volume_id``.

    :raises Invalid: block storage is absent, several servers would share the volumes, a volume
        is missing or not available, or making one is refused.
    """
    wanted = [d for d in disks if d["destination_type"] == "volume"]
    if not wanted:
        return []
    if volumes is None:
        raise Invalid("Block Device Mapping is Invalid: this cloud has no block storage to map volumes from.")
    if count > 1:
        raise Invalid("Block Device Mapping is Invalid: servers that map volumes are made one per request here.")
    made: list[str] = []
    try:
        for disk in wanted:
            if disk["source_type"] == "volume":
                info = volumes.show(disk["uuid"], ctx)
                if info is None:
                    raise Invalid(f"Block Device Mapping is Invalid: failed to get volume {disk['uuid']}.")
                if disk["boot_index"] == 0 and not info.bootable:
                    raise Invalid(f"Block Device {info.id} is not bootable.")
                if info.status != "available" and not (info.multiattach and info.status == "in-use"):
                    raise Invalid(f"Invalid volume: volume {disk['uuid']} status must be available, but it is "
                                  f"{info.status}.")
                disk["volume_id"] = info.id
                continue
            try:
                suffix = "boot" if disk["boot_index"] == 0 else "data"
                disk["volume_id"] = volumes.create(
                    disk["volume_size"], ctx, name=f"{name}-{suffix}",
                    image_id=disk["uuid"] if disk["source_type"] == "image" else None,
                    snapshot_id=disk["uuid"] if disk["source_type"] == "snapshot" else None,
                    volume_type=disk.get("volume_type"), availability_zone=zone)
            except NotFound as exc:
                raise Invalid(f"Block Device Mapping is Invalid: {exc}") from None
            made.append(disk["volume_id"])
    except Exception:
        for volume_id in made:
            with contextlib.suppress(Exception):
                volumes.delete(volume_id, force=True)
        raise
    return made


def image_for(images: Any, ctx: Any, ref: str, flavor: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The image id ``ref`` names and its properties, once the caller may boot it with ``flavor``.

    :raises Invalid: no such (visible, active) image, or the flavor is too small for it.
    """
    if not ref:
        raise Invalid("Missing imageRef attribute: give imageRef or a block_device_mapping_v2 entry with "
                      "boot_index 0 (an image, or a volume to boot from).")
    image_id = _ref(ref)
    if images is None:
        return image_id, {}
    image = images.show(image_id, ctx)
    if image is None:
        raise Invalid(f"Image {image_id} could not be found.")
    if image.status != "active":
        raise Invalid(f"Image {image_id} is not active.")
    if image.min_ram and flavor["ram"] < image.min_ram:
        raise Invalid("Flavor's memory is too small for requested image.")
    if image.min_disk and flavor["disk"] and flavor["disk"] < image.min_disk:
        raise Invalid("Flavor's disk is too small for requested image.")
    if image.size and flavor["disk"] and image.size > flavor["disk"] * 1024 ** 3:
        raise Invalid("Flavor's disk is too small for requested image.")
    return image_id, dict(image.properties)


def disk_config_for(requested: str | None, image_id: str, properties: dict[str, str]) -> str:
    """``AUTO`` or ``MANUAL``: what the request asks for, else what the image's ``auto_disk_config``
    property says (Nova's rule). :raises Invalid: AUTO asked for an image that disables it."""
    image_says = str(properties.get("auto_disk_config", "")).lower()
    if requested == "AUTO" and image_says == "disabled":
        raise Invalid(f"Requested image {image_id} has automatic disk resize disabled.")
    if requested:
        return requested
    return "AUTO" if image_says in ("1", "t", "true", "on", "y", "yes") else "MANUAL"


def host_statuses(req: falcon.Request, compute: Any) -> dict[str, str]:
    """Each compute host's ``host_status`` (2.16, administrators): UP, DOWN or MAINTENANCE
    (disabled); hosts without a service record are UNKNOWN."""
    if not (at_least(req, "2.16") and context(req).is_admin):
        return {}
    return {s.host: "MAINTENANCE" if s.disabled else ("UP" if s.up else "DOWN")
            for s in compute.registry.list(binary=binaries.COMPUTE)}


def _status_of(statuses: dict[str, str], row: Instance) -> str:
    return statuses.get(row.host, "UNKNOWN") if row.host else ""




class _Listed:
    """A server as a list shows it: its row's columns, read without building ORM objects, and
    its metadata, tags and (for failed ones) faults, read for the whole page at once."""

    def __init__(self, row: Any, fields: Any = None) -> None:
        self.__dict__.update(zip(fields if fields is not None else row._fields, row, strict=True))
        self.metadata_items: list[Any] = []
        self.tags: list[Any] = []
        self.faults: list[Any] = []
        self.server_groups: list[str] = []


#: what a list reads of each server (the columns it does not show are each a JSON column to decode)
_LISTED = [c for c in Instance.__table__.columns if c.name not in ("requested_networks", "tried_hosts")]
#: ... and what it reads when the request's microversion shows nothing of the request spec (2.96+)
#: and the caller is not shown user data (administrators, 2.3+): a server's largest columns
_LISTED_SHORT = [c for c in _LISTED if c.name not in ("request_spec", "user_data")]


def _listed_columns(req: falcon.Request) -> list[Any]:
    if at_least(req, "2.96") or (at_least(req, "2.3") and context(req).is_admin):
        return _LISTED
    return _LISTED_SHORT


def _with_collections(session: Any, rows: list[Any]) -> list[_Listed]:
    fields = rows[0]._fields if rows else ()
    listed = {r.uuid: _Listed(r, fields) for r in rows}
    uuids = list(listed)
    core = session.connection()  # plain rows: the ORM's result handling was a fifth of a page
    for start in range(0, len(uuids), 500):
        chunk = uuids[start:start + 500]
        metadata, tag = models.InstanceMetadata, models.InstanceTag
        for item in core.execute(sa.select(metadata.instance_uuid, metadata.key, metadata.value).where(
                metadata.instance_uuid.in_(chunk)).order_by(metadata.key)):
            listed[item.instance_uuid].metadata_items.append(item)
        for item in core.execute(sa.select(tag.instance_uuid, tag.tag).where(
                tag.instance_uuid.in_(chunk)).order_by(tag.tag)):
            listed[item.instance_uuid].tags.append(item)
        failed = [u for u in chunk if listed[u].vm_state in (states.ERROR, states.DELETED)]
        if failed:
            for item in session.scalars(sa.select(models.InstanceFault).where(
                    models.InstanceFault.instance_uuid.in_(failed)).order_by(models.InstanceFault.id)):
                listed[item.instance_uuid].faults.append(item)
    return [listed[r.uuid] for r in rows]


def _groups(session: Any, uuid: str) -> list[str]:
    return list(session.scalars(_GROUPS_OF, {"uuid": uuid}))


# a server's show (what a client waiting for a status polls) as statements built once: their
# cache keys are computed once, where the ORM's get() works one out for every poll
_SHOW = sa.select(*_LISTED).where(Instance.uuid == sa.bindparam("uuid"))
_METADATA_OF = sa.select(models.InstanceMetadata.key, models.InstanceMetadata.value).where(
    models.InstanceMetadata.instance_uuid == sa.bindparam("uuid")).order_by(models.InstanceMetadata.key)
_TAGS_OF = sa.select(models.InstanceTag.tag).where(
    models.InstanceTag.instance_uuid == sa.bindparam("uuid")).order_by(models.InstanceTag.tag)
_FAULTS_OF = sa.select(models.InstanceFault).where(
    models.InstanceFault.instance_uuid == sa.bindparam("uuid")).order_by(models.InstanceFault.id)
_GROUPS_OF = sa.select(models.InstanceGroupMember.group_uuid).where(
    models.InstanceGroupMember.instance_uuid == sa.bindparam("uuid"))


def shown(session: Any, req: falcon.Request, server_id: str) -> _Listed:
    """The server as its show renders it, read without ORM objects: its row, its metadata, and
    only what the request's microversion shows of the rest (tags, faults, server groups)."""
    core = session.connection()
    server = _Listed(_visible(req, core.execute(_SHOW, {"uuid": server_id}).first(), server_id))
    server.metadata_items = list(core.execute(_METADATA_OF, {"uuid": server_id}))
    if at_least(req, "2.26"):
        server.tags = list(core.execute(_TAGS_OF, {"uuid": server_id}))
    if server.vm_state in (states.ERROR, states.DELETED):
        server.faults = list(session.scalars(_FAULTS_OF, {"uuid": server_id}))
    if at_least(req, "2.71"):
        server.server_groups = _groups(session, server_id)
    return server


def _visible(req: falcon.Request, row: Any, server_id: str) -> Any:
    """``row`` if the caller may see that server (live, and theirs or they administer).

    :raises NotFound: otherwise, as Nova says it."""
    ctx = context(req)
    if row is None or row.deleted or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise NotFound(f"Instance {server_id} could not be found.")
    return row


def find(session: Any, req: falcon.Request, server_id: str) -> Instance:
    # collections load when touched: a step that changes a server reads its row alone
    return _visible(req, session.get(Instance, server_id, options=LAZY), server_id)


def _tag_filters(params: dict[str, Any]) -> list[Any]:
    """``tags`` (all of), ``tags-any``, ``not-tags`` (not all of), ``not-tags-any`` (none of): 2.26."""
    def tags(name: str) -> list[str]:
        value = params.get(name)
        values = [value] if isinstance(value, str) else list(value or [])
        return [t for v in values for t in v.split(",") if t]

    def has(tag: str) -> Any:
        return Instance.tags.any(models.InstanceTag.tag == tag)

    where = [has(t) for t in tags("tags")]
    if tags("tags-any"):
        where.append(sa.or_(*[has(t) for t in tags("tags-any")]))
    if tags("not-tags"):
        where.append(sa.not_(sa.and_(*[has(t) for t in tags("not-tags")])))
    where.extend(sa.not_(has(t)) for t in tags("not-tags-any"))
    return where


#: what everyone may filter servers by (Nova strips the rest for non-administrators), and from which version
USER_FILTERS = {"reservation_id": "2.1", "name": "2.1", "status": "2.1", "image": "2.1", "flavor": "2.1",
                "ip": "2.1", "changes-since": "2.1", "all_tenants": "2.1", "ip6": "2.5", "tags": "2.26",
                "tags-any": "2.26", "not-tags": "2.26", "not-tags-any": "2.26", "changes-before": "2.66",
                "locked": "2.73", "availability_zone": "2.83", "config_drive": "2.83", "key_name": "2.83",
                "created_at": "2.83", "launched_at": "2.83", "terminated_at": "2.83", "power_state": "2.83",
                "task_state": "2.83", "vm_state": "2.83", "progress": "2.83", "user_id": "2.83"}
PAGING = ("limit", "marker", "sort_key", "sort_dir")
#: every filter an administrator may use (unknown ones are ignored before 2.75, 400 from it)
ADMIN_FILTERS = {"user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id",
                 "ramdisk_id", "hostname", "key_name", "power_state", "vm_state", "task_state", "host", "node",
                 "flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone", "name",
                 "display_name", "description", "display_description", "locked_by", "uuid", "root_device_name",
                 "config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "all_tenants",
                 "soft_deleted", "deleted", "status", "changes-since", "ip", "ip6", "created_at"}
EXACT_FILTERS = {"uuid": Instance.uuid, "user_id": Instance.user_id, "host": Instance.host,
                 "vm_state": Instance.vm_state, "task_state": Instance.task_state}
#: filters Nova matches as regular expressions on the column's text: parameter -> attribute
REGEX_FILTERS = {"hostname": "hostname", "key_name": "key_name", "node": "node", "reservation_id": "reservation_id",
                 "availability_zone": "availability_zone", "description": "display_description",
                 "display_description": "display_description", "locked_by": "locked_by",
                 "config_drive": "config_drive", "access_ip_v4": "access_ip_v4", "access_ip_v6": "access_ip_v6",
                 "progress": "progress", "power_state": "power_state", "launch_index": "launch_index",
                 "created_at": "created_at", "launched_at": "launched_at", "terminated_at": "terminated_at"}


def _list_params(req: falcon.Request, is_admin: bool) -> dict[str, Any]:
    """The request's list parameters as Nova takes them: unknown ones 400 from 2.75 (ignored
    before); those only administrators may use dropped for everyone else.

    :raises Invalid: an unknown parameter at 2.75 or later."""
    known = ADMIN_FILTERS | set(PAGING) | {"display_name"}
    for name, since in USER_FILTERS.items():
        if at_least(req, since):
            known.add(name)
    unknown = sorted(set(req.params) - known)
    if unknown and at_least(req, "2.75"):
        raise Invalid(f"Invalid input for query parameters {unknown[0]}. Additional properties are not allowed "
                      f"('{unknown[0]}' was unexpected)")
    allowed = known if is_admin else {n for n, since in USER_FILTERS.items() if at_least(req, since)} | set(PAGING)
    params = {k: v for k, v in req.params.items() if k in allowed}
    if "display_name" in params and "name" not in params:
        params["name"] = params["display_name"]
    return params


def _sort_keys(req: falcon.Request, params: dict[str, Any]) -> list[paging.SortKey]:
    """The list's order as Nova takes ``sort_key``/``sort_dir`` (repeatable; directions
    missing follow the first one, default desc), then ``created_at`` and the uuid.

    :raises Invalid: an unknown key or direction, or more directions than keys.
    """
    def values(name: str) -> list[str]:
        value = params.get(name) or []
        return [value] if isinstance(value, str) else list(value)

    names, directions = values("sort_key"), values("sort_dir")
    default = directions[0] if directions else "desc"
    if len(directions) > len(names):
        raise Invalid("Sort direction size exceeds sort key size")
    directions += [default] * (len(names) - len(directions))
    for name, direction in zip(names, directions, strict=True):
        if name not in SORT_KEYS or direction not in ("asc", "desc") or (
                name == "locked" and not at_least(req, "2.73")):
            raise Invalid(f"Invalid sort_key {name} or sort_dir {direction}")
    order = list(dict.fromkeys([*names, "created_at", "uuid"]))
    direction_of = dict(zip(names, directions, strict=True))
    return paging.sort_keys([(SORT_KEYS[n].key, SORT_KEYS[n], direction_of.get(n, default) == "asc",
                              bool(SORT_KEYS[n].expression.nullable)) for n in order], ("uuid", Instance.uuid))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _regex_filters(params: dict[str, Any]) -> list[tuple[str, re.Pattern[str]]]:
    result = []
    for name, attribute in REGEX_FILTERS.items():
        if name in params:
            value = params[name] if isinstance(params[name], str) else params[name][0]
            try:
                result.append((attribute, re.compile(value)))
            except re.error:
                raise Invalid(f"Invalid {name} filter {value!r}: not a regular expression") from None
    return result


def _address_patterns(req: falcon.Request, params: dict[str, Any]) -> list[tuple[bool, re.Pattern[str]]]:
    """The ``ip`` and ``ip6`` filters (regular expressions, as Nova); ``ip6`` for everyone from 2.5."""
    result = []
    for name, v6 in (("ip", False), ("ip6", True)):
        if name not in params or (v6 and not (at_least(req, "2.5") or context(req).is_admin)):
            continue
        try:
            result.append((v6, re.compile(params[name])))
        except re.error:
            raise Invalid(f"Invalid {name} filter {params[name]!r}: not a regular expression") from None
    return result


def check_personality(req: falcon.Request, session: Any, conf: Any, project_id: str, body: dict[str, Any]) -> None:
    """Files to inject (before 2.57; no driver here injects them): Nova's shape and quotas.

    :raises Invalid: asked for at 2.57 or later, or contents not base64.
    :raises Forbidden: more files, or longer paths or contents, than the project's quotas."""
    if "personality" not in body:
        return
    if at_least(req, "2.57"):
        raise Invalid("Invalid input for field/attribute personality: Additional properties are not allowed "
                      "('personality' was unexpected); it was removed in microversion 2.57")
    limit = quotas.limits(session, conf, project_id)
    files = body["personality"]
    if 0 <= limit["injected_files"] < len(files):
        raise Forbidden("Personality file limit exceeded")
    for item in files:
        try:
            contents = base64.b64decode(item["contents"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"Personality content for {item['path']} cannot be decoded") from None
        if 0 <= limit["injected_file_path_bytes"] < len(item["path"].encode()):
            raise Forbidden("Personality file path exceeds maximum 255")
        if 0 <= limit["injected_file_content_bytes"] < len(contents):
            raise Forbidden(f"Personality file content exceeds maximum {limit['injected_file_content_bytes']}")


def refuse_certificates(body: dict[str, Any]) -> None:
    """:raises Invalid: trusted image certificates given (2.63): nothing here verifies image
    signatures, and Nova refuses them in the same words when its verification is off."""
    if body.get("trusted_image_certificates"):
        raise Invalid("Image certificate validation is not enabled.")


def _check_create_version(req: falcon.Request, body: dict[str, Any]) -> None:
    """What a create may hold at the request's microversion (Nova's schema per version)."""
    unexpected_before(req, "2.19", body, "description")
    unexpected_before(req, "2.63", body, "trusted_image_certificates")
    refuse_certificates(body)
    unexpected_before(req, "2.52", body, "tags")
    networks = body.get("networks")
    if at_least(req, "2.37") and networks is None:
        raise Invalid("Invalid input for field/attribute networks: 'networks' is a required property")
    if isinstance(networks, str) and not at_least(req, "2.37"):
        raise Invalid(f"Invalid input for field/attribute networks: {networks!r} is not of type 'array'")
    tagged = isinstance(networks, list) and any("tag" in n for n in networks)
    if tagged and not (Version("2.32") <= req.context.microversion <= Version("2.36") or at_least(req, "2.42")):
        raise Invalid("Invalid input for field/attribute networks: Additional properties are not allowed ('tag' "
                      "was unexpected)")
    if at_least(req, "2.37") and isinstance(networks, list):
        for entry in networks:
            if "uuid" in entry and not is_uuid(entry["uuid"]):
                raise Invalid(f"Invalid input for field/attribute uuid: {entry['uuid']!r} is not a 'uuid'")


class Servers:
    def __init__(self, deps: Any, policy: Policy, detail: bool) -> None:
        self.compute, self.policy, self.detail = deps.services["compute"], policy, detail
        self.images = deps.services["compute"].images  # the image service's client
        self.network = deps.services["compute"].network  # the network service's client
        self.conf = deps.conf

    # -- list ---------------------------------------------------------------------------

    @schema("List servers (name regex, status, image, flavor, host, changes-since, all_tenants, sort, pages)",
            responses={200: {"type": "object", "required": ["servers"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:servers:" + ("detail" if self.detail else "index"),
                {"project_id": ctx.project_id})
        params = _list_params(req, ctx.is_admin)
        where: list[Any] = []
        all_tenants = params.get("all_tenants")  # present means every project unless it says false ("" too)
        if all_tenants is not None and (all_tenants == "" or bool_param("all_tenants", all_tenants)):
            enforce(req, self.policy, "os_compute_api:servers:index:get_all_tenants")
            if "project_id" in params or "tenant_id" in params:
                where.append(Instance.project_id == (params.get("project_id") or params.get("tenant_id")))
        else:
            where.append(Instance.project_id == ctx.project_id)
        scope = len(where)
        window = changes(req, Instance.updated_at)
        if window:  # a window of changes shows deletions too
            where.extend(window)
        elif params.get("deleted") and ctx.is_admin and bool_param("deleted", params["deleted"]):
            where.append(sa.or_(Instance.deleted.is_(True), Instance.vm_state == states.SOFT_DELETED))
        else:  # soft-deleted servers are listed only with the deleted ones, as Nova's
            where.extend((Instance.deleted.is_(False), Instance.vm_state != states.SOFT_DELETED))
        if "status" in params:
            wanted = [params["status"]] if isinstance(params["status"], str) else params["status"]
            unknown = [w for w in wanted if w.upper() not in states.STATUS_FILTER]
            if unknown and at_least(req, "2.38"):
                raise Invalid(f"Invalid status value: {unknown[0]}")
            vm_states = [vm for s in wanted for vm in states.STATUS_FILTER.get(s.upper(), [])]
            where.append(Instance.vm_state.in_(vm_states))
        if at_least(req, "2.26"):
            where.extend(_tag_filters(params))
        if "image" in params or "image_ref" in params:
            where.append(Instance.image_ref == _ref(params.get("image") or params["image_ref"]))
        for name, column in EXACT_FILTERS.items():
            if name in params:
                values = [params[name]] if isinstance(params[name], str) else list(params[name])
                where.append(column.in_(values))
        if "locked" in params:
            where.append(Instance.locked.is_(bool_param("locked", params["locked"])))
        patterns = _regex_filters(params)
        keys = _sort_keys(req, params)
        limit = min(int_param(req, "limit"), self.conf.compute.max_limit) if "limit" in params \
            else self.conf.compute.max_limit
        name = params.get("name")
        try:
            pattern = re.compile(name) if name else None
        except re.error:
            raise Invalid(f"Invalid name filter {name!r}: not a regular expression") from None
        flavor = _ref(params["flavor"]) if "flavor" in params else None
        addresses = _address_patterns(req, params)

        def wanted(r: Instance) -> bool:
            return ((not pattern or bool(pattern.search(r.display_name)))
                    and all(p.search(_text(getattr(r, attribute))) for attribute, p in patterns)
                    and (flavor is None or r.flavor["id"] == flavor)
                    and all(any(p.search(f["ip_address"]) for n in r.network_info for f in n["fixed_ips"]
                                if (":" in f["ip_address"]) == v6) for v6, p in addresses))

        statuses = host_statuses(req, self.compute) if self.detail else {}
        with self.compute.db.reading() as session:
            after = None
            marker = params.get("marker")
            if marker is not None:  # any server the caller could list, deleted or filtered out too (as Nova)
                after = session.scalars(sa.select(Instance).where(Instance.uuid == marker, *where[:scope])).first()
                if after is None:
                    raise Invalid(f"marker [{marker}] not found")
            filtered = bool(pattern or patterns or flavor is not None or addresses)
            # filters SQL cannot express on every database: read in order, a page's worth at a
            # time, until the page is full
            batch = limit + 1
            page = []
            while True:
                statement = sa.select(*_listed_columns(req)).where(*where)
                if after is not None:
                    statement = statement.where(paging.after(keys, after))
                rows = list(session.connection().execute(statement.order_by(*paging.order_by(keys)).limit(batch)))
                page += [r for r in rows if wanted(r)] if filtered else rows
                if len(page) > limit or len(rows) < batch or not filtered:
                    break
                after = rows[-1]
            more, page = len(page) > limit, _with_collections(session, page[:limit])
            body: dict[str, Any] = {"servers": [
                view(req, self.conf, r, self.detail, host_status=_status_of(statuses, r)) for r in page]}
        if more and page:
            body["servers_links"] = page_links(req, page[-1].uuid)
        resp.media = body

    # -- create -------------------------------------------------------------------------

    @schema("Create servers (BUILD; the conductor places them)", request=CREATE,
            responses={202: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = context(req)
        enforce(req, self.policy, "os_compute_api:servers:create", {"project_id": ctx.project_id})
        body = req.context.body["server"]
        _check_create_version(req, body)
        hints = req.context.body.get("os:scheduler_hints") or req.context.body.get("OS-SCH-HNT:scheduler_hints") or {}
        min_count, max_count = int(body.get("min_count", 1)), int(body.get("max_count", body.get("min_count", 1)))
        if min_count > max_count:
            raise Invalid("min_count must be <= max_count")
        with self.compute.db.reading() as session:  # checks only: the servers are written by create_servers
            try:
                flavor_row = find_flavor(session, req, _ref(body["flavorRef"]))
            except NotFound as exc:
                raise Invalid(str(exc)) from None  # Nova: 400 for a create naming an unknown flavor
            flavor = embedded(flavor_row)
            key_data = None
            if "key_name" in body:
                key = session.scalars(sa.select(models.KeyPair).where(models.KeyPair.user_id == ctx.user_id,
                                                                      models.KeyPair.name == body["key_name"])).first()
                if key is None:
                    raise Invalid(f"Invalid key_name provided: {body['key_name']}")
                key_data = key.public_key
            check_personality(req, session, self.conf, ctx.project_id, body)
            quotas.check_metadata(session, self.conf, ctx.project_id, len(body.get("metadata", {})))
            placement = self._placement(req, session, body)
            group = None
            if hints.get("group"):
                group_id = hints["group"] if isinstance(hints["group"], str) else hints["group"][0]
                row = session.get(models.InstanceGroup, group_id)
                if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
                    raise Invalid(f"Invalid server group {group_id}: it could not be found.")
                group = {"uuid": row.uuid, "policy": row.policy, "rules": row.rules or {}}
        root, disks = block_devices.parse(req, body, flavor, self.conf.compute.max_local_block_devices)
        boot = block_devices.boot_volume(disks)
        if boot is None:
            image_ref, image_properties = image_for(self.images, ctx, root or body.get("imageRef", ""), flavor)
        else:  # a volume-backed server has no image of its own (Nova shows "")
            image_ref = ""
            image_properties = image_for(self.images, ctx, boot["uuid"], flavor)[1] \
                if boot["source_type"] == "image" else {}
        disk_config = disk_config_for(body.get("OS-DCF:diskConfig"), image_ref, image_properties)
        if "user_data" in body:
            try:
                base64.b64decode(body["user_data"], validate=True)
            except (binascii.Error, ValueError):
                raise Invalid("User data needs to be valid base 64.") from None
        requested = self._networks(ctx, body.get("networks"), min_count)
        asked = [g["name"] for g in body.get("security_groups", [])]
        groups = list(dict.fromkeys(asked or (["default"] if requested else [])))  # what its ports will have
        if asked and self.network is not None:
            try:
                self.network.check_security_groups(ctx.project_id, asked)
            except NotFound as exc:
                raise Invalid(str(exc)) from None
        made_volumes = volumes_for(self.compute.volumes, ctx, disks, max_count, body["name"],
                                   body.get("availability_zone"))
        try:
            created = self._create(ctx, body, flavor, image_ref, image_properties, min_count, max_count, key_data,
                                   disk_config, requested, groups, disks, placement, group, hints, req)
        except Exception:
            for volume_id in made_volumes:  # the server was refused: the volumes made for it go
                with contextlib.suppress(Exception):
                    self.compute.volumes.delete(volume_id, force=True)
            raise
        reservation, ids = created.reservation_id, created.ids
        resp.status = 202
        if str(body.get("return_reservation_id", False)).lower() == "true":
            resp.media = {"reservation_id": reservation}
            return
        resp.media = {"server": {"id": ids[0], "links": links(req, self.conf, "servers", ids[0]),
                                 "OS-DCF:diskConfig": disk_config, "adminPass": body.get("adminPass") or
                                 secrets.token_urlsafe(9),
                                 "security_groups": [{"name": g} for g in groups or ["default"]]}}

    def _create(self, ctx: Any, body: dict[str, Any], flavor: dict[str, Any], image_ref: str,
                image_properties: dict[str, str], min_count: int, max_count: int, key_data: Any, disk_config: str,
                requested: Any, groups: list[str], disks: list[dict[str, Any]], placement: dict[str, Any],
                group: Any, hints: dict[str, Any], req: falcon.Request) -> Any:
        return create_servers(self.compute, ctx, ServerRequest(
            name=body["name"], flavor=flavor, image_ref=image_ref, min_count=min_count, max_count=max_count,
            image_properties=image_properties, hostname=requested_hostname(req, body, max_count),
            key_name=body.get("key_name"), key_data=key_data, user_data=body.get("user_data"),
            config_drive=str(body.get("config_drive", False)).lower() in ("true", "1"),
            description=body.get("description"), access_ip_v4=body.get("accessIPv4"),
            access_ip_v6=canonical_ipv6(body.get("accessIPv6")), auto_disk_config=disk_config == "AUTO",
            requested_networks=requested, security_groups=groups, block_device_mapping=disks, placement=placement,
            group=group, scheduler_hints=hints, metadata=body.get("metadata", {}), tags=body.get("tags", [])))

    def _placement(self, req: falcon.Request, session: Any, body: dict[str, Any]) -> dict[str, Any]:
        """Where the request may go: ``availability_zone`` (asked, or ``[compute]
        default_schedule_zone``), and for administrators a host and node, either forced
        (``zone:host:node``: the filters are skipped) or, from 2.74, ``host`` and
        ``hypervisor_hostname`` (the filters still apply).

        :raises Invalid: an unknown zone, host or node."""
        unexpected_before(req, "2.74", body, "host", "hypervisor_hostname")
        zone, _, target = (body.get("availability_zone") or "").partition(":")
        host, _, node = target.partition(":")
        if host or node:
            enforce(req, self.policy, "os_compute_api:servers:create:forced_host", {})
        if body.get("host") or body.get("hypervisor_hostname"):
            enforce(req, self.policy, "compute:servers:create:requested_destination", {})
        zone = zone or self.conf.compute.default_schedule_zone
        if zone and zone not in zones.known_zones(session, self.conf):
            raise Invalid("The requested availability zone is not available")
        wanted_host, wanted_node = host or body.get("host"), node or body.get("hypervisor_hostname")
        if wanted_host or wanted_node:
            query = sa.select(models.ComputeNode.host)
            if wanted_host:
                query = query.where(models.ComputeNode.host == wanted_host)
            if wanted_node:
                query = query.where(models.ComputeNode.nodename == wanted_node)
            if session.scalars(query).first() is None:
                if wanted_host and wanted_node:
                    raise Invalid(f"Compute host {wanted_host} with node {wanted_node} could not be found.")
                raise Invalid(f"Compute host {wanted_host or wanted_node} could not be found.")
        return {"availability_zone": zone or None, "host": wanted_host or None, "node": wanted_node or None,
                "force": bool(host or node)}

    def _networks(self, ctx: Any, requested: list[dict[str, Any]] | str | None, count: int) -> list[dict[str, Any]]:
        if self.network is None:
            return []
        if requested == "none":
            return []
        if requested is None or requested == "auto":
            available = self.network.networks_for(ctx.project_id)
            if requested == "auto" and not available:
                raise Invalid(f"Unable to automatically allocate a network for project {ctx.project_id}: no "
                              "network is available to it and this cloud does not create one.")
            if len(available) > 1:
                raise Conflict("Multiple possible networks found, use a Network ID to be more specific.")
            return [{"uuid": available[0][0]}] if available else []
        result = []
        for entry in requested:
            if entry.get("port"):
                if count > 1:
                    raise Invalid("Unable to launch multiple instances with a single configured port ID. Please "
                                  "launch your instance one by one with different ports.")
                self.network.check_port(ctx.project_id, entry["port"], ctx.is_admin)
                result.append({"port": entry["port"], **({"tag": entry["tag"]} if entry.get("tag") else {})})
            elif entry.get("uuid"):
                if not is_uuid(entry["uuid"]):
                    raise Invalid(f"Bad networks format: network uuid is not in proper format ({entry['uuid']})")
                try:
                    self.network.check_network(ctx.project_id, entry["uuid"], ctx.is_admin)
                except NotFound:
                    raise Invalid(f"Network {entry['uuid']} could not be found.") from None
                item = {"uuid": entry["uuid"]}
                for key in ("fixed_ip", "tag"):
                    if entry.get(key):
                        item[key] = entry[key]
                result.append(item)
            else:
                raise Invalid("Bad networks format: each entry needs uuid or port")
        return result


class ServerItem:
    def __init__(self, deps: Any, policy: Policy) -> None:
        self.compute, self.policy, self.conf = deps.services["compute"], policy, deps.conf

    @schema("Show a server", responses={200: {"type": "object", "required": ["server"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        statuses = host_statuses(req, self.compute)  # the services' database: before this one's transaction
        with self.compute.db.reading() as session:
            row = shown(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:servers:show", {"project_id": row.project_id})
            resp.media = {"server": view(req, self.conf, row, host_status=_status_of(statuses, row), single=True)}

    @schema("Rename a server or set its access addresses", request=UPDATE,
            responses={200: {"type": "object", "required": ["server"]}})
    def on_put(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body = req.context.body["server"]
        statuses = host_statuses(req, self.compute)
        with self.compute.db.transaction() as session:
            row = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:servers:update", {"project_id": row.project_id})
            unexpected_before(req, "2.19", body, "description")
            hostname = requested_hostname(req, body)
            if "name" in body:
                row.display_name = body["name"]  # the hostname stays, as Nova's
            if hostname is not None:
                row.hostname = hostname
            if "description" in body:
                row.display_description = body["description"]
            if "accessIPv4" in body:
                row.access_ip_v4 = body["accessIPv4"]
            if "accessIPv6" in body:
                row.access_ip_v6 = canonical_ipv6(body["accessIPv6"])
            if "OS-DCF:diskConfig" in body:
                row.auto_disk_config = body["OS-DCF:diskConfig"] == "AUTO"
            row.updated_at = utcnow()
            session.flush()
            resp.media = {"server": view(req, self.conf, row, host_status=_status_of(statuses, row), single=True,
                                         full=at_least(req, "2.75"))}

    @schema("Delete a server (with [compute] reclaim_instance_interval: soft-delete it, restorable until then)",
            responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        delete(self.compute, req, self.policy, server_id, "os_compute_api:servers:delete",
               soft=self.conf.compute.reclaim_instance_interval > 0)
        resp.status = 204


_HOST_OF = sa.select(Instance.host).where(Instance.uuid == sa.bindparam("b_uuid"))


def delete(compute: Any, req: falcon.Request, policy: Policy, server_id: str, rule: str, soft: bool) -> None:
    """Delete the server now, or ``soft``: power it off and keep it SOFT_DELETED until its host
    reclaims it (Nova's deferred delete; a server never launched or on no host goes at once)."""
    ctx = context(req)
    with compute.db.reading() as session:  # the host alone: the transaction below finds the server as the caller may
        seen_host = session.scalar(_HOST_OF, {"b_uuid": server_id})
    # the services' database, outside this one's transaction (on SQLite it would wait for its lock)
    host_up = seen_host is not None and compute.host_is_up(seen_host)
    target: str | None = None
    with compute.db.transaction() as session:
        row = find(session, req, server_id)
        enforce(req, policy, rule, {"project_id": row.project_id})
        if row.locked and not ctx.is_admin:
            raise Conflict(f"Instance {server_id} is locked")
        host, ports = row.host, list(row.network_info)
        history.record_action(session, server_id, ctx, "delete")
        if soft and host and host_up and row.launched_at and row.task_state is None \
                and row.vm_state != states.SOFT_DELETED:
            row.task_state, row.deleted_at, row.updated_at = states.SOFT_DELETING, utcnow(), utcnow()
            soft_host = host
        else:
            soft_host = None
        confirm = None
        if soft_host is None and row.vm_state == states.RESIZED and row.task_state is None:
            from stratus.compute.api import resizes

            try:  # as Nova: confirm the resize (its source holds a copy), then delete
                migration = resizes.finished(session, row, "delete", "confirming")
                confirm = {"uuid": migration.uuid, "source_compute": migration.source_compute}
            except (Invalid, Conflict):
                pass
        if soft_host is None and confirm is None and host is not None and host == seen_host and host_up:
            # the usual delete, of a server on a live host: its host is told in this same transaction
            row.task_state, row.updated_at = states.DELETING, utcnow()
            target = host
    if target is not None:
        compute.rpc(TOPIC).cast(ctx, "terminate_instance", server=target, instance_uuid=server_id)
        return
    if soft_host is not None:
        compute.rpc(TOPIC).cast(ctx, "soft_delete_instance", server=soft_host, instance_uuid=server_id)
        return
    if confirm is not None:
        compute.rpc(TOPIC).cast(ctx, "confirm_resize", server=confirm["source_compute"],
                                instance_uuid=server_id, migration_uuid=confirm["uuid"])
    down = host is not None and not host_up
    if down:  # its host is down: delete here, as Nova's local delete
        compute.release_ports(server_id, ports)
    with compute.db.transaction() as session:
        row = find(session, req, server_id)
        # read again: a server unplaced a moment ago may have been placed since, its build under way
        released: list[dict[str, Any]] = []
        if row.host is None or (down and row.host == host):
            released = [b for b in row.block_device_mapping or [] if b.get("destination_type") == "volume"]
            finish_delete(session, row)  # never placed, its build gave everything back, or its host is down
            target = None
        else:
            row.task_state, row.updated_at = states.DELETING, utcnow()
            target = row.host
    compute.release_volumes(server_id, released)  # after the transaction: volumes may share its database
    if target is not None:
        compute.rpc(TOPIC).cast(ctx, "terminate_instance", server=target, instance_uuid=server_id)
