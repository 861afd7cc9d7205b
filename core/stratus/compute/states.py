"""Nova's server states: ``vm_state`` (what the server is), ``task_state`` (what is being
done to it) and the API's ``status`` derived from both."""

from __future__ import annotations

ACTIVE, BUILDING, STOPPED, PAUSED, SUSPENDED = "active", "building", "stopped", "paused", "suspended"
RESIZED, ERROR, DELETED, SOFT_DELETED, RESCUED = "resized", "error", "deleted", "soft-delete", "rescued"
SHELVED, SHELVED_OFFLOADED = "shelved", "shelved_offloaded"

SCHEDULING, NETWORKING, BLOCK_DEVICE_MAPPING, SPAWNING = ("scheduling", "networking", "block_device_mapping",
                                                          "spawning")
DELETING, SOFT_DELETING, RESTORING = "deleting", "soft-deleting", "restoring"
POWERING_ON, POWERING_OFF = "powering-on", "powering-off"
RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH, RESIZE_REVERTING = (
    "resize_prep", "resize_migrating", "resize_migrated", "resize_finish", "resize_reverting")
REBUILDING, REBUILD_SPAWNING = "rebuilding", "rebuild_spawning"
IMAGE_SNAPSHOT_PENDING, IMAGE_SNAPSHOT, IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING = (
    "image_snapshot_pending", "image_snapshot", "image_pending_upload", "image_uploading")
IMAGE_BACKUP = "image_backup"

_STATUS = {ACTIVE: "ACTIVE", BUILDING: "BUILD", STOPPED: "SHUTOFF", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED",
           RESIZED: "VERIFY_RESIZE", ERROR: "ERROR", DELETED: "DELETED", SOFT_DELETED: "SOFT_DELETED",
           RESCUED: "RESCUE", SHELVED: "SHELVED", SHELVED_OFFLOADED: "SHELVED_OFFLOADED"}
_TASK_STATUS = {"rebooting": "REBOOT", "reboot_pending": "REBOOT", "reboot_started": "REBOOT",
                "rebooting_hard": "HARD_REBOOT", "reboot_pending_hard": "HARD_REBOOT",
                "reboot_started_hard": "HARD_REBOOT", "rebuilding": "REBUILD",
                "rebuild_block_device_mapping": "REBUILD", "rebuild_spawning": "REBUILD",
                "resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE",
                "resize_finish": "RESIZE", "resize_reverting": "REVERT_RESIZE", "migrating": "MIGRATING",
                "updating_password": "PASSWORD"}

#: statuses the API's ``status`` filter accepts, with the vm_states each means
STATUS_FILTER = {status: [vm for vm, s in _STATUS.items() if s == status] for status in set(_STATUS.values())}


def status(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of a server (Nova's mapping; active + a task shows the task)."""
    if vm_state in (ACTIVE, STOPPED) and task_state in _TASK_STATUS:
        return _TASK_STATUS[task_state]
    if vm_state == RESIZED and task_state == RESIZE_REVERTING:
        return "REVERT_RESIZE"
    if vm_state == ERROR and task_state in (REBUILDING, "rebuild_block_device_mapping", REBUILD_SPAWNING):
        return "REBUILD"
    return _STATUS.get(vm_state, "UNKNOWN")
