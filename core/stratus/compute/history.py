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


def record_action(session: Any, instance_uuid: str, context: Any, action: str, new_server: bool = False) -> None:
    """Note the request ``context`` made on the server (once per request id; ``new_server``:
    the server is being created in ``session``, so no action of it can exist yet)."""
    now = utcnow()
    row = models.InstanceAction(
        instance_uuid=instance_uuid, request_id=context.request_id, action=action, user_id=context.user_id,
        project_id=context.project_id, start_time=now, updated_at=now)
    if new_server:
        session.add(row)
    else:
        insert_unless_taken(session, row)


def recorded(context: Any) -> bool:
    """Whether ``context`` is a request whose steps are recorded (a user's, with a request id)."""
    return context is not None and bool(getattr(context, "request_id", None)) and \
        bool(getattr(context, "user_id", None))


def start_event_in(session: Any, context: Any, instance_uuid: str, name: str, host: str) -> list[int] | None:
    """:func:`start_event` in ``session`` (another step's transaction)."""
    if not recorded(context):
        return None
    now = utcnow()
    of_request = {"b_uuid": instance_uuid, "b_request": context.request_id}
    if session.get_bind().dialect.update_returning:  # the action found and moved on in one statement
        action_id = session.scalar(_TOUCH_ACTION, {**of_request, "b_now": now})
        if action_id is None:
            return None
    else:
        action_id = session.scalar(_ACTION_OF_REQUEST, of_request)
        if action_id is None:
            return None
        session.execute(_MOVE_ACTION, {"b_action": action_id, "b_now": now})
    inserted = session.execute(_NEW_EVENT, {"b_action": action_id, "b_name": name, "b_now": now, "b_host": host})
    return [action_id, inserted.inserted_primary_key[0]]


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
    with db.transaction() as session:
        _finish(session, action_id, event_id, result, trace, details)


#: built once: every step of every server starts and ends an event (a statement built per call
#: costs more than running it)
_Action, _Event = models.InstanceAction, models.InstanceActionEvent
_OF_REQUEST = (_Action.instance_uuid == sa.bindparam("b_uuid"), _Action.request_id == sa.bindparam("b_request"))
_TOUCH_ACTION = sa.update(_Action).where(*_OF_REQUEST).values(updated_at=sa.bindparam("b_now")) \
    .returning(_Action.id).execution_options(synchronize_session=False)
_ACTION_OF_REQUEST = sa.select(_Action.id).where(*_OF_REQUEST)
#: on the table, not the entity: an ORM INSERT with parameters is a bulk one, without a primary key back
_NEW_EVENT = sa.insert(_Event.__table__).values(action_id=sa.bindparam("b_action"), event=sa.bindparam("b_name"),
                                                start_time=sa.bindparam("b_now"), host=sa.bindparam("b_host"))
_END_EVENT = sa.update(_Event).where(_Event.id == sa.bindparam("b_event")) \
    .values(finish_time=sa.bindparam("b_now"), result=sa.bindparam("b_result"), traceback=sa.bindparam("b_trace"),
            details=sa.bindparam("b_details")).execution_options(synchronize_session=False)
_MOVE_ACTION = sa.update(_Action).where(_Action.id == sa.bindparam("b_action")) \
    .values(updated_at=sa.bindparam("b_now")).execution_options(synchronize_session=False)
_FAIL_ACTION = _MOVE_ACTION.values(message="Error")


def _finish(session: Any, action_id: int, event_id: int, result: str, trace: str | None,
            details: str | None) -> None:
    now = utcnow()
    session.execute(_END_EVENT, {"b_event": event_id, "b_now": now, "b_result": result, "b_trace": trace,
                                 "b_details": details})
    session.execute(_MOVE_ACTION if result != "Error" else _FAIL_ACTION, {"b_action": action_id, "b_now": now})


@contextlib.contextmanager
def event(state: Any, context: Any, instance_uuid: str, name: str, host: str) -> Iterator[None]:
    """Record ``name`` as an event of the request's action while the block runs, through
    ``state`` (a :mod:`~stratus.compute.host_state` HostState or its remote); a raise marks it
    Error (with the error as its details and the traceback, shown to administrators) and the
    action's message Error, and goes on. Each step moves the action's ``updated_at``."""
    started = state.event_start(context, uuid=instance_uuid, name=name, host=host) if recorded(context) else None
    with finishing(state, context, started):
        yield


class Ending:
    """An event under way, as :func:`finishing` hands it to its block: the block's last step
    may end it as ``Success`` in that step's own transaction (:meth:`pass_on`), sparing the
    round trip that would otherwise end it."""

    def __init__(self, ids: list[int] | None) -> None:
        self.ids, self.passed = ids, False

    def pass_on(self) -> list[int] | None:
        """The event's ids, for a step that ends it as ``Success`` with its own write."""
        self.passed = True
        return self.ids


def end_event_in(session: Any, ids: list[int] | None) -> None:
    """End the event ``ids`` (``[action id, event id]``, or None) as ``Success`` in ``session``."""
    if ids is not None:
        _finish(session, ids[0], ids[1], "Success", None, None)


@contextlib.contextmanager
def finishing(state: Any, context: Any, started: list[int] | None) -> Iterator[Ending]:
    """The end of an event another step began (``started``: its ids, None for no event), as
    :func:`event` records it; the block may pass the ending on to its last write."""
    ending = Ending(started)
    try:
        yield ending
    except Exception as exc:
        if started is not None:  # an Error even if a step had ended it: the block failed after it
            state.event_finish(context, action_id=started[0], event_id=started[1], result="Error",
                               trace=traceback.format_exc(), details=str(exc) or type(exc).__name__)
        raise
    if started is not None and not ending.passed:
        state.event_finish(context, action_id=started[0], event_id=started[1], result="Success", trace=None,
                           details=None)
