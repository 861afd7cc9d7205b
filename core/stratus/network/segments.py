"""Segments: which VNI or VLAN a network uses, tenant networks' picked from the configured
ranges, and no segment held by two networks (the allocation table's primary key)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db.engine import insert_unless_taken
from stratus.exceptions import ConfigError
from stratus.network import errors, models

Allocation = models.SegmentAllocation


def _ranges(conf: Any, kind: str) -> Iterator[tuple[str, int, int]]:
    """``(physical_network, low, high)`` a tenant network of type ``kind`` may take."""
    entries = conf.network.vni_ranges if kind in ("vxlan", "geneve") else conf.network.network_vlan_ranges
    for entry in entries:
        parts = entry.split(":")
        try:
            physnet, low, high = ("", *parts) if kind in ("vxlan", "geneve") else parts
            yield physnet, int(low), int(high)
        except ValueError:
            option = "vni_ranges" if kind in ("vxlan", "geneve") else "network_vlan_ranges"
            raise ConfigError(f"[network] {option} entry {entry!r} is not "
                              f"{'min:max' if kind in ('vxlan', 'geneve') else 'physnet:min:max'}") from None


def reserve(session: Session, network_id: str, kind: str, physnet: str | None, segmentation_id: int | None) -> None:
    """Record an administrator's chosen segment. :raises SegmentationIdInUse: another network has it."""
    if kind == "local":
        return
    row = Allocation(network_type=kind, physical_network=physnet or "", segmentation_id=segmentation_id or 0,
                     network_id=network_id)
    if not insert_unless_taken(session, row):
        what = f"physical network {physnet}" if kind == "flat" else f"{kind} id {segmentation_id}" + (
            f" on physical network {physnet}" if physnet else "")
        raise errors.SegmentationIdInUse(f"Unable to create the network. The {what} is in use.")


def allocate(session: Session, conf: Any, network_id: str) -> dict[str, Any]:
    """Give a tenant network the lowest free segment of ``[network] tenant_network_type``.

    :raises NoNetworkAvailable: every id in the ranges is taken.
    """
    kind = conf.network.tenant_network_type
    if kind == "local":
        return {"network_type": "local", "physical_network": None, "segmentation_id": None}
    for physnet, low, high in _ranges(conf, kind):
        taken = set(session.scalars(sa.select(Allocation.segmentation_id).where(
            Allocation.network_type == kind, Allocation.physical_network == physnet,
            Allocation.segmentation_id.between(low, high))))
        for candidate in range(low, high + 1):
            if candidate not in taken and insert_unless_taken(session, Allocation(
                    network_type=kind, physical_network=physnet, segmentation_id=candidate, network_id=network_id)):
                return {"network_type": kind, "physical_network": physnet or None, "segmentation_id": candidate}
    raise errors.NoNetworkAvailable("Unable to create the network. No tenant network is available for allocation.")
