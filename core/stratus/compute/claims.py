"""Claims: a server's share of a node, taken in one conditional UPDATE.

``UPDATE compute_nodes SET used = used + x WHERE id = n AND used + x <= total * ratio``
either changes the row or not, on every database (PostgreSQL re-checks the condition
after waiting for a concurrent writer's lock; MySQL's UPDATE reads the latest row; SQLite
serialises writers), so concurrent boots can never over-commit a node.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.db.engine import insert_unless_taken
from stratus.scheduler.filters import disk_gb

Node = models.ComputeNode


def claim(session: Any, node_id: int, instance_uuid: str, flavor: dict[str, Any]) -> bool:
    """Take ``flavor``'s resources on the node for the instance; False if they no longer fit."""
    vcpus, memory = int(flavor["vcpus"]), int(flavor["ram"])
    disk = disk_gb(int(flavor["disk"]), int(flavor.get("ephemeral", 0)), int(flavor.get("swap", 0)))
    taken = session.execute(
        sa.update(Node)
        .where(Node.id == node_id, Node.vcpus_used + vcpus <= Node.vcpus * Node.cpu_allocation_ratio,
               Node.memory_mb_used + memory <= Node.memory_mb * Node.ram_allocation_ratio,
               Node.local_gb_used + disk <= Node.local_gb * Node.disk_allocation_ratio)
        .values(vcpus_used=Node.vcpus_used + vcpus, memory_mb_used=Node.memory_mb_used + memory,
                local_gb_used=Node.local_gb_used + disk, running_vms=Node.running_vms + 1)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        return False
    if not insert_unless_taken(session, models.Allocation(instance_uuid=instance_uuid, node_id=node_id,
                                                          vcpus=vcpus, memory_mb=memory, disk_gb=disk)):
        raise RuntimeError(f"instance {instance_uuid} already holds a claim")
    return True


def release(session: Any, instance_uuid: str) -> None:
    """Give back what the instance holds, if anything. Idempotent."""
    if session.get_bind().dialect.delete_returning:
        # one statement finds and removes the claim; the DELETE decides who releases it
        Allocation = models.Allocation
        for gone in session.execute(sa.delete(Allocation).where(Allocation.instance_uuid == instance_uuid).returning(
                Allocation.node_id, Allocation.vcpus, Allocation.memory_mb, Allocation.disk_gb)
                .execution_options(synchronize_session=False)).all():
            _give_back(session, gone.node_id, gone.vcpus, gone.memory_mb, gone.disk_gb)
        return
    allocation = session.get(models.Allocation, instance_uuid)
    if allocation is None:
        return
    # the DELETE decides who releases: a concurrent release finds nothing left to delete
    gone = session.execute(sa.delete(models.Allocation).where(models.Allocation.instance_uuid == instance_uuid)
                           .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        return
    _give_back(session, allocation.node_id, allocation.vcpus, allocation.memory_mb, allocation.disk_gb)
    session.expunge(allocation)


def _give_back(session: Any, node_id: int, vcpus: int, memory_mb: int, disk_gb: int) -> None:
    session.execute(sa.update(Node).where(Node.id == node_id).values(
        vcpus_used=Node.vcpus_used - vcpus, memory_mb_used=Node.memory_mb_used - memory_mb,
        local_gb_used=Node.local_gb_used - disk_gb, running_vms=Node.running_vms - 1)
        .execution_options(synchronize_session=False))


def move(session: Any, holder: str, to: str) -> bool:
    """Hand what ``holder`` holds to ``to`` (a resize parks the server's old claim under
    its migration's uuid); False if ``holder`` held nothing or ``to`` already holds a claim."""
    if session.get(models.Allocation, to) is not None:
        return False
    return session.execute(sa.update(models.Allocation).where(models.Allocation.instance_uuid == holder)
                           .values(instance_uuid=to).execution_options(synchronize_session=False)).rowcount == 1
