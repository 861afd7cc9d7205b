"""Image tasks (Glance's ``/v2/tasks`` and ``/v2/images/{id}/tasks``).

Every interoperable import (``POST /v2/images/{id}/import``) is recorded as an
``api_image_import`` task of its image, ``processing`` until the import ends in
``success`` or ``failure``. The legacy ``import`` task type makes a new image from a URL
(``input.import_from``) through the same web-download path. Ended tasks expire after
``[image] task_time_to_live`` hours.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import StratusError
from stratus.image import models
from stratus.image.service import ImageService

LOG = logging.getLogger(__name__)
ENDED = ("success", "failure")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def record(images: ImageService, task_type: str, owner: str, task_input: dict[str, Any], *,
           image_id: str | None = None, context: Any = None, status: str = "pending") -> str:
    """Store a new task; its id."""
    now = _now()
    task_id = str(uuid.uuid4())
    with images.db.transaction() as session:
        session.add(models.Task(id=task_id, type=task_type, status=status, owner=owner, input=task_input,
                                result=None, message="", image_id=image_id,
                                request_id=getattr(context, "request_id", None),
                                user_id=getattr(context, "user_id", None), created_at=now, updated_at=now))
    return task_id


def move(images: ImageService, task_id: str, status: str, *, message: str | None = None,
         result: dict[str, Any] | None = None, image_id: str | None = None) -> None:
    """Set the task's status (and what it ended with); an ended task starts to expire."""
    now = _now()
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if message is not None:
        values["message"] = message
    if result is not None:
        values["result"] = result
    if image_id is not None:
        values["image_id"] = image_id
    if status in ENDED:
        values["expires_at"] = now + datetime.timedelta(hours=images.conf.image.task_time_to_live)
    with images.db.transaction() as session:
        session.execute(sa.update(models.Task).where(models.Task.id == task_id).values(**values))


def run_import(images: ImageService, task_id: str, owner: str, task_input: dict[str, Any]) -> None:
    """The legacy ``import`` task: an image with ``image_properties``, its data downloaded from
    ``import_from`` into the default store. Never raises; the task says how it went."""
    from stratus.image import imports, snapshots, states

    move(images, task_id, "processing")
    image_id = None
    try:
        wanted = dict(task_input.get("image_properties") or {})
        image_id = snapshots.create(images, owner, wanted)
        imports.check_uri(images.conf, task_input["import_from"])
        if not states.move(images.db, image_id, "queued", "importing"):
            raise StratusError(f"Image {image_id} left the queued status before its import")
        job = imports.ImportJob(image_id, owner, "web-download", [images.conf.image.default_store], True,
                                task_input["import_from"])
        ok, message = imports.run(images, job)
        if not ok:
            raise StratusError(message or "the import failed")
    except Exception as exc:  # anything goes into the task's message; the half-made image goes away
        LOG.warning("import task %s failed: %s", task_id, exc)
        if image_id is not None:
            snapshots.delete(images, image_id)
        move(images, task_id, "failure", message=str(exc) or type(exc).__name__)
        return
    move(images, task_id, "success", result={"image_id": image_id}, image_id=image_id)
