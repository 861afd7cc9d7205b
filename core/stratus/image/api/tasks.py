"""``/v2/tasks`` (administrators, as Glance's ``tasks_api_access``) and
``/v2/images/{id}/tasks`` (whoever may see the image): asynchronous image operations."""

from __future__ import annotations

import datetime
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.db import paging
from stratus.exceptions import Invalid, NotFound
from stratus.image import models, tasks
from stratus.image.api import views
from stratus.image.api.images import load
from stratus.image.service import ImageService

Task = models.Task
CREATE = {"type": "object", "required": ["type", "input"], "properties": {
    "type": {"enum": ["import"]},
    "input": {"type": "object", "required": ["import_from", "image_properties"], "properties": {
        "import_from": {"type": "string", "minLength": 1, "maxLength": 4096},
        "import_from_format": {"type": "string"},
        "image_properties": {"type": "object"}}}}}
SORT_KEYS = {"created_at": Task.created_at, "updated_at": Task.updated_at, "id": Task.id, "type": Task.type,
             "status": Task.status}


def _live() -> Any:
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return sa.or_(Task.expires_at.is_(None), Task.expires_at > now)


class Tasks:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Create an import task: an image from a URL (administrators)", request=CREATE,
            responses={201: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:tasks_api_access")
        enforce(req, self.policy, "image:add_task")
        body = req.context.body
        ctx = req.context.stratus
        task_id = tasks.record(self.images, body["type"], ctx.project_id or "", body["input"], context=ctx)
        self.images.executor.submit(tasks.run_import, self.images, task_id, ctx.project_id or "", body["input"])
        with self.images.db.reading() as session:
            resp.media = views.task(session.get(Task, task_id))
        resp.status = 201

    @schema("List tasks (type, status, sort_key, sort_dir, limit, marker; administrators)",
            responses={200: {"type": "object", "required": ["tasks"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        enforce(req, self.policy, "image:tasks_api_access")
        enforce(req, self.policy, "image:get_tasks")
        where = [_live()]
        for name in ("type", "status"):
            if req.params.get(name):
                where.append(getattr(Task, name) == req.params[name])
        key, direction = req.params.get("sort_key", "created_at"), req.params.get("sort_dir", "desc")
        if key not in SORT_KEYS or direction not in ("asc", "desc"):
            raise Invalid(f"Invalid sort key {key} or direction {direction}")
        keys = paging.sort_keys([(key, SORT_KEYS[key], direction == "asc", False)], ("id", Task.id))
        limit = int(req.params["limit"]) if str(req.params.get("limit", "")).isdigit() else 25
        with self.images.db.reading() as session:
            query = sa.select(Task).where(*where)
            marker = req.params.get("marker")
            if marker:
                after = session.scalars(sa.select(Task).where(Task.id == marker, *where)).first()
                if after is None:
                    raise Invalid(f"Invalid marker. Task {marker} could not be found.")
                query = query.where(paging.after(keys, after))
            rows = list(session.scalars(query.order_by(*paging.order_by(keys)).limit(limit)))
            body: dict[str, Any] = {"tasks": [{k: v for k, v in views.task(r).items()
                                               if k not in ("input", "result", "message")} for r in rows],
                                    "schema": "/v2/schemas/tasks", "first": "/v2/tasks"}
        if len(rows) == limit:
            body["next"] = f"/v2/tasks?marker={rows[-1].id}&limit={limit}"
        resp.media = body


class TaskItem:
    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("Show a task (administrators)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, task_id: str) -> None:
        enforce(req, self.policy, "image:tasks_api_access")
        enforce(req, self.policy, "image:get_task")
        with self.images.db.reading() as session:
            row = session.scalars(sa.select(Task).where(Task.id == task_id, _live())).first()
            if row is None:
                raise NotFound(f"Task with the given id {task_id} not found")
            resp.media = views.task(row)


class ImageTasks:
    """``GET /v2/images/{id}/tasks``: the tasks of an image its viewer may see (2.12)."""

    def __init__(self, images: ImageService, policy: Policy) -> None:
        self.images, self.policy = images, policy

    @schema("The tasks of an image (its imports)", responses={200: {"type": "object", "required": ["tasks"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, image_id: str) -> None:
        enforce(req, self.policy, "image:get_image")
        load(self.images, req, image_id)
        with self.images.db.reading() as session:
            rows = list(session.scalars(sa.select(Task).where(Task.image_id == image_id, _live())
                                        .order_by(Task.created_at)))
            resp.media = {"tasks": [views.task(r) for r in rows]}
