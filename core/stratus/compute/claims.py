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
from stratus.scheduler.filters import disk_gb

Node = models.ComputeNode


def _bound(name: str) -> Any:
    return sa.bindparam(name, type_=sa.Integer)


#: built once: every boot claims and every delete gives back (building a statement costs more
#: than running it)
_CLAIM = sa.update(Node).where(
    Node.id == _bound("b_node"),
    Node.vcpus_used + _bound("b_vcpus") <= Node.vcpus * Node.cpu_allocation_ratio,
    Node.memory_mb_used + _bound("b_memory") <= Node.memory_mb * Node.ram_allocation_ratio,
    Node.local_gb_used + _bound("b_disk") <= Node.local_gb * Node.disk_allocation_ratio,
).values(vcpus_used=Node.vcpus_used + _bound("b_vcpus"), memory_mb_used=Node.memory_mb_used + _bound("b_memory"),
         local_gb_used=Node.local_gb_used + _bound("b_disk"), running_vms=Node.running_vms + 1) \
    .execution_options(synchronize_session=False)
_GIVE_BACK = sa.update(Node).where(Node.id == _bound("b_node")).values(
    vcpus_used=Node.vcpus_used - _bound("b_vcpus"), memory_mb_used=Node.memory_mb_used - _bound("b_memory"),
    local_gb_used=Node.local_gb_used - _bound("b_disk"), running_vms=Node.running_vms - 1) \
    .execution_options(synchronize_session=False)
Allocation = models.Allocation
_ALLOCATE = sa.insert(Allocation.__table__).values(
    instance_uuid=sa.bindparam("b_holder"), node_id=_bound("b_node"), vcpus=_bound("b_vcpus"),
    memory_mb=_bound("b_memory"), disk_gb=_bound("b_disk"))
_RELEASE = sa.delete(Allocation).where(Allocation.instance_uuid == sa.bindparam("b_holder")) \
    .execution_options(synchronize_session=False)
_RELEASE_RETURNING = _RELEASE.returning(Allocation.node_id, Allocation.vcpus, Allocation.memory_mb,
                                        Allocation.disk_gb)


def claim(session: Any, node_id: int, instance_uuid: str, flavor: dict[str, Any]) -> bool:
    """Take ``flavor``'s resources on the node for the instance; False if they no longer fit.

    :raises RuntimeError: the instance holds a claim already (its caller's transaction is
        then to be rolled back: on PostgreSQL the failed INSERT has aborted it)."""
    amounts = {"b_node": node_id, "b_vcpus": int(flavor["vcpus"]), "b_memory": int(flavor["ram"]),
               "b_disk": disk_gb(int(flavor["disk"]), int(flavor.get("ephemeral", 0)), int(flavor.get("swap", 0)))}
    if session.execute(_CLAIM, amounts).rowcount != 1:
        return False
    try:  # no savepoint: a claim held already is a bug of the caller's, never a race lost
        session.execute(_ALLOCATE, {"b_holder": instance_uuid, **amounts})
    except sa.exc.IntegrityError:
        raise RuntimeError(f"instance {instance_uuid} already holds a claim") from None
    return True


def release(session: Any, instance_uuid: str) -> None:
    """Give back what the instance holds, if anything. Idempotent."""
    if session.get_bind().dialect.delete_returning:
        # one statement finds and removes the claim; the DELETE decides who releases it
        for gone in session.execute(_RELEASE_RETURNING, {"b_holder": instance_uuid}).all():
            _give_back(session, gone.node_id, gone.vcpus, gone.memory_mb, gone.disk_gb)
        return
    allocation = session.get(Allocation, instance_uuid)
    if allocation is None:
        return
    # the DELETE decides who releases: a concurrent release finds nothing left to delete
    if session.execute(_RELEASE, {"b_holder": instance_uuid}).rowcount != 1:
        return
    _give_back(session, allocation.node_id, allocation.vcpus, allocation.memory_mb, allocation.disk_gb)
    session.expunge(allocation)


def _give_back(session: Any, node_id: int, vcpus: int, memory_mb: int, disk_gb: int) -> None:
    session.execute(_GIVE_BACK, {"b_node": node_id, "b_vcpus": vcpus, "b_memory": memory_mb, "b_disk": disk_gb})


def move(session: Any, holder: str, to: str) -> bool:
    """Hand what ``holder`` holds to ``to`` (a resize parks the server's old claim under
    its migration's uuid); False if ``holder`` held nothing or ``to`` already holds a claim."""
    if session.get(Allocation, to) is not None:
        return False
    return session.execute(sa.update(Allocation).where(Allocation.instance_uuid == holder)
                           .values(instance_uuid=to).execution_options(synchronize_session=False)).rowcount == 1
