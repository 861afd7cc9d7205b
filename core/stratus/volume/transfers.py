"""Giving a volume to another project (``os-volume-transfer``), as Cinder does.

The owner offers a volume that is ``available`` (it becomes ``awaiting-transfer``) and gets
a key, shown once; whoever presents the transfer's id and key takes the volume, and its
snapshots, into their own project, within their quotas. The key is kept only as a salted
hash. The owner may withdraw the offer (the volume is ``available`` again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Invalid, NotFound
from stratus.volume import models, quotas, states
from stratus.volume.models import utcnow

KEY_LENGTH = 16


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256((salt + key).encode()).hexdigest()


class Transfers:
    def __init__(self, service: Any) -> None:
        self.service, self.db = service, service.db

    def find(self, session: Any, ctx: Any, transfer_id: str) -> models.Transfer:
        """A transfer the caller's project offered (administrators: any). :raises NotFound:"""
        transfer = session.get(models.Transfer, transfer_id)
        if transfer is None or not (ctx.is_admin or transfer.project_id == ctx.project_id):
            raise NotFound(f"Transfer {transfer_id} could not be found.")
        return transfer

    def create(self, ctx: Any, volume_id: str, name: str | None) -> tuple[models.Transfer, str]:
        """Offer the volume; the transfer and its key (not kept).

        :raises Invalid: the volume is not available, or is already offered."""
        key = secrets.token_hex(KEY_LENGTH // 2)
        salt = secrets.token_hex(16)
        with self.db.transaction() as session:
            volume = self.service.volume(session, ctx, volume_id)
            if volume.status != states.AVAILABLE:
                raise Invalid(f"Invalid volume: status must be available to transfer volume {volume_id}, but it "
                              f"is {volume.status}.")
            transfer = models.Transfer(id=str(uuid.uuid4()), volume_id=volume_id, project_id=volume.project_id,
                                       name=name, salt=salt, crypt_hash=_hash(salt, key), created_at=utcnow())
            session.add(transfer)
            volume.status, volume.updated_at = states.AWAITING_TRANSFER, utcnow()
            session.flush()
            return transfer, key

    def delete(self, ctx: Any, transfer_id: str) -> None:
        with self.db.transaction() as session:
            transfer = self.find(session, ctx, transfer_id)
            volume = session.get(models.Volume, transfer.volume_id)
            if volume is not None and volume.status == states.AWAITING_TRANSFER:
                volume.status, volume.updated_at = states.AVAILABLE, utcnow()
            session.delete(transfer)

    def accept(self, ctx: Any, transfer_id: str, key: str) -> models.Transfer:
        """Take the volume (and its snapshots) into the caller's project.

        :raises NotFound: no such transfer. :raises Invalid: the key is wrong.
        :raises OverLimit: the caller's quotas cannot hold it."""
        with self.db.transaction() as session:
            transfer = session.get(models.Transfer, transfer_id)
            if transfer is None:
                raise NotFound(f"Transfer {transfer_id} could not be found.")
            if not hmac.compare_digest(transfer.crypt_hash, _hash(transfer.salt, key or "")):
                raise Invalid(f"Invalid auth key: Attempt to transfer {transfer_id} with invalid auth key.")
            volume = session.get(models.Volume, transfer.volume_id)
            snapshots = list(session.scalars(sa.select(models.Snapshot).where(
                models.Snapshot.volume_id == volume.id)))
            size = volume.size + sum(s.size for s in snapshots)
            quotas.check(self.db, session, self.service.conf, ctx.project_id,
                         {"volumes": 1, "snapshots": len(snapshots), "gigabytes": size}, volume.volume_type.name)
            volume.project_id, volume.user_id = ctx.project_id, ctx.user_id
            volume.status, volume.updated_at = states.AVAILABLE, utcnow()
            for snapshot in snapshots:
                snapshot.project_id, snapshot.user_id = ctx.project_id, ctx.user_id
            session.delete(transfer)
            session.flush()
            session.expunge(transfer)
            return transfer
