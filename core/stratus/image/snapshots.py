"""Server disks going into the image service, for the compute service in-process.

A snapshot (``createImage``) is an ordinary image: created ``queued`` with the caller's
attributes (quotas and validation as ``POST /v2/images``), then filled from a local file
and made ``active`` — or deleted if that fails. A resize between hosts parks the server's
disk in the default store for the destination to fetch; those blobs have no image record.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import Conflict, PayloadTooLarge
from stratus.image import attributes, models, states, uploads
from stratus.image.service import ImageService
from stratus.interfaces.image_store import Location, WritableStore

_CHUNK = 1 << 20


def create(images: ImageService, owner: str, state: dict[str, Any]) -> str:
    """Create a ``queued`` image owned by ``owner`` with the editable attributes ``state``.

    :raises Invalid: an attribute is wrong (the message names it).
    :raises PayloadTooLarge: the owner's image count, tag or property quota is reached.
    """
    from stratus.image.api.images import write_state

    state = {"name": None, "visibility": "private", "protected": False, "os_hidden": False, "disk_format": None,
             "container_format": None, "min_disk": 0, "min_ram": 0, "tags": [], **state, "owner": owner}
    attributes.check_state(state, images.conf)
    now = states.now()
    row = models.Image(id=str(uuid.uuid4()), status="queued", created_at=now, updated_at=now, tags=[], extra=[],
                       locations=[])
    write_state(row, state)
    quota = images.conf.image.quota_images
    with images.db.transaction() as session:
        if quota >= 0 and uploads.image_count(session, owner) >= quota:
            raise PayloadTooLarge(f"Maximum number of images exceeded: project {owner} may have {quota}")
        session.add(row)
    return row.id


def _file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            yield chunk


def _default_store(images: ImageService) -> tuple[str, WritableStore]:
    name = images.conf.image.default_store
    return name, images.stores[name]  # type: ignore[return-value]  # ImageService checked it is writable


def upload(images: ImageService, image_id: str, path: str, disk_format: str) -> None:
    """Store ``path`` as the data of queued image ``image_id`` and make it ``active``.

    :raises Conflict: the image is no longer queued (deleted meanwhile): nothing is kept.
    :raises PayloadTooLarge: over ``[image] image_size_cap`` or the owner's storage quota.
    """
    with images.db.transaction() as session:
        owner = session.scalar(sa.select(models.Image.owner).where(models.Image.id == image_id))
        limit, why = uploads.byte_limit(images.conf, session, owner, os.path.getsize(path))
    store_name, store = _default_store(images)
    if not states.move(images.db, image_id, "queued", "saving", disk_format=disk_format):
        raise Conflict(f"Image {image_id} is no longer queued; the snapshot was not kept.")
    size = os.path.getsize(path)
    reader = uploads.HashingReader(_file(path), images.conf.image.chunk_size, limit, why, expected=size)
    try:
        stored = store.add(image_id, reader, size)
    except BaseException:
        states.move(images.db, image_id, "saving", "queued")
        raise
    if not states.move(images.db, image_id, "saving", "active", locations=[(store_name, stored.location.url)],
                       **reader.checksums):
        store.delete(stored.location)
        raise Conflict(f"Image {image_id} was deleted during the upload; the data was removed.")


def delete(images: ImageService, image_id: str) -> None:
    """Delete the image and whatever data it has. Idempotent."""
    from stratus.image.api.images import remove_data

    with images.db.transaction() as session:
        row = session.get(models.Image, image_id)
    if row is not None and states.move(images.db, image_id, states.LIVE, "deleted", deleted_at=states.now()):
        remove_data(images, row)


def rotate_backups(images: ImageService, instance_uuid: str, backup_type: str, rotation: int) -> list[str]:
    """Delete the server's oldest ``backup_type`` backups (images with ``image_type=backup``)
    beyond the newest ``rotation``; return the ids deleted."""
    def prop(name: str, value: str) -> Any:
        return sa.exists().where(models.ImageProperty.image_id == models.Image.id,
                                 models.ImageProperty.name == name, models.ImageProperty.value == value)

    with images.db.reading() as session:
        backups = list(session.scalars(sa.select(models.Image.id).where(
            models.Image.status.in_(("queued", "saving", "active")), prop("image_type", "backup"),
            prop("backup_type", backup_type), prop("instance_uuid", instance_uuid))
            .order_by(models.Image.created_at.desc(), models.Image.id)))
    excess = backups[rotation:]
    for image_id in excess:
        delete(images, image_id)
    return excess


def drop_unfinished(images: ImageService, instance_uuid: str) -> list[str]:
    """Delete the server's snapshots and backups whose upload never finished (``queued`` or
    ``saving``: a restart cut it short); return their ids."""
    def prop(name: str, value: str | tuple[str, ...]) -> Any:
        values = (value,) if isinstance(value, str) else value
        return sa.exists().where(models.ImageProperty.image_id == models.Image.id,
                                 models.ImageProperty.name == name, models.ImageProperty.value.in_(values))

    with images.db.reading() as session:
        unfinished = list(session.scalars(sa.select(models.Image.id).where(
            models.Image.status.in_(("queued", "saving")), prop("instance_uuid", instance_uuid),
            prop("image_type", ("snapshot", "backup")))))
    for image_id in unfinished:
        delete(images, image_id)
    return unfinished


def park(images: ImageService, key: str, path: str) -> str:
    """Keep ``path`` in the default store under ``key``; return where (for :func:`fetch`)."""
    store_name, store = _default_store(images)
    stored = store.add(key, _file(path), os.path.getsize(path))
    return f"{store_name}|{stored.location.url}"


def fetch(images: ImageService, where: str, path: str) -> None:
    """Write what :func:`park` kept at ``where`` to ``path`` (whole, or not at all)."""
    store_name, url = where.split("|", 1)
    partial = f"{path}.part"
    try:
        with open(partial, "wb") as out:
            for chunk in images.stores[store_name].get(Location(url)):
                out.write(chunk)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def drop(images: ImageService, where: str | None) -> None:
    """Remove what :func:`park` kept. Idempotent."""
    if where:
        store_name, url = where.split("|", 1)
        store = images.stores.get(store_name)
        if isinstance(store, WritableStore):
            store.delete(Location(url))
