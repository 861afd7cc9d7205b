"""Carving subnets out of subnet pools (Neutron's subnet_allocation), and the rules pools and
address scopes keep: prefixes of one family, bounds min <= default <= max, prefixes only
ever added, no overlap between pools of one address scope, each project's share of a pool.

Allocation runs with the pool's row locked, so two subnets asked for at once never get
the same prefix whatever the number of API processes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Invalid
from stratus.network import errors, models

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
#: per family: the longest prefix, Neutron's default min_prefixlen, and the quota unit (a /32, a /64)
FAMILY = {4: (32, 8, 32), 6: (128, 64, 64)}


def parse_prefixes(values: Iterable[str]) -> list[Net]:
    """The pool's prefixes merged (overlaps and neighbours collapsed), all of one family.

    :raises Invalid: none, a malformed one, or a mix of IPv4 and IPv6.
    """
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except (ValueError, TypeError):
            raise errors.InvalidCIDR(f"Invalid input for prefixes. Reason: '{value}' is not a valid CIDR.") from None
    if not networks:
        raise errors.EmptySubnetPoolPrefixList("Empty subnet pool prefix list.")
    if len({n.version for n in networks}) > 1:
        raise errors.PrefixVersionMismatch("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
    return list(ipaddress.collapse_addresses(networks))  # type: ignore[arg-type]


def bounds(version: int, body: dict[str, Any], current: models.SubnetPool | None = None) -> tuple[int, int, int]:
    """``(min, default, max)`` prefix lengths from ``body`` (else the pool's, else Neutron's defaults).

    :raises Invalid: out of the family's range or not min <= default <= max.
    """
    longest, default_min, _ = FAMILY[version]
    low = _int(body, "min_prefixlen", current.min_prefixlen if current else default_min)
    high = _int(body, "max_prefixlen", current.max_prefixlen if current else longest)
    default = _int(body, "default_prefixlen", current.default_prefixlen if current else low)
    if low < 0:
        raise errors.IllegalSubnetPoolPrefixBounds(f"Unsupported minimum subnet pool prefix {low}.")
    for name, value, other, limit in (("min_prefixlen", low, "max_prefixlen", high),
                                      ("max_prefixlen", high, "ip_version_max", longest),
                                      ("default_prefixlen", default, "max_prefixlen", high)):
        if value > limit:
            raise errors.IllegalSubnetPoolPrefixBounds(f"Illegal prefix bounds: {name}={value}, {other}={limit}.")
    if default < low:
        raise errors.IllegalSubnetPoolPrefixBounds(f"Illegal prefix bounds: default_prefixlen={default}, "
                                                   f"min_prefixlen={low}.")
    return low, default, high


def _int(body: dict[str, Any], name: str, fallback: int) -> int:
    value = body.get(name)
    if value is None:
        return fallback
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(f"Invalid input for {name}. Reason: '{value}' is not an integer.") from None


def check_growth(old: Sequence[str], new: Sequence[Net]) -> None:
    """:raises IllegalSubnetPoolPrefixUpdate: ``new`` leaves out part of ``old``."""
    for prefix in (ipaddress.ip_network(p) for p in old):
        if not any(prefix.subnet_of(n) for n in new if n.version == prefix.version):  # type: ignore[arg-type]
            raise errors.IllegalSubnetPoolPrefixUpdate(f"Illegal update to prefixes: {prefix} can not be removed "
                                                       "from the pool (prefixes are only ever added).")


def check_scope(session: Any, pool_id: str | None, version: int, prefixes: Sequence[Net],
                scope: models.AddressScope) -> None:
    """:raises Invalid: the scope is of the other family, or another pool in it overlaps ``prefixes``."""
    if scope.ip_version != version:
        raise errors.IllegalSubnetPoolIpVersionAssociationToAddressScope(
            f"Illegal subnetpool association: subnetpool {pool_id or '(new)'} cannot associate with address scope "
            f"{scope.id} because subnetpool ip_version is not {scope.ip_version}.")
    others = session.scalars(sa.select(models.SubnetPool).where(models.SubnetPool.address_scope_id == scope.id,
                                                               models.SubnetPool.id != (pool_id or "")))
    for other in others:
        for theirs in (ipaddress.ip_network(p) for p in other.prefixes):
            if any(theirs.overlaps(mine) for mine in prefixes):  # type: ignore[arg-type]
                raise errors.IllegalSubnetPoolAssociationToAddressScope(
                    f"Illegal subnetpool association: subnetpool {pool_id or '(new)'} cannot be associated with "
                    f"address scope {scope.id}: its prefixes overlap subnetpool {other.id}'s.")


def allocated(session: Any, pool: models.SubnetPool) -> list[Net]:
    return [ipaddress.ip_network(c) for c in session.scalars(
        sa.select(models.Subnet.cidr).where(models.Subnet.subnetpool_id == pool.id))]


def lock(session: Any, pool_id: str) -> models.SubnetPool:
    """The pool, locked until the transaction ends (allocations from it are serialised)."""
    pool = session.scalars(sa.select(models.SubnetPool).where(models.SubnetPool.id == pool_id)
                           .with_for_update()).first()
    if pool is None:
        raise errors.SubnetPoolNotFound(f"Subnet pool {pool_id} could not be found.")
    return pool


def carve(session: Any, pool: models.SubnetPool, project_id: str, cidr: Net | None,
          prefixlen: int | None) -> Net:
    """The subnet to make from ``pool``: ``cidr`` if it is free in the pool, else the first free
    prefix of ``prefixlen`` (the pool's default when None). Call with the pool locked.

    :raises Invalid: a prefix length out of the pool's bounds, a cidr outside the pool.
    :raises Conflict: no free prefix is left, the cidr is taken, or the project's share is used up
        (Neutron answers 500 here; a full pool is no server fault).
    """
    length = cidr.prefixlen if cidr is not None else (prefixlen if prefixlen is not None else pool.default_prefixlen)
    if length < pool.min_prefixlen:
        raise errors.MinPrefixSubnetAllocationError(
            f"Unable to allocate subnet with prefix length {length}, minimum allowed prefix is {pool.min_prefixlen}.")
    if length > pool.max_prefixlen:
        raise errors.MaxPrefixSubnetAllocationError(
            f"Unable to allocate subnet with prefix length {length}, maximum allowed prefix is {pool.max_prefixlen}.")
    taken = allocated(session, pool)
    _check_quota(session, pool, project_id, length)
    prefixes = [ipaddress.ip_network(p) for p in pool.prefixes]
    if cidr is not None:
        if cidr.version != pool.ip_version or not any(cidr.subnet_of(p) for p in prefixes):  # type: ignore[arg-type]
            raise errors.InvalidSubnetRequest(f"Invalid subnet request: {cidr} is not within subnet pool "
                                               f"{pool.id}'s prefixes ({', '.join(pool.prefixes)}).")
        if any(cidr.overlaps(t) for t in taken):  # type: ignore[arg-type]
            raise errors.SubnetAllocationError(f"Failed to allocate subnet: {cidr} overlaps a subnet "
                                                      f"already allocated from subnet pool {pool.id}.")
        return cidr
    for block in sorted(free_blocks(prefixes, taken), key=lambda b: (b.network_address, b.prefixlen)):
        if block.prefixlen <= length:
            return next(block.subnets(new_prefix=length))
    raise errors.SubnetAllocationError(f"Failed to allocate subnet: no free prefix of length {length} is "
                                              f"left in subnet pool {pool.id}.")


def free_blocks(prefixes: Sequence[Net], taken: Sequence[Net]) -> list[Net]:
    """What of ``prefixes`` no network of ``taken`` covers, as CIDR blocks."""
    free = list(prefixes)
    for used in taken:
        remaining: list[Net] = []
        for block in free:
            if not block.overlaps(used):  # type: ignore[arg-type]
                remaining.append(block)
            elif used.subnet_of(block) and used != block:  # type: ignore[arg-type]
                remaining.extend(block.address_exclude(used))  # type: ignore[arg-type]
            # else the block lies inside what is used: nothing of it is free
        free = remaining
    return free


def _check_quota(session: Any, pool: models.SubnetPool, project_id: str, length: int) -> None:
    """Neutron's per-project share of a pool: ``default_quota`` addresses (IPv4) or /64s (IPv6)."""
    if not pool.default_quota:
        return
    unit = FAMILY[pool.ip_version][2]
    used = sum(2 ** max(unit - ipaddress.ip_network(c).prefixlen, 0) for c in session.scalars(
        sa.select(models.Subnet.cidr).where(models.Subnet.subnetpool_id == pool.id,
                                            models.Subnet.project_id == project_id)))
    if used + 2 ** max(unit - length, 0) > pool.default_quota:
        raise errors.SubnetPoolQuotaExceeded("Per-project subnet pool prefix quota exceeded.")


def default_pool(session: Any, version: int) -> models.SubnetPool:
    """The pool marked ``is_default`` for ``version``. :raises Invalid: there is none."""
    pool = session.scalars(sa.select(models.SubnetPool).where(models.SubnetPool.is_default.is_(True),
                                                              models.SubnetPool.ip_version == version)).first()
    if pool is None:
        raise Invalid(f"Bad subnets request: No default subnetpool found for IPv{version}.")
    return pool

