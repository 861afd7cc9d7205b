"""A compute host after a restart, and its hypervisor's view against the database's.

:meth:`Reconciling.init_instances` runs when the host starts, before it takes work (Nova's
``init_host``): every server whose build, action or move a restart of this host cut short
is finished or failed — never left in a task state. :meth:`Reconciling.sync_power_states`
runs then and every ``[compute] sync_power_state_interval`` seconds (Nova's
``_sync_power_states``): the database's power state follows the driver, a guest that shut
itself down makes its server ``SHUTOFF``, a stopped server whose guest runs is powered off,
and a server whose guest the hypervisor no longer has goes to ``ERROR`` with a fault.
"""

from __future__ import annotations

import logging
from typing import Any

from stratus.compute import states
from stratus.exceptions import NotFound, StratusError
from stratus.interfaces.hypervisor import PowerState

LOG = logging.getLogger(__name__)

#: task -> (manager method, the power state the driver shows once it is done (None: redo it anyway))
_POWER_TASKS = {
    states.POWERING_ON: ("start_instance", PowerState.RUNNING),
    states.POWERING_OFF: ("stop_instance", PowerState.SHUTDOWN),
    "pausing": ("pause_instance", PowerState.PAUSED),
    "unpausing": ("unpause_instance", PowerState.RUNNING),
    "suspending": ("suspend_instance", PowerState.SUSPENDED),
    "resuming": ("resume_instance", PowerState.RUNNING),
    states.SOFT_DELETING: ("soft_delete_instance", PowerState.SHUTDOWN),
    states.RESTORING: ("restore_instance", PowerState.RUNNING),
}
_REBOOTS = ("rebooting", "reboot_pending", "reboot_started", "rebooting_hard", "reboot_pending_hard",
            "reboot_started_hard")
_SNAPSHOTS = (states.IMAGE_SNAPSHOT_PENDING, states.IMAGE_SNAPSHOT, states.IMAGE_PENDING_UPLOAD,
              states.IMAGE_UPLOADING, states.IMAGE_BACKUP)
_REBUILDS = (states.REBUILDING, "rebuild_block_device_mapping", states.REBUILD_SPAWNING)
_MOVING = ("pre-migrating", "migrating", "post-migrating", "confirming", "reverting")
#: what a server in each vm_state should show on its hypervisor (others are not judged)
_SETTLED = {states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.RESIZED, states.RESCUED,
            states.ERROR}


class Interrupted(StratusError):
    """What a restart cut short."""


