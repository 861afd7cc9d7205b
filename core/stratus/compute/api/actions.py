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
from stratus.compute.api import admin_actions, consoles, floating_ips, security_groups
from stratus.compute.api.common import NotImplementedByHypervisor, context, lacks_capability
from stratus.compute.api.microversions import Version, at_least, unexpected_before
from stratus.compute.api.servers import _META as META
from stratus.compute.api.servers import _NAME as NAME
from stratus.compute.api.servers import (
    PERSONALITY,
    TRUSTED_CERTIFICATES,
    check_personality,
    delete,
    find,
    host_statuses,
    refuse_certificates,
    requested_hostname,
    view,
)
from stratus.compute.instances import utcnow
from stratus.compute.topics import TOPIC
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
    "lock": {"type": ["object", "null"], "additionalProperties": False, "properties": {
        "locked_reason": {"type": "string", "minLength": 1, "maxLength": 255}}},
    "unlock": {"type": ["object", "null"]},
    "resize": {"type": "object", "required": ["flavorRef"], "properties": {
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "OS-DCF:diskConfig": {"enum": ["AUTO", "MANUAL"]}}, "additionalProperties": False},
    "migrate": {"type": ["object", "null"], "additionalProperties": False, "properties": {
        "host": {"type": ["string", "null"], "minLength": 1, "maxLength": 255}}},
    "confirmResize": {"type": ["object", "null"]}, "revertResize": {"type": ["object", "null"]},
    "trigger_crash_dump": {"type": "null"},
    "rebuild": {"type": "object", "required": ["imageRef"], "additionalProperties": False, "properties": {
        "imageRef": {"type": "string", "minLength": 1, "maxLength": 255}, "name": NAME, "adminPass": {"type": "string"},
        "metadata": META, "preserve_ephemeral": {"type": "boolean"}, "OS-DCF:diskConfig": {"enum": ["AUTO", "MANUAL"]},
        "accessIPv4": {"type": "string", "format": "ipv4"}, "accessIPv6": {"type": "string", "format": "ipv6"},
        "key_name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "user_data": {"type": ["string", "null"], "maxLength": 65535},
        "description": {"type": ["string", "null"], "maxLength": 255}, "personality": PERSONALITY,
        "trusted_image_certificates": TRUSTED_CERTIFICATES, "hostname": {"type": "string"}}},
    "createImage": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": NAME, "metadata": META}},
    "createBackup": {"type": "object", "required": ["name", "backup_type", "rotation"],
                     "additionalProperties": False, "properties": {
        "name": NAME, "backup_type": {"type": "string"}, "metadata": META,
        "rotation": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0, "minLength": 1}}},
    **admin_actions.SCHEMAS,
    **consoles.LEGACY_SCHEMAS,
    **security_groups.SERVER_ACTIONS,
    **floating_ips.SERVER_ACTIONS,
    **{name: {"type": ["object", "null"]} for name in ACTIONS}}}


#: what the server's hypervisor must declare for each action (a driver that cannot is refused
#: before anything is cast, instead of a task left on the server)
NEEDS = {"pause": "PAUSE", "unpause": "PAUSE", "suspend": "SUSPEND", "resume": "SUSPEND", "resize": "RESIZE",
         "migrate": "RESIZE", "createImage": "SNAPSHOT", "createBackup": "SNAPSHOT",
         "os-getConsoleOutput": "CONSOLE_LOG", "attach_volume": "VOLUME_ATTACH", "detach_volume": "VOLUME_ATTACH"}


def require_capability(session: Any, instance: Instance, name: str) -> None:
    """:raises Conflict: the hypervisor of the server's host does not declare what ``name``
    needs (409: nothing is cast); :raises NotImplementedByHypervisor: the same for a read."""
    needed = NEEDS.get(name)
    if needed is None or not instance.host:
        return
    if not lacks_capability(session, instance, needed):
        return
    message = (f"Cannot '{name}' instance {instance.uuid}: the hypervisor of its host does not support it "
               f"(no {needed} capability)")
    if name == "os-getConsoleOutput":
        raise NotImplementedByHypervisor(message)
    raise Conflict(message)


def check(instance: Instance, name: str, allowed: tuple[str, ...]) -> None:
    """:raises Conflict: the server's state does not allow ``name`` (409 in Nova's words)."""
    if instance.vm_state not in allowed or instance.task_state is not None or not instance.host:
        where = f"task_state {instance.task_state}" if instance.task_state else f"vm_state {instance.vm_state}"
        raise Conflict(f"Cannot '{name}' instance {instance.uuid} while it is in {where}")


