"""The attachments flow of block storage (API 3.27, completed by 3.44), as Nova drives it.

1. ``create`` without a connector reserves the volume for a server (attachment
   ``reserved``, volume ``reserved``), or with one does step 2 at once;
2. ``update`` with the host's connector exports the volume to that host through the
   backend's volume service and records the connection (attachment ``attaching``,
   volume ``attaching``);
3. ``complete`` once the hypervisor has attached it (attachment ``attached``, volume
   ``in-use``);
4. ``delete`` stops the export and drops the attachment (volume ``available`` when it was
   the last one).

Every step is one transaction with its status checks, so two servers cannot both take a
volume that does not allow multiattach.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Invalid, NotFound
from stratus.volume import models, states
from stratus.volume.models import utcnow

RESERVED = "reserved"
ATTACHING = "attaching"
ATTACHED = "attached"
#: an attachment in these holds its volume (the volume is not available while one exists)
HOLDING = (RESERVED, ATTACHING, ATTACHED, states.DETACHING)


def _settle(session: Any, volume_id: str) -> models.Volume:
    """Write the volume's status from its attachments (after the session's changes to them)."""
    volume = session.get(models.Volume, volume_id)
    session.flush()
    session.refresh(volume)
    volume.status, volume.attach_status = _volume_status(volume)
    volume.updated_at = utcnow()
    return volume


def _volume_status(volume: models.Volume) -> tuple[str, str]:
    """(status, attach_status) the volume's attachments leave it in."""
    held = [a.attach_status for a in volume.attachments]
    if ATTACHED in held:
        return states.IN_USE, states.ATTACHED
    if ATTACHING in held:
        return states.ATTACHING, states.ATTACHING
    if RESERVED in held:
        return states.RESERVED, states.DETACHED
    return states.AVAILABLE, states.DETACHED


class Attachments:
    """The attachment steps over the volume service's database and its backends' RPC."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.db = service.db

    def find(self, session: Any, ctx: Any, attachment_id: str) -> models.VolumeAttachment:
        attachment = session.get(models.VolumeAttachment, attachment_id)
        if attachment is None:
            raise NotFound(f"VolumeAttachment {attachment_id} could not be found.")
        self.service.volume(session, ctx, attachment.volume_id)  # the caller may see its volume
        return attachment

    def create(self, ctx: Any, volume_id: str, instance_uuid: str | None, connector: dict[str, Any] | None,
               mode: str = "rw") -> str:
        """Reserve ``volume_id`` for ``instance_uuid``; with ``connector`` also export it. Its id.

        :raises Invalid: the volume is not available (nor in-use and multiattach), or is
            read-only and ``rw`` is asked.
        """
        if mode not in ("rw", "ro"):
            raise Invalid(f"Invalid input received: attach mode must be rw or ro, not {mode!r}")
        attachment_id = str(uuid.uuid4())
        with self.db.transaction() as session:
            volume = session.scalars(sa.select(models.Volume).where(models.Volume.id == volume_id)
                                     .with_for_update(of=models.Volume)).first()
            if volume is None or not (ctx.is_admin or volume.project_id == ctx.project_id):
                raise NotFound(f"Volume {volume_id} could not be found.")
            held = [a for a in volume.attachments if a.attach_status in HOLDING]
            free = volume.status == states.AVAILABLE and not held
            shared = volume.multiattach and volume.status in (states.IN_USE, states.RESERVED, states.ATTACHING,
                                                              states.AVAILABLE)
            if not (free or shared):
                raise Invalid(f"Invalid volume: Volume {volume_id} status must be available or in-use with "
                              f"multiattach to attach, but current status is: {volume.status}.")
            if instance_uuid and any(a.instance_uuid == instance_uuid for a in held):
                raise Invalid(f"Invalid volume: Volume {volume_id} is already attached to server {instance_uuid}.")
            if volume.readonly and mode == "rw":
                mode = "ro"  # a read-only volume is attached read-only, as Cinder does
            session.add(models.VolumeAttachment(
                id=attachment_id, volume_id=volume_id, instance_uuid=instance_uuid, attach_mode=mode,
                attach_status=RESERVED, created_at=utcnow()))
            _settle(session, volume_id)
        if connector:
            try:
                self.update(ctx, attachment_id, connector)
            except Exception:
                self.delete(ctx, attachment_id)
                raise
        return attachment_id

    def update(self, ctx: Any, attachment_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Export the volume to the host ``connector`` describes; the connection info. An
        attachment already complete moves to that host (its server moved: a resize, a
        migration): the export to the old host ends and it stays ``attached``.

        :raises Invalid: the attachment is being detached, or its volume has no backend."""
        with self.db.reading() as session:
            attachment = self.find(session, ctx, attachment_id)
            if attachment.attach_status not in (RESERVED, ATTACHING, ATTACHED):
                raise Invalid(f"Invalid volume: attachment {attachment_id} is {attachment.attach_status}; it takes "
                              "no connector.")
            volume_id, old, complete = attachment.volume_id, attachment.connector, \
                attachment.attach_status == ATTACHED
        info = self.service.initialize_connection(ctx, volume_id, connector)
        if complete and old and old.get("host") != connector.get("host"):
            self.service.terminate_connection(ctx, volume_id, old)
        info = {**info, "data": {**info.get("data", {}), "access_mode": attachment.attach_mode},
                "attachment_id": attachment_id}
        with self.db.transaction() as session:
            attachment = session.get(models.VolumeAttachment, attachment_id)
            if attachment is None:
                raise NotFound(f"VolumeAttachment {attachment_id} could not be found.")
            attachment.connector = connector
            attachment.connection_info = info
            attachment.attached_host = str(connector.get("host") or "") or None
            attachment.mountpoint = connector.get("mountpoint") or attachment.mountpoint
            if attachment.attach_status != ATTACHED:
                attachment.attach_status = ATTACHING
            attachment.updated_at = utcnow()
            _settle(session, attachment.volume_id)
        return info

    def complete(self, ctx: Any, attachment_id: str) -> None:
        """The hypervisor attached it: attachment ``attached``, volume ``in-use``.

        :raises Invalid: the attachment has no connection yet."""
        with self.db.transaction() as session:
            attachment = self.find(session, ctx, attachment_id)
            if attachment.attach_status not in (ATTACHING, ATTACHED):
                raise Invalid(f"Invalid volume: attachment {attachment_id} is {attachment.attach_status}; it "
                              "completes once updated with a connector.")
            attachment.attach_status = ATTACHED
            attachment.attach_time = attachment.attach_time or utcnow()
            attachment.updated_at = utcnow()
            _settle(session, attachment.volume_id)

    def delete(self, ctx: Any, attachment_id: str) -> list[models.VolumeAttachment]:
        """Stop the export (when there was one) and drop the attachment; the volume's others."""
        with self.db.reading() as session:
            attachment = self.find(session, ctx, attachment_id)
            volume_id, connector = attachment.volume_id, attachment.connector
        if connector:
            self.service.terminate_connection(ctx, volume_id, connector)
        with self.db.transaction() as session:
            attachment = session.get(models.VolumeAttachment, attachment_id)
            if attachment is not None:
                session.delete(attachment)
            return list(_settle(session, volume_id).attachments)
