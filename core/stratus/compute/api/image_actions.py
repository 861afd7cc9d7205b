"""The ``rebuild`` and ``createImage`` server actions (Nova's rules and words).

``rebuild`` writes the new image, name, metadata, key and user data in the API (as Nova)
and casts the new disk to the host; ``createImage`` makes a queued snapshot image owned by
the server's project — its properties inherited from the server's image, as Nova's — and
casts the upload to the host.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.compute import models, quotas, states
from stratus.compute.api.actions import begin, check
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import canonical_ipv6, disk_config_for
from stratus.compute.instances import utcnow
from stratus.compute.topics import TOPIC
from stratus.exceptions import Forbidden, Invalid, PayloadTooLarge

REBUILD_STATES = (states.ACTIVE, states.STOPPED, states.ERROR)
SNAPSHOT_STATES = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
#: base image properties a snapshot does not inherit (they describe that image's data or owner)
NOT_INHERITED = frozenset({"image_type", "instance_uuid", "base_image_ref", "user_id", "owner_project_name",
                           "owner_user_name", "img_signature", "img_signature_hash_method",
                           "img_signature_key_type", "img_signature_certificate_uuid", "boot_roles"})


def rebuild(compute: Any, image: tuple[str, dict[str, str]], session: Any, instance: models.Instance,
            argument: dict[str, Any], hostname: str | None = None) -> str:
    """Check and write the rebuild in the caller's transaction; returns the admin password.
    ``image``: the new image's id and properties (checked against the server's flavor);
    ``hostname``: the new hostname asked for (2.90), if any."""

    check(instance, "rebuild", REBUILD_STATES)
    image_id, properties = image
    if "user_data" in argument and argument["user_data"] is not None:
        try:
            base64.b64decode(argument["user_data"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("User data needs to be valid base 64.") from None
    key_data = instance.key_data
    if argument.get("key_name"):
        key = session.scalars(sa.select(models.KeyPair).where(models.KeyPair.user_id == instance.user_id,
                                                              models.KeyPair.name == argument["key_name"])).first()
        if key is None:
            raise Invalid(f"Invalid key_name provided: {argument['key_name']}")
        key_data = key.public_key
    if "metadata" in argument:
        quotas.check_metadata(session, compute.conf, instance.project_id, len(argument["metadata"]))
    begin(session, instance, "rebuild", REBUILD_STATES, states.REBUILDING)
    instance.image_ref = image_id
    instance.request_spec = {**instance.request_spec, "image_properties": properties}
    if "name" in argument:
        instance.display_name = argument["name"]  # the hostname stays, as Nova's
    if hostname is not None:
        instance.hostname = hostname
    if "metadata" in argument:
        instance.metadata_items = [models.InstanceMetadata(key=k, value=v) for k, v in argument["metadata"].items()]
    if "key_name" in argument:
        instance.key_name, instance.key_data = argument["key_name"], key_data if argument["key_name"] else None
    if "user_data" in argument:
        instance.user_data = argument["user_data"]
    if "description" in argument:
        instance.display_description = argument["description"]
    if "accessIPv4" in argument:
        instance.access_ip_v4 = argument["accessIPv4"]
    if "accessIPv6" in argument:
        instance.access_ip_v6 = canonical_ipv6(argument["accessIPv6"])
    if "OS-DCF:diskConfig" in argument:
        instance.auto_disk_config = disk_config_for(argument["OS-DCF:diskConfig"], image_id, properties) == "AUTO"
    instance.updated_at = utcnow()
    return argument.get("adminPass") or secrets.token_urlsafe(9)


def after_rebuild(compute: Any, ctx: Any, server_id: str, host: str) -> None:
    compute.rpc(TOPIC).cast(ctx, "rebuild_instance", server=host, instance_uuid=server_id)


def start_snapshot(compute: Any, req: falcon.Request, session: Any, instance: models.Instance,
                   argument: dict[str, Any], backup: bool = False) -> dict[str, Any]:
    """Take ``image_snapshot_pending`` (``image_backup`` for a ``createBackup``) in the caller's
    transaction; what the image needs."""
    metadata = argument.get("metadata") or {}
    if not at_least(req, "2.39"):  # from 2.39 the image service's property quota alone applies
        quotas.check_metadata(session, compute.conf, instance.project_id, len(metadata))
    begin(session, instance, "createBackup" if backup else "createImage", SNAPSHOT_STATES,
          states.IMAGE_BACKUP if backup else states.IMAGE_SNAPSHOT_PENDING)
    return {"project_id": instance.project_id, "image_ref": instance.image_ref, "flavor": instance.flavor,
            "base": instance.request_spec.get("image_properties", {}), "metadata": metadata,
            "name": argument["name"], "host": instance.host,
            "backup": {"type": argument["backup_type"], "rotation": int(argument["rotation"])} if backup else None}


def create_image(images: Any, ctx: Any, server_id: str, wanted: dict[str, Any]) -> str:
    """Make the queued snapshot image (after the server's transaction: another database)."""
    min_ram = min_disk = 0
    disk_format, container_format = None, "bare"
    base = images.show(wanted["image_ref"]) if wanted["image_ref"] else None
    if base is not None:
        min_ram, min_disk = base.min_ram, base.min_disk
        disk_format, container_format = base.disk_format, base.container_format or "bare"
    properties = {k: v for k, v in wanted["base"].items() if k not in NOT_INHERITED}
    properties.update({"image_type": "snapshot", "instance_uuid": server_id, "base_image_ref": wanted["image_ref"],
                       "user_id": ctx.user_id})
    if wanted.get("backup"):
        properties.update({"image_type": "backup", "backup_type": wanted["backup"]["type"]})
    properties.update({k: str(v) for k, v in wanted["metadata"].items()})
    try:
        return images.create_snapshot(wanted["project_id"], {
            **properties, "name": wanted["name"], "visibility": "private", "container_format": container_format,
            "disk_format": disk_format, "min_ram": min_ram, "min_disk": max(min_disk, wanted["flavor"]["disk"])})
    except PayloadTooLarge as exc:
        raise Forbidden(f"Quota exceeded: {exc}") from None


def image_url(req: falcon.Request, conf: Any, images: Any, image_id: str) -> str:
    """Where the image service serves the snapshot: its catalog URL when it is elsewhere,
    else beside this API."""
    from stratus.api.versions import service_root

    remote = images.url(image_id)
    if remote:
        return remote
    root = service_root(req, conf)
    return f"{root.removesuffix(req.root_path)}/image/v2/images/{image_id}"
