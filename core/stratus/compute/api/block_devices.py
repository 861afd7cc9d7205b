"""``block_device_mapping_v2`` of a server create (Nova v2.1): local disks and volumes.

A root disk from an image (``source_type`` image, ``destination_type`` local, boot index
0), ephemeral disks and a swap disk (``source_type`` blank, ``destination_type`` local)
within the flavor's ephemeral and swap sizes, as Nova checks them; and volumes
(``destination_type`` volume): an existing one (``source_type`` volume), or one made for
the server from an image, a snapshot or nothing (``blank``), any of them the boot disk
(boot index 0). The legacy ``block_device_mapping`` is refused with 400.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.compute.api.microversions import Version, at_least
from stratus.exceptions import Invalid

_SIZE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0, "maximum": 2 ** 31 - 1}
BDM_V2 = {"type": "array", "items": {"type": "object", "additionalProperties": False, "properties": {
    "source_type": {"enum": ["volume", "image", "snapshot", "blank"]},
    "destination_type": {"enum": ["local", "volume"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._-]*$"},
    "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
    "volume_size": _SIZE,
    "device_name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": "^[^ ]*$"},
    "guest_format": {"type": "string", "maxLength": 255},
    "disk_bus": {"type": "string", "maxLength": 255},
    "device_type": {"type": "string", "maxLength": 255},
    "delete_on_termination": {"type": ["boolean", "string"]},
    "no_device": {},
    "connection_info": {"type": "string", "maxLength": 16777215},
    "tag": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"},
    "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "volume_id": {"type": "string"}, "snapshot_id": {"type": "string"}}}}
LEGACY = {"type": "array", "items": {"type": "object"}}

NO_VOLUMES = ("Block Device Mapping is Invalid: the legacy block_device_mapping is not supported by this cloud; "
              "use block_device_mapping_v2.")


def _index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    number = int(value)
    return None if number < 0 else number


def _tag_allowed(req: falcon.Request) -> bool:
    """Block device tags came in 2.32, went in 2.33 (a schema mistake) and came back in 2.42."""
    return req.context.microversion == Version("2.32") or at_least(req, "2.42")


def parse(req: falcon.Request, body: dict[str, Any], flavor: dict[str, Any],
          max_local: int) -> tuple[str | None, list[dict[str, Any]]]:
    """The image the local root disk comes from (None: only ``imageRef`` may say) and the disks
    asked for, each normalised (``boot_index``, ``source_type``, ``destination_type``, ``uuid``,
    ``volume_size``, ``guest_format``, ``device_name``, ``disk_bus``, ``tag``; volumes also
    ``volume_id``, ``attachment_id``, ``delete_on_termination``, ``volume_type``).

    :raises Invalid: the legacy mapping, an invalid boot order, a volume without what its
        source needs, disks larger than the flavor allows, more local disks than
        ``[compute] max_local_block_devices``.
    """
    if body.get("block_device_mapping"):
        raise Invalid(NO_VOLUMES)
    entries = body.get("block_device_mapping_v2") or []
    root: str | None = None
    disks: list[dict[str, Any]] = []
    for entry in entries:
        if "tag" in entry and not _tag_allowed(req):
            raise Invalid("Invalid input for field/attribute block_device_mapping_v2: Additional properties are "
                          "not allowed ('tag' was unexpected)")
        if "volume_type" in entry and not at_least(req, "2.67"):
            raise Invalid("Invalid input for field/attribute block_device_mapping_v2: Additional properties are "
                          "not allowed ('volume_type' was unexpected)")
        source = entry.get("source_type")
        destination = entry.get("destination_type") or ("volume" if source in ("volume", "snapshot") else "local")
        if source is None:
            raise Invalid("Block Device Mapping is Invalid: source_type is required.")
        disk = {"boot_index": _index(entry.get("boot_index")), "source_type": source,
                "destination_type": destination, "uuid": entry.get("uuid") or entry.get("volume_id")
                or entry.get("snapshot_id"),
                "volume_size": int(entry["volume_size"]) if entry.get("volume_size") not in (None, "") else None,
                "guest_format": entry.get("guest_format") or None, "device_name": entry.get("device_name"),
                "disk_bus": entry.get("disk_bus"), "tag": entry.get("tag")}
        if destination == "volume":
            disks.append(_volume(entry, disk))
            continue
        if source in ("volume", "snapshot"):
            raise Invalid(f"Block Device Mapping is Invalid: a {source} can only be mapped to a volume "
                          "(destination_type volume).")
        if source == "image":
            if disk["boot_index"] != 0:
                raise Invalid("Block Device Mapping is Invalid: Mapping image to local is not supported.")
            if not disk["uuid"]:
                raise Invalid("Block Device Mapping is Invalid: the image to boot from needs its uuid.")
            root = disk["uuid"]
        elif disk["boot_index"] == 0:
            raise Invalid("Block Device Mapping is Invalid: a blank disk cannot be the boot disk.")
        disks.append(disk)
    order = sorted(d["boot_index"] for d in disks if d["boot_index"] is not None)
    if order != list(range(len(order))):
        raise Invalid("Boot sequence for the instance and image/block device mapping combination is not valid.")
    local = [d for d in disks if d["destination_type"] == "local"]
    if max_local >= 0 and len(local) + (0 if root or not body.get("imageRef") else 1) > max_local:
        raise Invalid("Block Device Mapping is Invalid: You specified more local devices than the limit allows")
    _check_sizes(disks, flavor)
    return root, disks


def _volume(entry: dict[str, Any], disk: dict[str, Any]) -> dict[str, Any]:
    """A volume entry: its source checked for what it needs (a uuid; a size unless it is a volume)."""
    source = disk["source_type"]
    if source != "blank" and not disk["uuid"]:
        raise Invalid(f"Block Device Mapping is Invalid: the {source} to make the volume from needs its uuid.")
    if source in ("image", "blank") and not disk["volume_size"]:
        raise Invalid(f"Block Device Mapping is Invalid: a volume from {'an image' if source == 'image' else 'nothing'}"
                      " needs a volume_size.")
    if source == "blank" and disk["boot_index"] == 0:
        raise Invalid("Block Device Mapping is Invalid: a blank volume cannot be the boot disk.")
    delete = entry.get("delete_on_termination", False)
    return {**disk, "volume_id": disk["uuid"] if source == "volume" else None, "attachment_id": None,
            "delete_on_termination": str(delete).lower() in ("true", "1", "yes"),
            "volume_type": entry.get("volume_type")}


def boot_volume(disks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The volume the server boots from, if it boots from one."""
    return next((d for d in disks if d["destination_type"] == "volume" and d["boot_index"] == 0), None)


def _check_sizes(disks: list[dict[str, Any]], flavor: dict[str, Any]) -> None:
    local = [d for d in disks if d["destination_type"] == "local"]
    swaps = [d for d in local if d["source_type"] == "blank" and d["guest_format"] == "swap"]
    ephemerals = [d for d in local if d["source_type"] == "blank" and d["guest_format"] != "swap"]
    if len(swaps) > 1:
        raise Invalid("Block Device Mapping is Invalid: More than one swap drive requested.")
    if swaps and (swaps[0]["volume_size"] or flavor.get("swap", 0)) > flavor.get("swap", 0):
        raise Invalid("Block Device Mapping is Invalid: Swap drive requested is larger than instance type allows.")
    allowed = flavor.get("ephemeral", 0)
    if sum(d["volume_size"] if d["volume_size"] is not None else allowed for d in ephemerals) > allowed:
        raise Invalid("Block Device Mapping is Invalid: Ephemeral disks requested are larger than the instance "
                      "type allows. If no size is given in one block device mapping, flavor ephemeral size will be "
                      "used.")
