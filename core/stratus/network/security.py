"""Security groups: the default group every project gets, and what makes a rule valid."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.exceptions import Invalid
from stratus.network import errors, models

PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "icmpv6": 58,
             "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59,
             "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
             "udp": 17, "udplite": 136, "vrrp": 112}
PORTED = {6, 17, 33, 132, 136}
ICMP = {1, 58}


def _rule(group: models.SecurityGroup, project_id: str, direction: str, ethertype: str, now: Any,
          remote_group_id: str | None = None) -> models.SecurityGroupRule:
    return models.SecurityGroupRule(id=str(uuid.uuid4()), project_id=project_id, security_group_id=group.id,
                                    direction=direction, ethertype=ethertype, remote_group_id=remote_group_id,
                                    description="", created_at=now, updated_at=now, revision_number=1)


def new_group(project_id: str, name: str, description: str, now: Any, default: bool = False) -> models.SecurityGroup:
    """A group with Neutron's starting rules: egress anywhere, and for the default group
    also ingress from members of the group itself."""
    group = models.SecurityGroup(id=str(uuid.uuid4()), project_id=project_id, name=name, description=description,
                                 stateful=True, created_at=now, updated_at=now, revision_number=1, rules=[])
    group.rules = [_rule(group, project_id, "egress", e, now) for e in ("IPv4", "IPv6")]
    if default:
        group.rules += [_rule(group, project_id, "ingress", e, now, group.id) for e in ("IPv4", "IPv6")]
    return group


def ensure_default(session: Session, project_id: str, now: Any) -> models.SecurityGroup:
    """The project's default group, created on first need (exactly once, even concurrently)."""
    def existing() -> models.SecurityGroup | None:
        group_id = session.scalar(sa.select(models.DefaultSecurityGroup.security_group_id).where(
            models.DefaultSecurityGroup.project_id == project_id))
        return None if group_id is None else session.get(models.SecurityGroup, group_id)

    found = existing()
    if found is not None:
        return found
    group = new_group(project_id, "default", "Default security group", now, default=True)
    try:
        with session.begin_nested():
            session.add(group)
            session.flush()
            session.add(models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
    except sa.exc.IntegrityError:
        found = existing()
        if found is None:
            raise
        return found
    return group


def is_default(session: Session, group: models.SecurityGroup) -> bool:
    return session.scalar(sa.select(models.DefaultSecurityGroup.project_id).where(
        models.DefaultSecurityGroup.security_group_id == group.id)) is not None


def network_of(prefix: str | None) -> str | None:
    """The network a rule's ``remote_ip_prefix`` names (``10.2.3.124/24`` -> ``10.2.3.0/24``)."""
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def same_rule(existing: models.SecurityGroupRule, fields: dict[str, Any]) -> bool:
    """Whether ``existing`` is the rule ``fields`` (from :func:`normalize_rule`) describe."""
    return all(network_of(getattr(existing, key)) == network_of(value) if key == "remote_ip_prefix"
               else getattr(existing, key) == value for key, value in fields.items())


def normalize_rule(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a rule's fields and return them normalised (protocol lower-case, the prefix with its
    mask, the whole TCP/UDP port range as none), with Neutron's checks and words.

    :raises Invalid: (or its Neutron-named subclasses) naming the field.
    """
    ethertype = body.get("ethertype", "IPv4")
    protocol = body.get("protocol")
    protocol = None if protocol in (None, "", "any") else str(protocol).lower()
    number = None
    if protocol is not None:
        if protocol.isdigit():
            number = int(protocol)
            if number > 255:
                raise Invalid(f"Security group rule protocol {protocol} not supported. Only protocol values "
                              f"{', '.join(sorted(PROTOCOLS))} and integer representations [0 to 255] are supported.")
        elif protocol in PROTOCOLS:
            number = PROTOCOLS[protocol]
        else:
            raise Invalid(f"Security group rule protocol {protocol} not supported. Only protocol values "
                          f"{', '.join(sorted(PROTOCOLS))} and integer representations [0 to 255] are supported.")
    low, high = body.get("port_range_min"), body.get("port_range_max")
    for value in (low, high):  # Neutron's attribute check, before the protocol's
        if value is not None and not 0 <= value <= 65535:
            raise errors.SecurityGroupInvalidPortValue(f"Invalid value for port {value}")
    if low is not None or high is not None:
        if number is None:
            raise errors.SecurityGroupProtocolRequiredWithPorts(
                "Must also specify protocol if port range is given.")
        if number in PORTED:
            if low == 0 or high == 0:
                raise errors.SecurityGroupInvalidPortValue("Invalid value for port 0")
            if low is None or high is None or low > high:
                raise errors.SecurityGroupInvalidPortRange(
                    "For TCP/UDP protocols, port_range_min must be <= port_range_max")
            if (low, high) == (1, 65535):  # the whole range is no range (Neutron's canonical form)
                low = high = None
        elif number in ICMP:
            for attr, field, value in (("port_range_min", "type", low), ("port_range_max", "code", high)):
                if value is not None and not 0 <= value <= 255:
                    raise errors.SecurityGroupInvalidIcmpValue(
                        f"Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.")
            if low is None:
                raise errors.SecurityGroupMissingIcmpType(
                    f"ICMP code (port-range-max) {high} is provided but ICMP type (port-range-min) is missing.")
        else:
            raise errors.SecurityGroupInvalidProtocolForPort(
                f"Invalid protocol {number} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP "
                "protocols.")
    prefix = body.get("remote_ip_prefix")
    if prefix is not None:
        if body.get("remote_group_id"):
            raise errors.SecurityGroupRemoteGroupAndRemoteIpPrefix(
                "Only remote_ip_prefix or remote_group_id may be provided.")
        try:
            given = ipaddress.ip_interface(prefix)
        except ValueError:
            raise Invalid(f"Invalid input for remote_ip_prefix. Reason: '{prefix}' is not a valid CIDR.") from None
        if f"IPv{given.version}" != ethertype:
            raise Invalid(f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
        prefix = str(given)  # as given, with its mask (Neutron keeps host bits; duplicates compare networks)
    return {"direction": body["direction"], "ethertype": ethertype, "protocol": protocol, "port_range_min": low,
            "port_range_max": high, "remote_ip_prefix": prefix, "remote_group_id": body.get("remote_group_id")}
