"""What was done to each server (``os-instance-actions``): an action per API request,
events per step a service ran for it, with their outcome."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.db.engine import insert_unless_taken
from stratus.servicegroup.registry import utcnow


def record_action(session: Any, instance_uuid: str, context: Any, action: str) -> None:
    """Note the request ``context`` made on the server (once per request id)."""
    now = utcnow()
    insert_unless_taken(session, models.InstanceAction(
        instance_uuid=instance_uuid, request_id=context.request_id, action=action, user_id=context.user_id,
        project_id=context.project_id, start_time=now, updated_at=now))


@contextlib.contextmanager
def event(db: Any, context: Any, instance_uuid: str, name: str, host: str) -> Iterator[None]:
    """Record ``name`` as an event of the request's action while the block runs; a raise
    marks it Error (with the error as its details and the traceback, shown to administrators)
    and the action's message Error, and goes on. Each step moves the action's ``updated_at``."""
    action_id = None
    if context is not None and getattr(context, "request_id", None):
        with db.transaction() as session:
            action_id = session.scalar(sa.select(models.InstanceAction.id).where(
                models.InstanceAction.instance_uuid == instance_uuid,
                models.InstanceAction.request_id == context.request_id))
            if action_id is not None:
                now = utcnow()
                row = models.InstanceActionEvent(action_id=action_id, event=name, start_time=now, host=host)
                session.add(row)
                session.execute(sa.update(models.InstanceAction).where(models.InstanceAction.id == action_id)
                                .values(updated_at=now))
                session.flush()
                event_id = row.id
    try:
        yield
    except Exception as exc:
        if action_id is not None:
            _finish(db, action_id, event_id, "Error", traceback.format_exc(), str(exc) or type(exc).__name__)
        raise
    if action_id is not None:
        _finish(db, action_id, event_id, "Success", None, None)


def _finish(db: Any, action_id: int, event_id: int, result: str, trace: str | None, details: str | None) -> None:
    now = utcnow()
    with db.transaction() as session:
        session.execute(sa.update(models.InstanceActionEvent).where(models.InstanceActionEvent.id == event_id)
                        .values(finish_time=now, result=result, traceback=trace, details=details))
        action = {"updated_at": now} if result != "Error" else {"updated_at": now, "message": "Error"}
        session.execute(sa.update(models.InstanceAction).where(models.InstanceAction.id == action_id)
                        .values(action))
