"""Creating servers: the compute service's own step of ``POST /servers``, callable without HTTP.

The API responder parses the request, authorizes it and resolves what it names (flavor,
image, networks, key pair, server group, placement); :func:`create_servers` then takes the
quota atomically (as many as fit, from ``max_count`` down to ``min_count``, as Nova), writes the servers as
``BUILD``/``scheduling`` with the request's action, and casts them to the conductor.
"""

from __future__ import annotations

import re
import secrets
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from stratus.compute import history, models, quotas, states
from stratus.compute.instances import utcnow
from stratus.compute.topics import CONDUCTOR_TOPIC
from stratus.exceptions import Forbidden, QuotaExceeded


def default_hostname(name: str) -> str:
    """A hostname from a server's name (what Nova derives when none is asked)."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "server"


@dataclass
class ServerRequest:
    """What a create asks for, resolved and checked by whoever took the request."""

    name: str
    flavor: dict[str, Any]
    image_ref: str
    min_count: int = 1
    max_count: int = 1
    image_properties: dict[str, Any] = field(default_factory=dict)
    hostname: str | None = None
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None
    config_drive: bool = False
    description: str | None = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    auto_disk_config: bool = False
    requested_networks: list[dict[str, Any]] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    block_device_mapping: list[dict[str, Any]] = field(default_factory=list)
    #: ``availability_zone``, ``host``, ``node``, ``force``
    placement: dict[str, Any] = field(default_factory=dict)
    #: the server group (``uuid``, ``policy``, ``rules``) the servers join, if any
    group: dict[str, Any] | None = None
    scheduler_hints: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Created:
    ids: list[str]
    reservation_id: str


def _fitting(compute: Any, session: Any, project_id: str, request: ServerRequest) -> int:
    """As many servers as the project's quota takes, ``max_count`` at most (as Nova).

    :raises Forbidden: not even ``min_count`` fit (the quota's message for ``min_count``)."""
    for count in range(request.max_count, request.min_count, -1):
        try:
            quotas.check(compute.db, session, compute.conf, project_id, count, request.flavor)
            return count
        except Forbidden:
            continue
    quotas.check(compute.db, session, compute.conf, project_id, request.min_count, request.flavor)
    return request.min_count


def create_servers(compute: Any, context: Any, request: ServerRequest) -> Created:
    """Write the servers ``request`` asks for, in ``context``'s project, and cast their builds.

    :raises Forbidden: the project's quota cannot take even ``min_count`` of them.
    :raises QuotaExceeded: the server group would have more members than its quota allows.
    """
    reservation = f"r-{secrets.token_hex(4)}"
    now = utcnow()
    ids = [str(uuidlib.uuid4()) for _ in range(request.max_count)]
    group = request.group
    hints = {k: [v] if isinstance(v, str) else list(v) for k, v in request.scheduler_hints.items()}
    with compute.db.transaction() as session:
        count = _fitting(compute, session, context.project_id, request)
        ids = ids[:count]
        if group is not None:
            limit = quotas.limits(session, compute.conf, context.project_id)["server_group_members"]
            members = session.scalar(sa.select(sa.func.count()).select_from(models.InstanceGroupMember)
                                     .where(models.InstanceGroupMember.group_uuid == group["uuid"]))
            if 0 <= limit < members + count:
                raise QuotaExceeded(f"Quota exceeded, too many servers in group {group['uuid']}.")
            for server_id in ids:
                session.add(models.InstanceGroupMember(instance_uuid=server_id, group_uuid=group["uuid"]))
        for index, server_id in enumerate(ids):
            name = request.name if count == 1 else f"{request.name}-{index + 1}"
            session.add(models.Instance(
                uuid=server_id, project_id=context.project_id, user_id=context.user_id, display_name=name,
                hostname=request.hostname or default_hostname(name), image_ref=request.image_ref,
                flavor=request.flavor, vm_state=states.BUILDING, task_state=states.SCHEDULING, power_state=0,
                availability_zone=request.placement.get("availability_zone"), key_name=request.key_name,
                key_data=request.key_data, user_data=request.user_data, config_drive=request.config_drive,
                launch_index=index, reservation_id=reservation, display_description=request.description,
                access_ip_v4=request.access_ip_v4, access_ip_v6=request.access_ip_v6,
                auto_disk_config=request.auto_disk_config, requested_networks=request.requested_networks,
                security_groups=request.security_groups, block_device_mapping=request.block_device_mapping,
                network_info=[], tried_hosts=[],
                request_spec={"image_properties": request.image_properties, "group": group, **request.placement,
                              "scheduler_hints": hints},
                created_at=now, updated_at=now, deleted=False,
                metadata_items=[models.InstanceMetadata(key=k, value=v) for k, v in request.metadata.items()],
                tags=[models.InstanceTag(tag=t) for t in dict.fromkeys(request.tags)]))
            history.record_action(session, server_id, context, "create", new_server=True)
    compute.rpc(CONDUCTOR_TOPIC).cast(context, "build_instances", instance_uuids=ids)
    return Created(ids, reservation)