class Reconciling:
    """Mixed into :class:`~stratus.compute.manager.ComputeManager`."""

    conf: Any
    host: str
    state: Any
    driver: Any
    cache: Any
    peers: Any

    # -- at start ----------------------------------------------------------------------

    def init_instances(self) -> dict[str, str]:
        """Finish or fail what a restart of this host interrupted; what was done to which server."""
        done: dict[str, str] = {}
        self._recover_moves(done)
        for uuid, vm_state, task in self.state.busy(None, host=self.host):
            if uuid in done:
                continue
            try:
                with self._locked(uuid):
                    done[uuid] = self._recover(uuid, vm_state, task)
            except Exception:  # one server's trouble must not keep the host from starting
                LOG.exception("could not recover server %s (%s/%s) on %s", uuid, vm_state, task, self.host)
                done[uuid] = "failed to recover"
        for uuid, what in done.items():
            LOG.warning("server %s on %s after a restart: %s", uuid, self.host, what)
        return done

    def _interrupted(self, what: str) -> Interrupted:
        return Interrupted(f"The {what} was interrupted by a restart of compute host {self.host}.")

    def _recover(self, uuid: str, vm_state: str, task: str | None) -> str:
        if task == states.DELETING:
            self._release_bound(uuid)
            self.terminate_instance(None, uuid)
            return "delete finished"
        if vm_state == states.BUILDING:
            self.driver.destroy(uuid)
            # the restart was not this host's fault: it may be tried again
            recorded = self.state.untry_host(None, uuid=uuid, host=self.host)
            self._release_ports(uuid, recorded)
            self._release_bound(uuid)
            self._reschedule(None, uuid, self._interrupted("build"))
            return "build rescheduled (or failed, past [scheduler] max_attempts)"
        if task in _POWER_TASKS:
            method, power = _POWER_TASKS[task]
            if self._guest_power(uuid) is power:
                self._settle(uuid, task)
            else:
                getattr(self, method)(None, uuid)
            return f"{method} finished"
        if task in _REBOOTS:
            self.reboot_instance(None, uuid, hard="hard" in task)
            return "reboot finished"
        if task in _REBUILDS:
            self._fail(uuid, task, "rebuild")
            return "rebuild failed"
        if task in _SNAPSHOTS:
            gone = self.cache.images.drop_unfinished(uuid)
            self._set(uuid, expect=task, task_state=None)
            return f"snapshot abandoned (image {', '.join(gone) or 'none'} deleted)"
        self._set(uuid, expect=task, task_state=None)  # resize steps without a move left, and the like
        return f"task {task} cleared"

    def _guest_power(self, uuid: str) -> PowerState | None:
        try:
            return self.driver.get_info(uuid).power_state
        except NotFound:
            return None

    def _settle(self, uuid: str, task: str) -> None:
        """The driver already did what ``task`` asked: the server's states say so."""
        power = self._guest_power(uuid)
        vm_state = {PowerState.RUNNING: states.ACTIVE, PowerState.SHUTDOWN: states.STOPPED,
                    PowerState.PAUSED: states.PAUSED, PowerState.SUSPENDED: states.SUSPENDED}[power]
        if task == states.SOFT_DELETING:
            vm_state = states.SOFT_DELETED
        self._set(uuid, expect=task, vm_state=vm_state, task_state=None, power_state=power)

    def _fail(self, uuid: str, task: str, what: str) -> None:
        self._fault(uuid, self._interrupted(what), what, [task], vm_state=states.ERROR, task_state=None,
                    power_state=self._guest_power(uuid) or PowerState.NOSTATE)

    def _release_bound(self, uuid: str) -> None:
        """Ports bound to the server that its ``network_info`` may not list yet (a build cut
        short between taking them and recording them): made ones deleted, given ones unbound."""
        if self.network is None:
            return
        ports = self.state.requested_ports(None, uuid=uuid)
        if ports is None:
            return
        given, recorded = set(ports["given"]), set(ports["recorded"])
        bound = [p for p in self.network.bound_ports(uuid) if p not in recorded]
        self.network.detach(uuid, [(p, p not in given) for p in bound])

    def _recover_moves(self, done: dict[str, str]) -> None:
        """Resizes and migrations this host had a part in: a move cut short is undone (the
        server back on its source as before, with a fault), a confirm or revert cut short is
        done again."""
        from stratus.compute.resizing import drop_parked

        for move in self.state.moves(None, host=self.host, statuses=list(_MOVING)):
            uuid, status = move["instance_uuid"], move["status"]
            source, dest = move["source_compute"] == self.host, move["dest_compute"] == self.host
            row = self.state.instance(None, uuid=uuid)
            if row is None:
                continue
            try:
                if status in ("pre-migrating", "migrating") and source:
                    with self._locked(uuid):
                        if move["old_vm_state"] != states.STOPPED and \
                                self._guest_power(uuid) is PowerState.SHUTDOWN:
                            self.driver.power_on(uuid)
                        drop_parked(self.state, self.cache.images, move["uuid"], move["disk_location"])
                        self._resize_failed(uuid, move["uuid"], self._interrupted("resize"))
                    done[uuid] = "resize undone"
                elif status == "post-migrating" and dest:
                    with self._locked(uuid):
                        current = self.state.migration(None, migration_uuid=move["uuid"])
                        if current is None or current["status"] != "post-migrating":
                            continue
                        if row["host"] != self.host:
                            self.driver.destroy(uuid)
                        self._move_back(None, row, move, [], "error", self._interrupted("resize"))
                    done[uuid] = "resize undone (the source starts its copy again)"
                elif status == "confirming" and source:
                    self.confirm_resize(None, uuid, move["uuid"])
                    done[uuid] = "confirm of the resize finished"
                elif status == "reverting" and dest:
                    self.revert_resize(None, uuid, move["uuid"])
                    done[uuid] = "revert of the resize finished"
            except Exception:
                LOG.exception("could not recover the move of %s (%s) on %s", uuid, status, self.host)

    # -- at start and periodically -------------------------------------------------------

    def sync_power_states(self) -> dict[str, str]:
        """Bring the servers settled on this host in line with the driver; what changed."""
        rows = self.state.settled(None, host=self.host, vm_states=sorted(_SETTLED))
        guests = set(self.driver.list_instances())
        changed = {}
        for uuid, vm_state, power in rows:
            with self._locked(uuid):
                what = self._sync_one(uuid, vm_state, power, uuid in guests)
            if what:
                LOG.warning("server %s on %s: %s", uuid, self.host, what)
                changed[uuid] = what
        return changed

    def _sync_one(self, uuid: str, vm_state: str, power: int, present: bool) -> str | None:
        now = self._guest_power(uuid) if present else None
        if now is None:
            if vm_state == states.ERROR:
                self._write(uuid, vm_state, power, power_state=PowerState.NOSTATE)
                return None
            message = (f"Instance {uuid} is not on its hypervisor: compute host {self.host} no longer has its "
                       f"guest.")
            if not self.state.fault(None, uuid=uuid, values={"vm_state": states.ERROR,
                                                             "power_state": PowerState.NOSTATE},
                                    message=message, details=f"NotFound: {message}", host=self.host, tasks=[None],
                                    where={"vm_state": vm_state}):
                return None
            return "ERROR: the hypervisor no longer has its guest"
        if vm_state == states.ACTIVE and now in (PowerState.SHUTDOWN, PowerState.CRASHED):
            written = self._write(uuid, vm_state, power, vm_state=states.STOPPED, power_state=now)
            return "SHUTOFF: its guest stopped outside of compute" if written else None
        if vm_state == states.STOPPED and now not in (PowerState.SHUTDOWN, PowerState.CRASHED):
            self.driver.power_off(uuid)  # as Nova: a stopped server stays stopped
            written = self._write(uuid, vm_state, power, power_state=self._guest_power(uuid))
            return "its guest ran although the server is stopped: powered off" if written else None
        if now != power:
            return f"power state now {now.name}" if self._write(uuid, vm_state, power, power_state=now) else None
        return None

    def _write(self, uuid: str, was_vm_state: str, was_power: int, **values: Any) -> bool:
        """Compare-and-set on the states read: an action that began meanwhile wins."""
        return self.state.update(None, uuid=uuid, values=values, where={
            "task_state": None, "vm_state": was_vm_state, "power_state": was_power})
