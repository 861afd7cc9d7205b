"""A server's row as the compute services use it outside a transaction: its columns, the
spec its hypervisor is given, and the faults recorded on it."""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa

from stratus.compute import claims, models, states
from stratus.interfaces.hypervisor import EphemeralDisk, InstanceSpec, PowerState
from stratus.servicegroup.registry import utcnow

__all__ = ["LAZY", "columns", "instance_spec", "local_disks", "record_fault", "utcnow"]


def record_fault(session: Any, instance: models.Instance, code: int, message: str, details: str = "",
                 host: str | None = None) -> None:
    instance.faults.append(models.InstanceFault(code=code, message=message, details=details, host=host,
                                                created_at=utcnow()))


#: options for reading one server's row: its collections load only when touched (inside the
#: session), so a step that needs none of them reads one row, not four tables
LAZY = [sa.orm.lazyload(models.Instance.metadata_items), sa.orm.lazyload(models.Instance.faults),
        sa.orm.lazyload(models.Instance.tags)]


def columns(instance: models.Instance) -> dict[str, Any]:
    """The server's row as a plain dict, to use after its transaction ends."""
    return {c.name: getattr(instance, c.name) for c in models.Instance.__table__.columns}


def local_disks(flavor: dict[str, Any], disks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The ephemeral and swap disks a server gets: those its block device mapping asked for
    (sizes filled in from the flavor), else the flavor's own ephemeral and swap disks."""
    asked = [d for d in disks or () if d["source_type"] == "blank" and d.get("destination_type", "local") == "local"]
    if not asked:
        asked = ([{"source_type": "blank", "guest_format": None, "volume_size": flavor["ephemeral"]}]
                 if flavor.get("ephemeral") else []) + \
                ([{"source_type": "blank", "guest_format": "swap", "volume_size": flavor["swap"]}]
                 if flavor.get("swap") else [])
    result = []
    for disk in asked:
        default = flavor.get("swap", 0) if disk.get("guest_format") == "swap" else flavor.get("ephemeral", 0)
        result.append({**disk, "volume_size": disk["volume_size"] if disk.get("volume_size") is not None
                       else default})
    return result


def instance_spec(row: dict[str, Any], metadata: dict[str, str], image_path: str | None,
                  flavor: dict[str, Any] | None = None,
                  config_drive_files: dict[str, bytes] | None = None) -> InstanceSpec:
    """What the driver is asked to run: the server ``row`` (see :func:`columns`) with
    ``flavor``'s sizes (its own by default), its disk from ``image_path``, its local disks
    and (``config_drive_files``) the content of its config drive."""
    flavor = flavor or row["flavor"]
    ephemerals = tuple(
        EphemeralDisk(size_gb=0 if d.get("guest_format") == "swap" else d["volume_size"],
                      size_mb=d["volume_size"] if d.get("guest_format") == "swap" else 0,
                      guest_format=d.get("guest_format"), device_name=d.get("device_name"),
                      disk_bus=d.get("disk_bus"))
        for d in local_disks(flavor, row.get("block_device_mapping")))
    return InstanceSpec(
        uuid=row["uuid"], name=f"instance-{row['uuid'][:8]}", vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
        root_gb=flavor["disk"], ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
        image_path=image_path, image_properties=row["request_spec"].get("image_properties", {}),
        user_data=base64.b64decode(row["user_data"]) if row["user_data"] else None, metadata=metadata,
        key_data=row["key_data"], config_drive=config_drive_files is not None, image_id=row["image_ref"] or None,
        flavor_name=flavor.get("original_name"), ephemerals=ephemerals,
        config_drive_files=config_drive_files or {})


#: built once: every delete runs them
_MIGRATIONS_OF = sa.select(models.Migration.uuid).where(models.Migration.instance_uuid == sa.bindparam("b_uuid"))
_LEAVE_GROUP = sa.delete(models.InstanceGroupMember).where(
    models.InstanceGroupMember.instance_uuid == sa.bindparam("b_uuid")).execution_options(synchronize_session=False)


def finish_delete(session: Any, instance: models.Instance) -> None:
    """The last step of every delete: nothing held, no group membership, the row soft-deleted."""
    claims.release(session, instance.uuid)
    for migration_uuid in session.scalars(_MIGRATIONS_OF, {"b_uuid": instance.uuid}):
        claims.release(session, migration_uuid)  # a resize's old claim, if one was under way
    session.execute(_LEAVE_GROUP, {"b_uuid": instance.uuid})
    now = utcnow()
    instance.vm_state, instance.task_state, instance.power_state = states.DELETED, None, PowerState.NOSTATE
    instance.deleted, instance.deleted_at, instance.terminated_at, instance.updated_at = True, now, now, now
