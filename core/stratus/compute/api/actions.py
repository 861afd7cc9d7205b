"""``POST /servers/{id}/action``: power and lifecycle actions with Nova's state rules.

An action is accepted only from the vm_states Nova allows and with no task under way; the
API takes the task in one conditional UPDATE (two racing actions: one wins, the other is
409), then casts it to the server's host, which runs the driver and settles the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon
import sqlalchemy as sa

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import history, models, states
from stratus.compute.api.common import context
from stratus.compute.api.servers import find
from stratus.compute.manager import TOPIC, utcnow
from stratus.exceptions import Conflict, Invalid

Instance = models.Instance
ANY_STABLE = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.ERROR)


@dataclass(frozen=True)
class Action:
    method: str  # the compute manager's method
    allowed: tuple[str, ...]  # vm_states the action may start from
    task: str  # task_state while it runs
    policy: str


ACTIONS = {
    "os-start": Action("start_instance", (states.STOPPED,), "powering-on", "os-start"),
    "os-stop": Action("stop_instance", (states.ACTIVE, states.ERROR), "powering-off", "os-stop"),
    "pause": Action("pause_instance", (states.ACTIVE,), "pausing", "os-pause-server:pause"),
    "unpause": Action("unpause_instance", (states.PAUSED,), "unpausing", "os-pause-server:unpause"),
    "suspend": Action("suspend_instance", (states.ACTIVE,), "suspending", "os-suspend-server:suspend"),
    "resume": Action("resume_instance", (states.SUSPENDED,), "resuming", "os-suspend-server:resume"),
}
ACTION_SCHEMA = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                 "properties": {
    "reboot": {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["SOFT", "HARD", "soft",
                                                                                         "hard"]}}},
    "os-getConsoleOutput": {"type": "object", "properties": {"length": {"type": ["integer", "string", "null"]}}},
    "lock": {"type": ["object", "null"]}, "unlock": {"type": ["object", "null"]},
    **{name: {"type": ["object", "null"]} for name in ACTIONS}}}


def begin(session: Any, instance: Instance, name: str, allowed: tuple[str, ...], task: str) -> None:
    """Take ``task`` on the server if its state allows ``name``; otherwise 409 as Nova words it."""
    if instance.vm_state not in allowed or instance.task_state is not None or not instance.host:
        where = f"task_state {instance.task_state}" if instance.task_state else f"vm_state {instance.vm_state}"
        raise Conflict(f"Cannot '{name}' instance {instance.uuid} while it is in {where}")
    taken = session.execute(sa.update(Instance).where(Instance.uuid == instance.uuid,
                                                      Instance.vm_state.in_(allowed),
                                                      Instance.task_state.is_(None))
                            .values(task_state=task, updated_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise Conflict(f"Cannot '{name}' instance {instance.uuid}: another action started first")


class ServerAction:
    def __init__(self, deps: Any, policy: Policy) -> None:
        self.compute, self.policy = deps.services["compute"], policy

    @schema("Start, stop, reboot, pause, unpause, suspend, resume, lock, unlock or read the console",
            request=ACTION_SCHEMA, responses={202: None, 200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body = req.context.body
        (name, argument), = body.items()
        ctx = context(req)
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            target = {"project_id": instance.project_id, "user_id": instance.user_id}
            if name != "os-getConsoleOutput":
                history.record_action(session, server_id, ctx, name.removeprefix("os-"))
            if name in ("lock", "unlock"):
                enforce(req, self.policy, f"os_compute_api:os-lock-server:{name}", target)
                if name == "unlock" and instance.locked and instance.locked_by == "admin" and not ctx.is_admin:
                    raise Conflict(f"Instance {server_id} was locked by an administrator.")
                instance.locked, instance.updated_at = name == "lock", utcnow()
                instance.locked_by = ("admin" if ctx.is_admin else "owner") if name == "lock" else None
                resp.status = 202
                return
            if instance.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            if name == "os-getConsoleOutput":
                enforce(req, self.policy, "os_compute_api:os-console-output", target)
                if instance.vm_state not in (states.ACTIVE, states.PAUSED, states.SUSPENDED) or not instance.host:
                    raise Conflict(f"Instance {server_id} is not ready (vm_state {instance.vm_state}).")
                host = instance.host
            elif name == "reboot":
                hard = argument["type"].upper() == "HARD"
                enforce(req, self.policy, "os_compute_api:servers:reboot", target)
                allowed = ANY_STABLE if hard else (states.ACTIVE,)
                begin(session, instance, "reboot", allowed, "rebooting_hard" if hard else "rebooting")
                host = instance.host
            else:
                action = ACTIONS[name]
                enforce(req, self.policy, f"os_compute_api:{action.policy}", target)
                begin(session, instance, name, action.allowed, action.task)
                host = instance.host
        rpc = self.compute.rpc(TOPIC)
        if name == "os-getConsoleOutput":
            length = (argument or {}).get("length")
            try:
                lines = None if length in (None, -1, "-1") else int(length)
            except (TypeError, ValueError):
                raise Invalid(f"Invalid input for field/attribute length. Value: {length}.") from None
            output = rpc.call(ctx, "get_console_output", server=host, instance_uuid=server_id, tail_lines=lines)
            resp.media = {"output": output}
            return
        if name == "reboot":
            rpc.cast(ctx, "reboot_instance", server=host, instance_uuid=server_id, hard=hard)
        else:
            rpc.cast(ctx, ACTIONS[name].method, server=host, instance_uuid=server_id)
        resp.status = 202
