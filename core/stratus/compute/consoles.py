"""Remote consoles: console URLs carrying one-time tokens (the API's side) and what a token
grants (the console proxy's side).

A token is stored hashed (sha256) with the server, its host, the console's address on that host
and an expiry (``[console] token_ttl``); the proxy consumes it on the first connection, then
checks that the server still lives on that host before it relays a byte.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from stratus.compute import models, states
from stratus.compute.instances import utcnow
from stratus.compute.topics import TOPIC
from stratus.conf.console import proxy_url
from stratus.exceptions import Invalid

#: console types served, by the protocol they carry
TYPES = {"novnc": "vnc", "serial": "serial"}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a consumed token lets its bearer reach."""

    instance_uuid: str
    host: str
    protocol: str
    address: str
    port: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_type(conf: Any, protocol: str, console_type: str) -> None:
    """:raises Invalid: this cloud does not serve ``console_type`` for ``protocol`` (Nova's 400)."""
    if TYPES.get(console_type) != protocol or not _enabled(conf, protocol):
        raise Invalid(f"Unavailable console type {console_type}.")


def _enabled(conf: Any, protocol: str) -> bool:
    return bool(conf.vnc.enabled) if protocol == "vnc" else bool(conf.serial_console.enabled)


def url(conf: Any, protocol: str, token: str) -> str:
    if protocol == "vnc":
        base = conf.vnc.novncproxy_base_url or f"{proxy_url(conf, 'http')}/vnc_lite.html"
        return f"{base}?path={quote('?token=' + token, safe='')}"
    base = conf.serial_console.base_url or f"{proxy_url(conf, 'ws')}/"
    return f"{base}?token={token}"


def open_console(compute: Any, ctx: Any, instance_uuid: str, host: str, protocol: str, console_type: str) -> str:
    """Ask the server's host where its console listens and hand out a URL for it.

    :raises UnsupportedOperation: the host's hypervisor offers no such console.
    """
    endpoint = compute.rpc(TOPIC).call(ctx, "get_console", server=host, instance_uuid=instance_uuid,
                                       protocol=protocol)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with compute.db.transaction() as session:
        session.execute(sa.delete(models.ConsoleAuthToken).where(models.ConsoleAuthToken.expires_at < now))
        session.add(models.ConsoleAuthToken(
            token_hash=_hash(token), instance_uuid=instance_uuid, host=host, protocol=protocol,
            console_type=console_type, address=endpoint["host"], port=int(endpoint["port"]), created_at=now,
            expires_at=now + datetime.timedelta(seconds=compute.conf.console.token_ttl)))
    return url(compute.conf, protocol, token)


def consume(db: Any, token: str) -> Grant | None:
    """What ``token`` grants, once: the token is gone afterwards. None for an unknown, used or
    expired token, or one whose server is no longer running on the host it was given for."""
    with db.transaction() as session:
        row = session.scalar(sa.select(models.ConsoleAuthToken).where(
            models.ConsoleAuthToken.token_hash == _hash(token)))
        if row is None:
            return None
        grant = Grant(row.instance_uuid, row.host, row.protocol, row.address, row.port)
        expired = row.expires_at < utcnow()
        deleted = session.execute(sa.delete(models.ConsoleAuthToken).where(
            models.ConsoleAuthToken.id == row.id)).rowcount
        if expired or not deleted:  # a concurrent connection used it first
            return None
        instance = session.get(models.Instance, grant.instance_uuid)
        if instance is None or instance.deleted or instance.host != grant.host or instance.vm_state != states.ACTIVE:
            return None
        return grant
