"""The ``resize``, ``confirmResize`` and ``revertResize`` server actions (Nova's rules and words).

``resize`` records a migration (``pre-migrating``) and takes ``resize_prep`` in the same
transaction, then asks the conductor, which has the scheduler choose and claim a host for
the new flavor (a 400 when none can, as Nova) and casts to the server's host; the server
shows ``VERIFY_RESIZE`` once it runs with it. ``confirmResize`` and ``revertResize``
move the migration from ``finished`` in one conditional UPDATE (of two racing requests one
wins) and cast to the host that finishes them.
"""

from __future__ import annotations

import uuid
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.compute import models, quotas, states
from stratus.compute.api.flavors import embedded
from stratus.compute.api.flavors import find as find_flavor
from stratus.compute.instances import utcnow
from stratus.compute.topics import CONDUCTOR_TOPIC, TOPIC
from stratus.exceptions import Conflict, Invalid, NotFound
from stratus.scheduler.selection import NoValidHost

Migration = models.Migration


def resize(compute: Any, req: falcon.Request, session: Any, instance: models.Instance,
           argument: dict[str, Any]) -> str:
    """Start a resize of ``instance`` (the caller's transaction); returns the migration's uuid."""
    from stratus.compute.api.actions import begin, check
    from stratus.compute.api.servers import _ref

    allowed = (states.ACTIVE, states.STOPPED)
    check(instance, "resize", allowed)
    try:
        flavor = embedded(find_flavor(session, req, _ref(argument["flavorRef"])))
    except NotFound:
        raise Invalid("Unable to locate requested flavor.") from None
    old = instance.flavor
    if flavor["id"] == old["id"]:
        raise Invalid("When resizing, instances must change flavor!")
    if old["disk"] and not flavor["disk"]:
        raise Invalid("Resize to zero disk flavor is not allowed.")
    if flavor["disk"] < old["disk"]:
        raise Invalid(f"Server disk was unable to be resized because the flavor's disk ({flavor['disk']} GiB) is "
                      f"smaller than the server's ({old['disk']} GiB).")
    quotas.check_more(compute.db, session, compute.conf, instance.project_id,
                      {"cores": flavor["vcpus"] - old["vcpus"], "ram": flavor["ram"] - old["ram"]})
    begin(session, instance, "resize", allowed, states.RESIZE_PREP)
    if "OS-DCF:diskConfig" in argument:
        instance.auto_disk_config = argument["OS-DCF:diskConfig"] == "AUTO"
    return _record(req, session, instance, "resize", flavor)


def migrate(req: falcon.Request, session: Any, instance: models.Instance, argument: dict[str, Any] | None) -> str:
    """Start a cold migration of ``instance`` to another host (from 2.56 ``host`` names it;
    the scheduler's filters still apply) in the caller's transaction; the migration's uuid.

    :raises Invalid: an unknown host or the server's own (400 as Nova).
    """
    from stratus.compute.api.actions import begin, check
    from stratus.compute.api.microversions import unexpected_before

    argument = argument or {}
    unexpected_before(req, "2.56", argument, "host")
    allowed = (states.ACTIVE, states.STOPPED)
    check(instance, "migrate", allowed)
    host = argument.get("host")
    if host is not None:
        if not session.scalar(sa.select(models.ComputeNode.id).where(models.ComputeNode.host == host).limit(1)):
            raise Invalid(f"Compute host {host} could not be found.")
        if host == instance.host:
            raise Invalid(f"Unable to migrate instance ({instance.uuid}) to current host ({host}).")
    begin(session, instance, "migrate", allowed, states.RESIZE_PREP)
    return _record(req, session, instance, "migration", instance.flavor, host)


def _record(req: falcon.Request, session: Any, instance: models.Instance, kind: str, flavor: dict[str, Any],
            destination: str | None = None) -> str:
    now, ctx = utcnow(), req.context.stratus
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.uuid, migration_type=kind,
                          status="pre-migrating", source_compute=instance.host, source_node=instance.node,
                          dest_compute=destination, old_flavor=instance.flavor, new_flavor=flavor,
                          old_vm_state=instance.vm_state, user_id=ctx.user_id, project_id=ctx.project_id,
                          created_at=now, updated_at=now)
    session.add(migration)
    return migration.uuid


def after_resize(compute: Any, ctx: Any, server_id: str, migration_uuid: str) -> None:
    """Have the conductor place a recorded resize or migration, waiting for its choice as
    Nova's API does: a move no host can take is a 400 (the server stays as it was, the
    migration ``error``, the reason in the server's fault too).

    :raises Invalid: no valid host.
    """
    try:
        compute.rpc(CONDUCTOR_TOPIC).call(ctx, "resize_instance", instance_uuid=server_id,
                                          migration_uuid=migration_uuid)
    except NoValidHost as exc:
        # the filters' findings tell about other projects' hosts: administrators only, as Nova's fault details
        raise Invalid(str(exc) if ctx.is_admin else str(exc).split(". ", 1)[0] + ".") from None


def finished(session: Any, instance: models.Instance, name: str, to: str) -> Migration:
    """Move the server's finished resize to ``to`` (confirming/reverting).

    :raises Conflict: the server is not ``VERIFY_RESIZE`` or is busy (409 as Nova).
    :raises Invalid: it has no finished resize (400 as Nova).
    """
    from stratus.compute.api.actions import check

    check(instance, name, (states.RESIZED,))
    migration = session.scalars(sa.select(Migration).where(Migration.instance_uuid == instance.uuid,
                                                           Migration.status == "finished")).first()
    if migration is None:
        raise Invalid(f"Instance {instance.uuid} has not been resized.")
    moved = session.execute(sa.update(Migration).where(Migration.id == migration.id, Migration.status == "finished")
                            .values(status=to, updated_at=utcnow()).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(f"Cannot '{name}' instance {instance.uuid}: another action started first")
    if to == "reverting":
        instance.task_state, instance.updated_at = states.RESIZE_REVERTING, utcnow()
    return migration


def after_finished(compute: Any, ctx: Any, server_id: str, migration: dict[str, Any], to: str) -> None:
    """Cast the confirm to the source, the revert to the destination."""
    if to == "confirming":
        compute.rpc(TOPIC).cast(ctx, "confirm_resize", server=migration["source_compute"], instance_uuid=server_id,
                                migration_uuid=migration["uuid"])
    else:
        compute.rpc(TOPIC).cast(ctx, "revert_resize", server=migration["dest_compute"], instance_uuid=server_id,
                                migration_uuid=migration["uuid"])
