"""The image client served in-process by an image service (the embedded cloud, and
processes configured with ``[image_client] mode = local``)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import BackendUnavailable, Invalid, NotFound
from stratus.image import listing, models, snapshots
from stratus.image.client import ImageClient, ImageInfo
from stratus.interfaces.image_store import Location

#: built once (every boot shows its image): columns, not the entity, which would load its
#: tags and locations too
_SHOW = sa.select(models.Image.id, models.Image.status, models.Image.size, models.Image.checksum,
                  models.Image.min_ram, models.Image.min_disk, models.Image.disk_format,
                  models.Image.container_format, models.Image.name) \
    .where(models.Image.id == sa.bindparam("b_image"), models.Image.status != "deleted")
_SHOW_READABLE = _SHOW.where(listing.readable_by(sa.bindparam("b_project")))
_PROPERTIES = sa.select(models.ImageProperty.name, models.ImageProperty.value) \
    .where(models.ImageProperty.image_id == sa.bindparam("b_image"))


class LocalImageClient(ImageClient):
    """:class:`ImageClient` served in-process by ``service`` (an ImageService)."""

    def __init__(self, service: Any, owned: bool = False) -> None:
        """``owned``: the client made ``service`` and closes it (else its maker does)."""
        self.service, self.owned = service, owned

    @classmethod
    def from_conf(cls, conf: Any) -> LocalImageClient:
        """A client over an image service of its own (compute hosts); :meth:`close` releases it."""
        from stratus.image.service import ImageService

        return cls(ImageService(conf), owned=True)

    def close(self) -> None:
        if self.owned:
            self.service.close()

    def show(self, image_id: str, context: Any = None) -> ImageInfo | None:
        asked = {"b_image": image_id}
        if context is None or context.is_admin:
            statement = _SHOW
        else:
            statement, asked["b_project"] = _SHOW_READABLE, context.project_id
        with self.service.db.reading() as session:
            row = session.execute(statement, asked).first()
            if row is None:
                return None
            properties = dict(session.execute(_PROPERTIES, {"b_image": image_id}).all())
        return ImageInfo(row.id, row.status, row.size, row.checksum, row.min_ram or 0, row.min_disk or 0,
                         row.disk_format, row.container_format, properties, row.name)

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
