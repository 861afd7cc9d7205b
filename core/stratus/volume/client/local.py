"""The volume client served in-process by a block-storage service (the embedded cloud, and
processes configured with ``[volume_client] mode = local``)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import sqlalchemy as sa

from stratus.context import RequestContext
from stratus.exceptions import BackendUnavailable, NotFound
from stratus.volume import models
from stratus.volume.attachments import Attachments
from stratus.volume.client import VolumeClient, VolumeInfo

#: what the service acts as when no caller is named (as Nova's service user, an administrator)
SERVICE = RequestContext(user_id="stratus-compute", project_id=None, roles=["admin", "service"])


class LocalVolumeClient(VolumeClient):
    def __init__(self, service: Any = None, owned: bool = False, conf: Any = None) -> None:
        """Over ``service``; or, with ``conf``, over a block-storage service of its own made at
        first use (a process that never attaches a volume needs no volume tables).
        ``owned``: the client made its service and closes it (else its maker does)."""
        self._service, self.owned, self.conf = service, owned, conf
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf: Any) -> LocalVolumeClient:
        return cls(owned=True, conf=conf)

    @property
    def service(self) -> Any:
        with self._lock:
            if self._service is None:
                from stratus.rpc import transport_from_conf
                from stratus.volume.service import VolumeService

                try:
                    self._service = VolumeService(self.conf, transport_from_conf(self.conf))
                except sa.exc.SQLAlchemyError as exc:
                    raise BackendUnavailable(f"block storage is not set up here ({type(exc).__name__}): run "
                                             "`stratus manage db sync`, or reach it over REST ([volume_client] "
                                             "mode = rest)") from None
            return self._service

    @property
    def flow(self) -> Attachments:
        return Attachments(self.service)

    def close(self) -> None:
        if self.owned and self._service is not None:
            self._service.close()

    def show(self, volume_id: str, context: Any = None) -> VolumeInfo | None:
        with self.service.db.reading() as session:
            try:
                volume = self.service.volume(session, context or SERVICE, volume_id)
            except NotFound:
                return None
            return VolumeInfo(volume.id, volume.status, volume.size, volume.project_id, volume.multiattach,
                              volume.bootable, volume.availability_zone,
                              {a.instance_uuid: a.id for a in volume.attachments if a.instance_uuid})

    def reserve(self, volume_id: str, server_id: str, context: Any = None) -> str:
        return self.flow.create(context or SERVICE, volume_id, server_id, None)

    def connect(self, attachment_id: str, connector: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return self.flow.update(context or SERVICE, attachment_id, connector)

    def complete(self, attachment_id: str, context: Any = None) -> None:
        self.flow.complete(context or SERVICE, attachment_id)

    def detach(self, attachment_id: str, context: Any = None) -> None:
        with self.service.db.reading() as session:
            if session.get(models.VolumeAttachment, attachment_id) is None:
                return
        self.flow.delete(context or SERVICE, attachment_id)

    def delete(self, volume_id: str, context: Any = None, force: bool = False) -> None:
        with contextlib.suppress(NotFound):
            self.service.delete_volume(context or SERVICE, volume_id, force=force)

    def create(self, size: int, context: Any = None, *, name: str | None = None, image_id: str | None = None,
               snapshot_id: str | None = None, volume_type: str | None = None,
               availability_zone: str | None = None) -> str:
        return self.service.create_volume(context or SERVICE, {
            "size": size, "name": name, "image_id": image_id, "snapshot_id": snapshot_id,
            "volume_type": volume_type, "availability_zone": availability_zone, "metadata": {}})
