"""Addresses: validating subnets, and allocating fixed IPs exactly under concurrency.

An allocation is an INSERT into ``ip_allocations``, whose primary key is (subnet, address),
inside a savepoint: when a concurrent request took the candidate first, the database
refuses the row and the next candidate is tried. No address is ever handed out twice,
whatever the number of API processes.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.db.engine import insert_unless_taken
from stratus.exceptions import Conflict, Invalid
from stratus.network import errors, models

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network
SLAAC_MODES = ("slaac", "dhcpv6-stateless")


def parse_ip(value: Any, field: str) -> Address:
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise Invalid(f"Invalid input for {field}. Reason: '{value}' is not a valid IP address.") from None


def parse_cidr(value: Any, field: str = "cidr", strict: bool = True) -> Net:
    """The network ``value`` names; with ``strict``, host bits set are refused (routes), else
    they are dropped (a subnet's cidr, as Neutron takes ``10.99.99.0/16`` for ``10.99.0.0/16``)."""
    try:
        if "/" not in str(value):
            raise ValueError(value)
        network = ipaddress.ip_network(value, strict=False)
    except (ValueError, TypeError):
        raise errors.InvalidCIDR(f"Invalid input for {field}. Reason: '{value}' is not a valid CIDR.") from None
    if strict and str(network) != str(value) and str(network.with_prefixlen) != str(value):
        raise errors.InvalidCIDR(f"Invalid input for {field}. Reason: '{value}' isn't a recommended CIDR, "
                                 f"use {network}.")
    return network


def default_pools(network: Net, gateway: Address | None) -> list[tuple[Address, Address]]:
    """Every usable host address, less the gateway, as ranges."""
    if network.version == 4 and network.prefixlen < 31:
        first, last = network.network_address + 1, network.broadcast_address - 1
    elif network.version == 6 and network.prefixlen < 127:
        first, last = network.network_address + 1, network.broadcast_address  # ::0 is subnet-router anycast
    else:
        first, last = network.network_address, network.broadcast_address
    if first > last:
        return []
    if gateway is None or not first <= gateway <= last:
        return [(first, last)]
    pools = []
    if gateway > first:
        pools.append((first, gateway - 1))
    if gateway < last:
        pools.append((gateway + 1, last))
    return pools


def check_pools(network: Net, pools: Sequence[tuple[Address, Address]], gateway: Address | None) -> None:
    """:raises InvalidAllocationPool: outside the CIDR, reversed or overlapping.
    :raises Conflict: the gateway is inside a pool."""
    ordered = sorted(pools)
    for first, last in ordered:
        if first.version != network.version or first not in network or last not in network or first > last:
            raise errors.InvalidAllocationPool(f"The allocation pool {first}-{last} spans beyond the subnet cidr "
                                               f"{network} or is reversed.")
        if gateway is not None and first <= gateway <= last:
            raise Conflict(f"Gateway ip {gateway} conflicts with allocation pool {first}-{last}.")
    for (_, last), (first, _) in itertools.pairwise(ordered):
        if first <= last:
            raise errors.InvalidAllocationPool(f"Found overlapping allocation pools: {ordered}")


def eui64(network: Net, mac: str) -> Address:
    """The SLAAC address of ``mac`` in a /64."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = bytes([*octets[:3], 255, 254, *octets[3:]])
    return network.network_address + int.from_bytes(interface, "big")


def _candidates(subnet: models.Subnet) -> Iterator[Address]:
    for pool in subnet.pools:
        current, last = ipaddress.ip_address(pool.first_ip), ipaddress.ip_address(pool.last_ip)
        while current <= last:
            yield current
            current += 1


def allocate(session: Session, subnet: models.Subnet, port: models.Port, position: int,
             requested: Address | None = None, allow_gateway: bool = False) -> str:
    """Give ``port`` an address on ``subnet``: ``requested``, the SLAAC one, or the first free.

    :raises IpAddressAlreadyAllocated: ``requested`` is taken.
    :raises IpAddressGenerationFailure: the subnet's pools are exhausted.
    :raises InvalidIpForSubnet: ``requested`` is not in the subnet.
    """
    network = ipaddress.ip_network(subnet.cidr)
    if requested is None and subnet.ip_version == 6 and subnet.ipv6_address_mode in SLAAC_MODES:
        requested = eui64(network, port.mac_address)
    if requested is not None:
        if requested not in network:
            raise errors.InvalidIpForSubnet(f"IP address {requested} is not a valid IP for the specified subnet.")
        if subnet.gateway_ip and requested == ipaddress.ip_address(subnet.gateway_ip) and not allow_gateway:
            raise errors.IpAddressAlreadyAllocated(
                f"IP address {requested} already allocated in subnet {subnet.id}: it is the gateway")
        row = models.IpAllocation(subnet_id=subnet.id, ip_address=str(requested), port_id=port.id,
                                  network_id=subnet.network_id, position=position)
        if not insert_unless_taken(session, row):
            raise errors.IpAddressAlreadyAllocated(f"IP address {requested} already allocated in subnet {subnet.id}")
        return str(requested)
    taken = set(session.scalars(sa.select(models.IpAllocation.ip_address).where(
        models.IpAllocation.subnet_id == subnet.id)))
    for candidate in _candidates(subnet):
        text = str(candidate)
        if text in taken:
            continue
        row = models.IpAllocation(subnet_id=subnet.id, ip_address=text, port_id=port.id,
                                  network_id=subnet.network_id, position=position)
        if insert_unless_taken(session, row):
            return text
        taken.add(text)  # a concurrent request took it first
    raise errors.IpAddressGenerationFailure(f"No more IP addresses available on network {subnet.network_id}.")
