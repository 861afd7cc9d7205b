"""What the image service offers the other services: images to boot from, their data for a
host, and snapshots — the one module of this service another may import (issue 17's seam).

:class:`ImageClient` is the interface. :func:`from_conf` gives the implementation
``[image_client] mode`` chooses: :class:`~stratus.image.client.local.LocalImageClient` (an
image service in this process) or :class:`~stratus.image.client.rest.RestImageClient`
(Glance's public API v2, from Stratus or from upstream Glance).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImageClient", "ImageInfo", "LocalImageClient", "from_conf"]


@dataclass(frozen=True)
class ImageInfo:
    """An image as another service needs it."""

    id: str
    status: str
    size: int | None
    checksum: str | None
    min_ram: int
    min_disk: int
    disk_format: str | None
    container_format: str | None
    properties: dict[str, str] = field(default_factory=dict)
    name: str | None = None


class ImageClient(abc.ABC):
    """Images for servers: what compute reads, downloads and writes."""

    @abc.abstractmethod
    def show(self, image_id: str, context: Any = None) -> ImageInfo | None:
        """The image if it exists and ``context`` may see it (None: the service's own view)."""

    def url(self, image_id: str) -> str | None:
        """The image's public URL when the image API is elsewhere (None: beside the caller's API)."""
        return None

    @abc.abstractmethod
    def download(self, image_id: str, target: str) -> None:
        """Write the active image's data to ``target``, whole or not at all (a partial file
        never stays), checked against its size and checksum.

        :raises NotFound: gone, not active or without data in a store here.
        :raises Invalid: the data read does not match.
        """

    @abc.abstractmethod
    def create_snapshot(self, owner: str, state: dict[str, Any]) -> str:
        """A ``queued`` image owned by ``owner`` with attributes ``state``; its id.

        :raises Invalid: an attribute is wrong. :raises PayloadTooLarge: a quota is reached.
        """

    @abc.abstractmethod
    def upload(self, image_id: str, path: str, disk_format: str) -> None:
        """The file at ``path`` becomes the queued image's data (it goes active).

        :raises NotFound: or :raises Conflict: the image was deleted or changed meanwhile.
        """

    @abc.abstractmethod
    def delete(self, image_id: str) -> None:
        """Delete the image and its data. Idempotent."""

    @abc.abstractmethod
    def rotate_backups(self, instance_uuid: str, backup_type: str, rotation: int) -> list[str]:
        """Delete the server's oldest ``backup_type`` backups beyond ``rotation``; their ids."""

    @abc.abstractmethod
    def drop_unfinished(self, instance_uuid: str) -> list[str]:
        """Delete the server's snapshots and backups whose upload never finished; their ids."""

    @abc.abstractmethod
    def park(self, key: str, path: str) -> str:
        """Keep the file at ``path`` (a disk moving between hosts) under ``key``; where."""

    @abc.abstractmethod
    def fetch(self, where: str, path: str) -> None:
        """Write what :meth:`park` kept at ``where`` to ``path``, whole or not at all."""

    @abc.abstractmethod
    def drop(self, where: str | None) -> None:
        """Remove what :meth:`park` kept. Idempotent."""



def from_conf(conf: Any, *, service: Any = None, auth: Any = None) -> ImageClient:
    """Over ``service`` when the image service runs in this process; else what
    ``[image_client] mode`` chooses: a image service of its own (``local``), or its
    REST API with ``auth`` (a :class:`~stratus.service_auth.ServiceAuth`; ``rest``)."""
    if service is not None:
        from stratus.image.client.local import LocalImageClient

        return LocalImageClient(service)
    if conf.image_client.mode == "rest":
        from stratus.image.client.rest import RestImageClient
        from stratus.service_auth import ServiceAuth

        return RestImageClient(conf, auth or ServiceAuth(conf))
    from stratus.image.client.local import LocalImageClient

    return LocalImageClient.from_conf(conf)


def __getattr__(name: str) -> Any:
    if name == "LocalImageClient":
        from stratus.image.client.local import LocalImageClient

        return LocalImageClient
    raise AttributeError(name)
