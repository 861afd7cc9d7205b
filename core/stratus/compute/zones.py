"""Availability zones and aggregate metadata of compute hosts, as Nova derives them.

A host's availability zone is the ``availability_zone`` metadata of the aggregate it
belongs to (the aggregates API keeps a host in at most one zone), or ``[compute]
default_availability_zone``; services other than compute are in ``[compute]
internal_service_availability_zone``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stratus.compute import models

ZONE_KEY = "availability_zone"


def host_metadata(session: Any, hosts: list[str] | None = None) -> dict[str, dict[str, frozenset[str]]]:
    """Each aggregated host's metadata: key -> every value its aggregates give the key, a
    comma-separated value counting as several, as Nova's filters read it (only hosts in
    ``hosts`` when given)."""
    query = sa.select(models.AggregateHost.host, models.AggregateMetadata.key, models.AggregateMetadata.value).join(
        models.AggregateMetadata, models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id)
    if hosts is not None:
        query = query.where(models.AggregateHost.host.in_(hosts))
    found: dict[str, dict[str, set[str]]] = {}
    for host, key, value in session.execute(query):
        values = found.setdefault(host, {}).setdefault(key, set())
        values.update([value] if key == ZONE_KEY else [v.strip() for v in value.split(",")])
    return {host: {k: frozenset(v) for k, v in meta.items()} for host, meta in found.items()}


def host_zones(session: Any, hosts: list[str] | None = None) -> dict[str, str]:
    """The zone of every host an availability-zone aggregate holds (others: the default)."""
    query = sa.select(models.AggregateHost.host, models.AggregateMetadata.value).join(
        models.AggregateMetadata, models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id).where(
        models.AggregateMetadata.key == ZONE_KEY)
    if hosts is not None:
        query = query.where(models.AggregateHost.host.in_(hosts))
    return dict(session.execute(query).all())


def zone_of(session: Any, conf: Any, host: str) -> str:
    return host_zones(session, [host]).get(host, conf.compute.default_availability_zone)


def known_zones(session: Any, conf: Any) -> set[str]:
    """The zones of the hosts that have reported a node (what a server may ask for)."""
    nodes = set(session.scalars(sa.select(models.ComputeNode.host)))
    zones = host_zones(session)
    return {zones.get(host, conf.compute.default_availability_zone) for host in nodes}
