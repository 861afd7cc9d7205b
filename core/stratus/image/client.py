"""What the image service offers the other services: images to boot from, their data for a
host, and snapshots — the one module of this service another may import (issue 17's seam).

:class:`ImageClient` is the interface; :class:`LocalImageClient` serves it in-process from
the image service (the embedded cloud, and processes that have the image database and the
stores' configuration). A REST implementation over Glance's public API is to follow, so
compute can run beside another Glance.
"""

from __future__ import annotations

import abc
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from stratus.exceptions import BackendUnavailable, Invalid, NotFound
from stratus.image import listing, models, snapshots
from stratus.interfaces.image_store import Location


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


class ImageClient(abc.ABC):
    """Images for servers: what compute reads, downloads and writes."""

    @abc.abstractmethod
    def show(self, image_id: str, context: Any = None) -> ImageInfo | None:
        """The image if it exists and ``context`` may see it (None: the service's own view)."""

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


class LocalImageClient(ImageClient):
    """:class:`ImageClient` served in-process by ``service`` (an ImageService)."""

    def __init__(self, service: Any) -> None:
        self.service = service

    @classmethod
    def from_conf(cls, conf: Any) -> LocalImageClient:
        """A client over an image service of its own (compute hosts); :meth:`close` releases it."""
        from stratus.image.service import ImageService

        return cls(ImageService(conf))

    def close(self) -> None:
        self.service.close()

    def show(self, image_id: str, context: Any = None) -> ImageInfo | None:
        with self.service.db.reading() as session:
            if context is None:
                row = session.get(models.Image, image_id)
                row = row if row is not None and row.status != "deleted" else None
            else:
                row = listing.load(session, image_id, context)
            if row is None:
                return None
            return ImageInfo(row.id, row.status, row.size, row.checksum, row.min_ram or 0, row.min_disk or 0,
                             row.disk_format, row.container_format, {p.name: p.value for p in row.extra})

    def download(self, image_id: str, target: str) -> None:
        with self.service.db.reading() as session:
            row = session.get(models.Image, image_id)
            if row is None or row.status != "active":
                raise NotFound(f"Image {image_id} could not be found or is not active.")
            size, checksum = row.size, row.checksum
            stores = self.service.stores
            locations = [(loc.store, loc.url) for loc in row.locations if loc.store in stores]
        failure: Exception = NotFound(f"Image {image_id} has no data in any enabled store.")
        for store, url in locations:
            partial = f"{target}.part"
            digest, written = hashlib.md5(usedforsecurity=False), 0
            try:
                with open(partial, "wb") as out:
                    for chunk in stores[store].get(Location(url)):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                if (size is not None and written != size) or (checksum and digest.hexdigest() != checksum):
                    raise Invalid(f"Image {image_id} read from store {store} does not match its size or checksum.")
                os.replace(partial, target)
                return
            except (NotFound, BackendUnavailable, Invalid, OSError) as exc:
                failure = exc
                if os.path.exists(partial):
                    os.unlink(partial)
        raise failure

    def create_snapshot(self, owner: str, state: dict[str, Any]) -> str:
        return snapshots.create(self.service, owner, state)

    def upload(self, image_id: str, path: str, disk_format: str) -> None:
        snapshots.upload(self.service, image_id, path, disk_format)

    def delete(self, image_id: str) -> None:
        snapshots.delete(self.service, image_id)

    def rotate_backups(self, instance_uuid: str, backup_type: str, rotation: int) -> list[str]:
        return snapshots.rotate_backups(self.service, instance_uuid, backup_type, rotation)

    def drop_unfinished(self, instance_uuid: str) -> list[str]:
        return snapshots.drop_unfinished(self.service, instance_uuid)

    def park(self, key: str, path: str) -> str:
        return snapshots.park(self.service, key, path)

    def fetch(self, where: str, path: str) -> None:
        snapshots.fetch(self.service, where, path)

    def drop(self, where: str | None) -> None:
        snapshots.drop(self.service, where)