def begin(session: Any, instance: Instance, name: str, allowed: tuple[str, ...], task: str) -> None:
    """Take ``task`` on the server if its state allows ``name``; otherwise 409 as Nova words it."""
    check(instance, name, allowed)
    taken = session.execute(sa.update(Instance).where(Instance.uuid == instance.uuid,
                                                      Instance.vm_state.in_(allowed),
                                                      Instance.task_state.is_(None))
                            .values(task_state=task, updated_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise Conflict(f"Cannot '{name}' instance {instance.uuid}: another action started first")
    instance.task_state = task  # the row is written; keep the loaded object in step for views


#: policies of the actions that change a server's flavor or disk
CHANGES = {"resize": "os_compute_api:servers:resize", "confirmResize": "os_compute_api:servers:confirm_resize",
           "revertResize": "os_compute_api:servers:revert_resize", "rebuild": "os_compute_api:servers:rebuild",
           "createImage": "os_compute_api:servers:create_image", "migrate": "os_compute_api:os-migrate-server:migrate",
           "createBackup": "os_compute_api:os-create-backup"}


class ServerAction:
    def __init__(self, deps: Any, policy: Policy) -> None:
        self.compute, self.policy, self.deps = deps.services["compute"], policy, deps
        self.images, self.conf = deps.services["compute"].images, deps.conf  # the image service's client

    @schema("Start, stop, reboot, pause, unpause, suspend, resume, lock, unlock, resize (confirm, revert), "
            "migrate, rebuild, createImage, createBackup, read the console; administrators: os-resetState, "
            "injectNetworkInfo; forceDelete, restore (deferred deletes)", request=ACTION_SCHEMA,
            responses={202: None, 200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body = req.context.body
        (name, argument), = body.items()
        ctx = context(req)
        chosen = None
        resp.status = 202  # what most actions answer; some set their own
        if name == "forceDelete":
            delete(self.compute, req, self.policy, server_id, admin_actions.POLICIES[name], soft=False)
            return
        if name in security_groups.ACTION_POLICIES:
            self._security_group(req, server_id, name, argument["name"])
            return
        if name in consoles.LEGACY:
            consoles.legacy_action(self.compute, req, resp, self.policy, server_id, name, argument)
            return
        if name in floating_ips.ACTION_POLICIES:  # the network service's change, outside this one's transaction
            with self.compute.db.reading() as session:
                instance = find(session, req, server_id)
            floating_ips.server_action(self.deps, req, self.policy, instance, name, argument)
            return
        if name == "rebuild":  # the image service's database first: never a transaction inside another
            from stratus.compute.api.servers import image_for

            with self.compute.db.transaction() as session:
                flavor = find(session, req, server_id).flavor
            chosen = image_for(self.images, ctx, argument["imageRef"], flavor)
            req.context.host_statuses = host_statuses(req, self.compute)
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            target = {"project_id": instance.project_id, "user_id": instance.user_id}
            if name != "os-getConsoleOutput":
                history.record_action(session, server_id, ctx, name.removeprefix("os-"))
            if name in ("lock", "unlock"):
                enforce(req, self.policy, f"os_compute_api:os-lock-server:{name}", target)
                if name == "unlock" and instance.locked and instance.locked_by == "admin" and not ctx.is_admin:
                    raise Conflict(f"Instance {server_id} was locked by an administrator.")
                unexpected_before(req, "2.73", argument or {}, "locked_reason")
                instance.locked, instance.updated_at = name == "lock", utcnow()
                instance.locked_by = ("admin" if ctx.is_admin else "owner") if name == "lock" else None
                instance.locked_reason = (argument or {}).get("locked_reason") if name == "lock" else None
                resp.status = 202
                return
            if instance.locked and not ctx.is_admin:
                raise Conflict(f"Instance {server_id} is locked")
            host = instance.host
            if name == "trigger_crash_dump":
                if not at_least(req, "2.17"):
                    raise Invalid("Invalid input for field/attribute: Additional properties are not allowed "
                                  "('trigger_crash_dump' was unexpected)")
                enforce(req, self.policy, "os_compute_api:servers:trigger_crash_dump", target)
                check(instance, name, (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.RESIZED,
                                       states.ERROR))
                # no hypervisor here can inject an NMI yet; Nova answers this way for such drivers
                raise Invalid("Triggering crash dump is not supported by the hypervisor of this server.")
            if name in admin_actions.POLICIES:
                after = admin_actions.act(self.compute, req, self.policy, session, instance, name)
            elif name in CHANGES:
                enforce(req, self.policy, CHANGES[name], target)
                after = self._change(req, resp, session, instance, name, argument, chosen)
            elif name == "os-getConsoleOutput":
                enforce(req, self.policy, "os_compute_api:os-console-output", target)
                if instance.vm_state not in (states.ACTIVE, states.PAUSED, states.SUSPENDED) or not instance.host:
                    raise Conflict(f"Instance {server_id} is not ready (vm_state {instance.vm_state}).")
            elif name == "reboot":
                hard = argument["type"].upper() == "HARD"
                enforce(req, self.policy, "os_compute_api:servers:reboot", target)
                allowed = ANY_STABLE if hard else (states.ACTIVE,)
                begin(session, instance, "reboot", allowed, "rebooting_hard" if hard else "rebooting")
            else:
                action = ACTIONS[name]
                enforce(req, self.policy, f"os_compute_api:{action.policy}", target)
                begin(session, instance, name, action.allowed, action.task)
            require_capability(session, instance, name)  # refused: the transaction, task and all, rolls back
        rpc = self.compute.rpc(TOPIC)
        if name in admin_actions.POLICIES:
            if after is not None:
                after()
        elif name in CHANGES:
            after()
        elif name == "os-getConsoleOutput":
            length = (argument or {}).get("length")
            try:
                lines = None if length in (None, -1, "-1") else int(length)
            except (TypeError, ValueError):
                raise Invalid(f"Invalid input for field/attribute length. Value: {length}.") from None
            output = rpc.call(ctx, "get_console_output", server=host, instance_uuid=server_id, tail_lines=lines)
            resp.status, resp.media = 200, {"output": output}
        elif name == "reboot":
            rpc.cast(ctx, "reboot_instance", server=host, instance_uuid=server_id, hard=hard)
        else:
            rpc.cast(ctx, ACTIONS[name].method, server=host, instance_uuid=server_id)

    def _security_group(self, req: falcon.Request, server_id: str, name: str, group: str) -> None:
        """``addSecurityGroup`` / ``removeSecurityGroup``: the network service changes the
        server's ports (outside this service's transaction), then the server records it."""
        ctx = context(req)
        with self.compute.db.reading() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, security_groups.ACTION_POLICIES[name], {"project_id": instance.project_id})
        add = name == "addSecurityGroup"
        security_groups.change_server(self.deps, req, server_id, group, add)
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            history.record_action(session, server_id, ctx, name)
            names = [g for g in instance.security_groups or ["default"] if g != group]
            instance.security_groups = [*names, group] if add else names

    def _change(self, req: falcon.Request, resp: falcon.Response, session: Any, instance: Instance, name: str,
                argument: dict[str, Any] | None, image: tuple[str, dict[str, str]] | None) -> Any:
        """Check and record ``name`` in the server's transaction; what to do once it commits."""
        from stratus.compute.api import image_actions, resizes

        ctx, server_id, host = context(req), instance.uuid, instance.host
        if name in ("resize", "migrate"):
            migration_uuid = resizes.resize(self.compute, req, session, instance, argument or {}) \
                if name == "resize" else resizes.migrate(req, session, instance, argument)
            return lambda: resizes.after_resize(self.compute, ctx, server_id, migration_uuid)
        if name in ("confirmResize", "revertResize"):
            to = "confirming" if name == "confirmResize" else "reverting"
            row = resizes.finished(session, instance, name, to)
            migration = {"uuid": row.uuid, "source_compute": row.source_compute, "dest_compute": row.dest_compute}
            if name == "confirmResize":
                resp.status = 204
            return lambda: resizes.after_finished(self.compute, ctx, server_id, migration, to)
        if name == "rebuild":
            unexpected_before(req, "2.19", argument, "description")
            unexpected_before(req, "2.54", argument, "key_name")
            unexpected_before(req, "2.57", argument, "user_data")
            unexpected_before(req, "2.63", argument, "trusted_image_certificates")
            refuse_certificates(argument)
            check_personality(req, session, self.conf, instance.project_id, argument)
            hostname = requested_hostname(req, argument or {})
            password = image_actions.rebuild(self.compute, image, session, instance, argument or {}, hostname)
            session.flush()
            status = req.context.host_statuses.get(instance.host, "UNKNOWN") if instance.host else ""
            answer = view(req, self.conf, instance, host_status=status, single=True, full=at_least(req, "2.75"))
            answer.pop("OS-EXT-SRV-ATTR:user_data", None)  # never in a rebuild's answer (Nova)
            if at_least(req, "2.54"):
                answer["key_name"] = instance.key_name
            if at_least(req, "2.57"):
                answer["user_data"] = instance.user_data
            answer["adminPass"] = password
            resp.media = {"server": answer}
            return lambda: image_actions.after_rebuild(self.compute, ctx, server_id, host)
        wanted = image_actions.start_snapshot(self.compute, req, session, instance, argument or {},
                                              backup=name == "createBackup")

        def snapshot() -> None:
            try:
                image_id = image_actions.create_image(self.images, ctx, server_id, wanted)
            except Exception:
                with self.compute.db.transaction() as session:
                    session.execute(sa.update(Instance).where(
                        Instance.uuid == server_id,
                        Instance.task_state.in_((states.IMAGE_SNAPSHOT_PENDING, states.IMAGE_BACKUP)))
                        .values(task_state=None, updated_at=utcnow()))
                raise
            self.compute.rpc(TOPIC).cast(ctx, "snapshot_instance", server=wanted["host"], instance_uuid=server_id,
                                         image_id=image_id, backup=wanted["backup"])
            if req.context.microversion >= Version("2.45"):
                resp.media = {"image_id": image_id}
            elif wanted["backup"] is None or wanted["backup"]["rotation"] > 0:  # Nova: no Location for rotation 0
                resp.set_header("Location", image_actions.image_url(req, self.conf, self.images, image_id))

        return snapshot
