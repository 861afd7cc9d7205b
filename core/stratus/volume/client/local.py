"""The volume client served in-process by a block-storage service (the embedded cloud, and
processes configured with ``[volume_client] mode = local``)."""

from __future__ import annotations

import contextlib
from typing import Any

from stratus.context import RequestContext
from stratus.exceptions import NotFound
from stratus.volume import models
from stratus.volume.attachments import Attachments
from stratus.volume.client import VolumeClient, VolumeInfo

#: what the service acts as when no caller is named (as Nova's service user, an administrator)
SERVICE = RequestContext(user_id="stratus-compute", project_id=None, roles=["admin", "service"])


class LocalVolumeClient(VolumeClient):
    def __init__(self, service: Any, owned: bool = False) -> None:
        """``owned``: the client made ``service`` and closes it (else its maker does)."""
        self.service, self.owned = service, owned
        self.flow = Attachments(service)

    @classmethod
    def from_conf(cls, conf: Any) -> LocalVolumeClient:
        from stratus.rpc import transport_from_conf
        from stratus.volume.service import VolumeService

        return cls(VolumeService(conf, transport_from_conf(conf)), owned=True)

    def close(self) -> None:
        if self.owned:
            self.service.close()

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

    def delete(self, volume_id: str, context: Any = None) -> None:
        with contextlib.suppress(NotFound):
            self.service.delete_volume(context or SERVICE, volume_id)
