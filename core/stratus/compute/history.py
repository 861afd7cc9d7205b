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


def recorded(context: Any) -> bool:
    """Whether ``context`` is a request whose steps are recorded (a user's, with a request id)."""
    return context is not None and bool(getattr(context, "request_id", None)) and \
        bool(getattr(context, "user_id", None))


def start_event_in(session: Any, context: Any, instance_uuid: str, name: str, host: str) -> list[int] | None:
    """:func:`start_event` in ``session`` (another step's transaction)."""
    if not recorded(context):
        return None
    action_id = session.scalar(sa.select(models.InstanceAction.id).where(
        models.InstanceAction.instance_uuid == instance_uuid, models.InstanceAction.request_id == context.request_id))
    if action_id is None:
        return None
    now = utcnow()
    row = models.InstanceActionEvent(action_id=action_id, event=name, start_time=now, host=host)
    session.add(row)
    session.execute(sa.update(models.InstanceAction).where(models.InstanceAction.id == action_id)
                    .values(updated_at=now))
    session.flush()
    return [action_id, row.id]


def start_event(db: Any, context: Any, instance_uuid: str, name: str, host: str) -> list[int] | None:
    """Record ``name`` begun as an event of the request's action: ``[action id, event id]``,
    or None when the request made no action on the server (or there is no request)."""
    if not recorded(context):
        return None
    with db.transaction() as session:
        return start_event_in(session, context, instance_uuid, name, host)


def finish_event(db: Any, action_id: int, event_id: int, result: str, trace: str | None,
                 details: str | None) -> None:
    """The event ended with ``result`` (``Success`` or ``Error``: the action's message too)."""
    now = utcnow()
    with db.transaction() as session:
        session.execute(sa.update(models.InstanceActionEvent).where(models.InstanceActionEvent.id == event_id)
                        .values(finish_time=now, result=result, traceback=trace, details=details))
        action = {"updated_at": now} if result != "Error" else {"updated_at": now, "message": "Error"}
        session.execute(sa.update(models.InstanceAction).where(models.InstanceAction.id == action_id)
                        .values(action))


@contextlib.contextmanager
def event(state: Any, context: Any, instance_uuid: str, name: str, host: str) -> Iterator[None]:
    """Record ``name`` as an event of the request's action while the block runs, through
    ``state`` (a :mod:`~stratus.compute.host_state` HostState or its remote); a raise marks it
    Error (with the error as its details and the traceback, shown to administrators) and the
    action's message Error, and goes on. Each step moves the action's ``updated_at``."""
    started = state.event_start(context, uuid=instance_uuid, name=name, host=host) if recorded(context) else None
    with finishing(state, context, started):
        yield


@contextlib.contextmanager
def finishing(state: Any, context: Any, started: list[int] | None) -> Iterator[None]:
    """The end of an event another step began (``started``: its ids, None for no event), as
    :func:`event` records it."""
    try:
        yield
    except Exception as exc:
        if started is not None:
            state.event_finish(context, action_id=started[0], event_id=started[1], result="Error",
                               trace=traceback.format_exc(), details=str(exc) or type(exc).__name__)
        raise
    if started is not None:
        state.event_finish(context, action_id=started[0], event_id=started[1], result="Success", trace=None,
                           details=None)
