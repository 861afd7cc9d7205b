"""The compute hosts' side of a resize (Nova's resize → ``VERIFY_RESIZE`` → confirm/revert).

The conductor has claimed the new flavor on the destination (the server's old claim is
parked under the migration's uuid) and casts ``resize_instance`` to the source. On one host
the driver's ``resize`` does it all. Between hosts the source stops the server, streams its
disk into the image service's default store and casts ``finish_resize`` to the destination,
which takes the ports, fetches the disk and spawns the server with the new flavor; the
source keeps its stopped copy until ``confirm_resize`` (destroyed there) or
``revert_resize`` (destroyed on the destination, started again on the source). A failure
at any step puts everything back as it was before the resize and records a fault.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from stratus.compute import history, states
from stratus.compute.instances import instance_spec
from stratus.interfaces.hypervisor import PowerState

LOG = logging.getLogger(__name__)


def drop_parked(state: Any, images: Any, migration_uuid: str, where: str | None) -> None:
    """The disk a move between hosts parked is removed and the migration no longer names it."""
    if not where:
        return
    images.drop(where)
    state.clear_disk_location(None, migration_uuid=migration_uuid)


class Resizing:
    """Mixed into :class:`~stratus.compute.manager.ComputeManager`."""

    conf: Any
    host: str
    state: Any
    driver: Any
    cache: Any
    peers: Any

    def _migration_step(self, instance_uuid: str, migration_uuid: str, expected: str, status: str,
                        task: str | None) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]] | None:
        """Move the migration from ``expected`` to ``status`` (and the server's task); the
        server's row, metadata and the migration's row — or None if either moved on."""

        step = self.state.migration_step(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                                         expected=expected, status=status, task=task)
        return (step["row"], step["metadata"], step["migration"]) if step is not None else None

    # -- source: start ------------------------------------------------------------------

    def resize_instance(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid, "compute_resize_instance",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "pre-migrating", "migrating",
                                        states.RESIZE_MIGRATING)
            if step is None:
                return
            row, metadata, migration = step
            if migration["dest_compute"] == self.host:
                self._resize_here(context, row, metadata, migration)
            else:
                self._send_disk(context, row, migration)

    def _resize_here(self, context: Any, row: dict[str, Any], metadata: dict[str, str],
                     migration: dict[str, Any]) -> None:

        try:
            self._capable("RESIZE").resize(row["uuid"], instance_spec(row, metadata, None, migration["new_flavor"],
                                                                         self.config_drive(row, metadata)))
        except Exception as exc:
            self._resize_failed(row["uuid"], migration["uuid"], exc)
            raise
        self._resized(row["uuid"], migration["uuid"])

    def _send_disk(self, context: Any, row: dict[str, Any], migration: dict[str, Any]) -> None:
        uuid = row["uuid"]
        path = os.path.join(self.cache.dir, f"resize-{migration['uuid']}.out")
        powered_off = False
        try:
            snapshot = self._capable("SNAPSHOT")
            if self.driver.get_info(uuid).power_state != PowerState.SHUTDOWN:
                self.driver.power_off(uuid)
                powered_off = True
            os.makedirs(self.cache.dir, exist_ok=True)
            with open(path, "wb") as out:
                snapshot.snapshot(uuid, out.write)
            where = self.cache.images.park(f"resize-{migration['uuid']}", path)
        except Exception as exc:
            if powered_off:
                self.driver.power_on(uuid)
            self._resize_failed(uuid, migration["uuid"], exc)
            raise
        finally:
            if os.path.exists(path):
                os.unlink(path)
        self.state.disk_sent(None, instance_uuid=uuid, migration_uuid=migration["uuid"], where=where)
        self.peers.cast(context, "finish_resize", server=migration["dest_compute"], instance_uuid=uuid,
                        migration_uuid=migration["uuid"])

    def _resize_failed(self, instance_uuid: str, migration_uuid: str, exc: Exception) -> None:
        """Nothing changed on the guest that was not undone: the server is as before, with a fault."""

        LOG.warning("resize of %s on %s failed: %s", instance_uuid, self.host, exc)
        self.state.resize_failed(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                                 message=f"Failed to resize instance: {exc}", details=f"{type(exc).__name__}: {exc}",
                                 host=self.host)

    def _resized(self, instance_uuid: str, migration_uuid: str, **values: Any) -> bool:
        """The server is in its new flavor (``values``: where it now is); False if it was
        deleted meanwhile (the migration then ends in error)."""
        power = self.driver.get_info(instance_uuid).power_state
        return self.state.resized(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid, power=power,
                                  values=values)

    # -- destination: finish ------------------------------------------------------------

    def finish_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid, "compute_finish_resize",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "post-migrating", "post-migrating",
                                        states.RESIZE_FINISH)
            if step is None:  # deleted while its disk was on the way: nobody will fetch it
                migration = self.state.migration(None, migration_uuid=migration_uuid)
                drop_parked(self.state, self.cache.images, migration_uuid,
                            migration["disk_location"] if migration is not None else None)
                return
            row, metadata, migration = step
            path = os.path.join(self.cache.dir, f"resize-{migration_uuid}.in")
            network_info: list[dict[str, Any]] = []
            try:
                os.makedirs(self.cache.dir, exist_ok=True)
                self.cache.images.fetch(migration["disk_location"], path)
                network_info = self._rebind(instance_uuid, row["project_id"], row["network_info"])
                nics = self._plug(instance_uuid, row["project_id"], network_info)
                self._wait_for_plug(instance_uuid, self._plugged_by_driver(network_info, False))
                devices = self._move_volumes_here(row)
                self._spawn(instance_uuid, instance_spec(row, metadata, path, migration["new_flavor"],
                                                         self.config_drive(row, metadata)), nics, devices, network_info)
                if migration["old_vm_state"] == states.STOPPED:
                    self.driver.power_off(instance_uuid)
            except Exception as exc:
                LOG.warning("finishing the resize of %s on %s failed: %s", instance_uuid, self.host, exc)
                self.driver.destroy(instance_uuid)
                self._move_back(context, row, migration, network_info, "error", exc)
                raise
            finally:
                if os.path.exists(path):
                    os.unlink(path)
            if not self._resized(instance_uuid, migration_uuid, host=self.host, node=migration["dest_node"],
                                 network_info=network_info):
                self.reap(instance_uuid, network_info)  # deleted while it moved here
            drop_parked(self.state, self.cache.images, migration_uuid, migration["disk_location"])

    def _move_volumes_here(self, row: dict[str, Any]) -> list[Any]:
        """The server's volumes exported to this host (their attachments move with it); what the
        driver plugs."""
        from stratus.interfaces.hypervisor import BlockDevice

        devices = []
        for entry in row.get("block_device_mapping") or []:
            if entry.get("destination_type") != "volume" or not entry.get("attachment_id"):
                continue
            if self.volumes is None:
                raise RuntimeError(f"compute host {self.host} reaches no block-storage service for the server's "
                                   "volumes")
            connector = {**self.connector(), "mountpoint": entry["device_name"]}
            info = self.volumes.connect(entry["attachment_id"], connector)
            devices.append(BlockDevice(entry["volume_id"], entry["device_name"], info["driver_volume_type"], info,
                                       entry.get("boot_index")))
        return devices

    def _move_back(self, context: Any, row: dict[str, Any], migration: dict[str, Any],
                   network_info: list[dict[str, Any]], status: str, failure: Exception | None) -> None:
        """Undo the destination's part (its guest is already destroyed): ports back to the
        source, the claims as before the resize; the source then starts its copy again."""

        if network_info:
            self._unplug(row["uuid"], network_info)
        try:
            source_ports = self._rebind(row["uuid"], row["project_id"], row["network_info"],
                                        host=migration["source_compute"])
        except Exception:
            LOG.exception("could not bind the ports of %s back to %s", row["uuid"], migration["source_compute"])
            source_ports = row["network_info"]
        self.state.moved_back(None, instance_uuid=row["uuid"], migration_uuid=migration["uuid"],
                              network_info=source_ports)
        drop_parked(self.state, self.cache.images, migration["uuid"], migration["disk_location"])
        self.peers.cast(context, "finish_revert_resize", server=migration["source_compute"],
                        instance_uuid=row["uuid"], migration_uuid=migration["uuid"], status=status,
                        failure=f"{type(failure).__name__}: {failure}" if failure else None)

    # -- confirm (source) and revert (destination, then source) ------------------------

    def confirm_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:

        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid, "compute_confirm_resize",
                                                         self.host):
            started = self.state.confirm_started(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                                                 host=self.host)
            if started is None:
                return
            same, network_info, gone = started["same"], started["network_info"], started["gone"]
            if gone and same:
                pass  # deleted meanwhile: the driver already forgot it
            elif same:
                self._capable("RESIZE").confirm_resize(instance_uuid)
            else:
                self.driver.destroy(instance_uuid)
                self._unplug(instance_uuid, network_info)
            self.state.confirmed(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid)

    def revert_resize(self, context: Any, instance_uuid: str, migration_uuid: str) -> None:

        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid, "compute_revert_resize",
                                                         self.host):
            step = self._migration_step(instance_uuid, migration_uuid, "reverting", "reverting", None)
            if step is None:
                return
            row, _, migration = step
            if migration["source_compute"] == self.host:
                self._capable("RESIZE").revert_resize(instance_uuid)
                power = self.driver.get_info(instance_uuid).power_state
                self.state.reverted_here(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                                         power=power)
                return
            self.driver.destroy(instance_uuid)
            self._move_back(context, row, migration, row["network_info"], "reverted", None)

    def finish_revert_resize(self, context: Any, instance_uuid: str, migration_uuid: str, status: str,
                             failure: str | None = None) -> None:

        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_finish_revert_resize", self.host):
            migration = self.state.migration(None, migration_uuid=migration_uuid)
            if migration is None:
                return
            row = self.state.instance(None, uuid=instance_uuid)
            try:
                if row is not None:
                    self._move_volumes_here(row)  # their exports come back to this host
            except Exception as exc:  # the server comes back anyway; its volumes say where they are
                LOG.warning("the volumes of %s could not be exported to %s again: %s", instance_uuid, self.host, exc)
            if migration["old_vm_state"] != states.STOPPED:
                self.driver.power_on(instance_uuid)
            power = self.driver.get_info(instance_uuid).power_state
            self.state.revert_finished(None, instance_uuid=instance_uuid, migration_uuid=migration_uuid,
                                       status=status, host=self.host, power=power, failure=failure)
