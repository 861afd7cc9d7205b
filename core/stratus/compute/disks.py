"""The compute hosts' side of ``rebuild`` (a new disk from an image, same ports and sizes)
and ``createImage`` (the server's disk uploaded to the image service as a snapshot)."""

from __future__ import annotations

import logging
import os
from typing import Any

from stratus.compute import history, states
from stratus.compute.instances import instance_spec
from stratus.exceptions import Conflict, NotFound
from stratus.interfaces.hypervisor import PowerState

LOG = logging.getLogger(__name__)


class _Changed(Exception):
    """The server moved on (deleted) while the host worked on it."""


class Disks:
    """Mixed into :class:`~stratus.compute.manager.ComputeManager`."""

    host: str
    state: Any
    driver: Any
    cache: Any

    def rebuild_instance(self, context: Any, instance_uuid: str) -> None:
        """The API already wrote the new image, name and metadata; give the server a fresh
        disk from its image. A failure leaves it ``ERROR`` with a fault (as Nova)."""

        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_rebuild_instance", self.host):
            row = self.state.instance(None, uuid=instance_uuid, with_metadata=True)
            if row is None or row["task_state"] != states.REBUILDING:
                return
            metadata = row.pop("metadata")
            try:
                image_path = self.cache.path(row["image_ref"]) if row["image_ref"] else None
                if not self._set(instance_uuid, expect=states.REBUILDING, task_state=states.REBUILD_SPAWNING):
                    return  # deleted meanwhile, before anything was done to the guest
                self.driver.destroy(instance_uuid)
                self.driver.spawn(instance_spec(row, metadata, image_path, config_drive_files=self.config_drive(
                    row, metadata)), self._nics(row["network_info"]), self._move_volumes_here(row))
                stopped = row["vm_state"] == states.STOPPED
                if stopped:
                    self.driver.power_off(instance_uuid)
            except Exception as exc:
                LOG.warning("rebuild of %s on %s failed: %s", instance_uuid, self.host, exc)
                # a delete that came meanwhile wins
                self._fault(instance_uuid, exc, "rebuild", [states.REBUILDING, states.REBUILD_SPAWNING],
                            vm_state=states.ERROR, task_state=None, power_state=PowerState.NOSTATE)
                raise
            self._set(instance_uuid, expect=states.REBUILD_SPAWNING, stamp=("launched_at",),
                      vm_state=states.STOPPED if stopped else states.ACTIVE, task_state=None,
                      power_state=self.driver.get_info(instance_uuid).power_state)

    def snapshot_instance(self, context: Any, instance_uuid: str, image_id: str,
                          backup: dict[str, Any] | None = None) -> None:
        """Stream the server's disk to a local file, then upload it as image ``image_id``
        (queued, made by the API). Failing, the image is deleted and the server keeps going.
        ``backup`` (``createBackup``): its ``type`` and ``rotation``; once uploaded, the server's
        oldest backups of that type beyond ``rotation`` are deleted (this one too for 0, as Nova)."""
        path = os.path.join(self.cache.dir, f"snapshot-{image_id}")
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_snapshot_instance", self.host):
            instance = self.state.instance(None, uuid=instance_uuid)
            task = instance["task_state"] if instance is not None else None
            steps = iter((states.IMAGE_SNAPSHOT, states.IMAGE_PENDING_UPLOAD, states.IMAGE_UPLOADING))

            def step() -> None:
                """The next task, compare-and-set on the one before (a delete meanwhile ends it)."""
                nonlocal task
                following = next(steps)
                if task is None or not self._set(instance_uuid, expect=task, task_state=following):
                    raise _Changed(f"server {instance_uuid} changed while its snapshot was taken")
                task = following

            try:
                step()
                os.makedirs(self.cache.dir, exist_ok=True)
                with open(path, "wb") as out:
                    step()
                    disk_format = self._capable("SNAPSHOT").snapshot(instance_uuid, out.write)
                step()
                self.cache.images.upload(image_id, path, disk_format)
            except (Conflict, NotFound, _Changed) as exc:  # the image or the server deleted meanwhile, as Nova
                LOG.warning("snapshot of %s on %s dropped: %s", instance_uuid, self.host, exc)
                self.cache.images.delete(image_id)
                if task is not None:
                    self._set(instance_uuid, expect=task, task_state=None)
                return
            except Exception as exc:
                LOG.warning("snapshot of %s on %s failed: %s", instance_uuid, self.host, exc)
                self.cache.images.delete(image_id)
                self._fault(instance_uuid, exc, "snapshot", [task], task_state=None)
                raise
            finally:
                if os.path.exists(path):
                    os.unlink(path)
            if backup is not None:
                gone = self.cache.images.rotate_backups(instance_uuid, backup["type"], backup["rotation"])
                if gone:
                    LOG.info("rotated out backups %s of %s", ", ".join(gone), instance_uuid)
            self._set(instance_uuid, expect=task, task_state=None)
