"""A server's row as the compute services use it outside a transaction: its columns, the
spec its hypervisor is given, and the faults recorded on it."""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.interfaces.hypervisor import InstanceSpec
from stratus.servicegroup.registry import utcnow

__all__ = ["LAZY", "columns", "instance_spec", "record_fault", "utcnow"]


def record_fault(session: Any, instance: models.Instance, code: int, message: str, details: str = "",
                 host: str | None = None) -> None:
    instance.faults.append(models.InstanceFault(code=code, message=message, details=details, host=host,
                                                created_at=utcnow()))


#: options for reading one server's row: its collections load only when touched (inside the
#: session), so a step that needs none of them reads one row, not four tables
LAZY = [sa.orm.lazyload(models.Instance.metadata_items), sa.orm.lazyload(models.Instance.faults),
        sa.orm.lazyload(models.Instance.tags)]


#: options for reading one server's row: its collections load only when touched (inside the
#: session), so a step that needs none of them reads one row, not four tables
LAZY = [sa.orm.lazyload(models.Instance.metadata_items), sa.orm.lazyload(models.Instance.faults),
        sa.orm.lazyload(models.Instance.tags)]


def columns(instance: models.Instance) -> dict[str, Any]:
    """The server's row as a plain dict, to use after its transaction ends."""
    return {c.name: getattr(instance, c.name) for c in models.Instance.__table__.columns}


def instance_spec(row: dict[str, Any], metadata: dict[str, str], image_path: str | None,
                  flavor: dict[str, Any] | None = None) -> InstanceSpec:
    """What the driver is asked to run: the server ``row`` (see :func:`columns`) with
    ``flavor``'s sizes (its own by default) and its disk from ``image_path``."""
    flavor = flavor or row["flavor"]
    return InstanceSpec(
        uuid=row["uuid"], name=f"instance-{row['uuid'][:8]}", vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
        root_gb=flavor["disk"], ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
        image_path=image_path, image_properties=row["request_spec"].get("image_properties", {}),
        user_data=base64.b64decode(row["user_data"]) if row["user_data"] else None, metadata=metadata,
        key_data=row["key_data"], config_drive=row["config_drive"], image_id=row["image_ref"] or None,
        flavor_name=flavor.get("original_name"))
