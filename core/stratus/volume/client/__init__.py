"""What block storage offers the other services: volumes to attach to servers and boot from
— the one module of this service another may import (issue 17's seam).

:class:`VolumeClient` is the interface, in Cinder's attachment terms (Nova's flow at API
3.44). :func:`from_conf` gives the implementation ``[volume_client] mode`` chooses:
:class:`~stratus.volume.client.local.LocalVolumeClient` (a block-storage service in this
process) or :class:`~stratus.volume.client.rest.RestVolumeClient` (Cinder's public API v3,
from Stratus or from upstream Cinder).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

__all__ = ["VolumeClient", "VolumeInfo", "from_conf"]


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as compute needs it."""

    id: str
    status: str
    size: int
    project_id: str | None
    multiattach: bool
    bootable: bool
    availability_zone: str | None
    #: the servers it is attached to (attachment ids by server id)
    attachments: dict[str, str]


class VolumeClient(abc.ABC):
    """Volumes as Nova reaches them in Cinder. ``context``: whose request it is (the caller's
    project and token); None acts as the service."""

    @abc.abstractmethod
    def show(self, volume_id: str, context: Any = None) -> VolumeInfo | None:
        """The volume, if it exists and ``context`` may see it."""

    @abc.abstractmethod
    def reserve(self, volume_id: str, server_id: str, context: Any = None) -> str:
        """An attachment of the volume for ``server_id`` (the volume is then ``reserved``); its id.

        :raises Invalid: the volume is not available (nor multiattach). :raises NotFound: unknown.
        """

    @abc.abstractmethod
    def connect(self, attachment_id: str, connector: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Export the volume to the host ``connector`` describes; the connection info
        (``driver_volume_type``, ``data``)."""

    @abc.abstractmethod
    def complete(self, attachment_id: str, context: Any = None) -> None:
        """The hypervisor attached it (the volume is ``in-use``)."""

    @abc.abstractmethod
    def detach(self, attachment_id: str, context: Any = None) -> None:
        """Stop the export and drop the attachment. Idempotent."""

    @abc.abstractmethod
    def create(self, size: int, context: Any = None, *, name: str | None = None, image_id: str | None = None,
               snapshot_id: str | None = None, volume_type: str | None = None,
               availability_zone: str | None = None) -> str:
        """Start making a volume in ``context``'s project (``creating``); its id.

        :raises Invalid: a size too small for its source, an unknown zone or type.
        :raises NotFound: an unknown image or snapshot. :raises OverLimit: a quota.
        """

    @abc.abstractmethod
    def delete(self, volume_id: str, context: Any = None, force: bool = False) -> None:
        """Delete the volume (a server's ``delete_on_termination`` one). Idempotent. ``force``
        (as the service): whatever its status, e.g. one still being made for a refused server."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the client holds."""


def from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> VolumeClient:
    """Over ``service`` when block storage runs in this process; else what ``[volume_client]
    mode`` chooses: a block-storage service of its own (``local``), or its REST API with
    ``auth`` (a :class:`~stratus.service_auth.ServiceAuth`; ``rest``)."""
    if service is not None:
        from stratus.volume.client.local import LocalVolumeClient

        return LocalVolumeClient(service)
    if conf.volume_client.mode == "rest":
        from stratus.service_auth import ServiceAuth
        from stratus.volume.client.rest import RestVolumeClient

        return RestVolumeClient(conf, auth or ServiceAuth(conf))
    from stratus.volume.client.local import LocalVolumeClient

    return LocalVolumeClient.from_conf(conf)
