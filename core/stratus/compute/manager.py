"""The compute service: builds and deletes servers with each host's hypervisor driver.

:class:`ComputeHosts` serves ``compute.<host>`` over RPC for the hosts of a process,
reports their resources into ``compute_nodes`` and heartbeats every
``[compute] resource_update_interval``; a :class:`ComputeManager` does one host's work. A build
takes ports (bound to this host), the image (cached per host), then ``driver.spawn``; on
failure everything it took is given back and the conductor tries another host until
``[scheduler] max_attempts``, after which the server is ``ERROR`` with a fault.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stratus import loading
from stratus.compute import binaries, history, states
from stratus.compute.disks import Disks
from stratus.compute.host_state import RemoteHostState
from stratus.compute.images import ImageCache
from stratus.compute.instances import instance_spec
from stratus.compute.periodic import Periodic
from stratus.compute.plugging import PlugEvents
from stratus.compute.reconcile import Reconciling
from stratus.compute.resizing import Resizing, drop_parked
from stratus.compute.topics import CONDUCTOR_TOPIC, HOST_STATE_TOPIC, TOPIC
from stratus.exceptions import BackendUnavailable, StratusError
from stratus.interfaces.hypervisor import NetworkInterface, PowerState
from stratus.interfaces.network import FixedIP, Port, PortBinding
from stratus.rpc import RPCClient, RPCServer

LOG = logging.getLogger(__name__)
BINARY = binaries.COMPUTE


def attachment(made: Any, created: bool, tag: str | None = None) -> dict[str, Any]:
    """A port as the server's ``network_info`` records it (``tag``: the device tag asked for)."""
    entry = {"port_id": made.port_id, "network_id": made.network_id, "network_name": made.network_name,
             "mac_address": made.mac_address, "fixed_ips": list(made.fixed_ips), "created": created,
             "vif_type": made.binding.vif_type, "vif_details": dict(made.binding.vif_details), "mtu": made.mtu}
    if tag:
        entry["tag"] = tag
    return entry


def host_uptime() -> str:
    """This machine's time, uptime, users and load, as the ``uptime`` command prints them."""
    import subprocess

    with open("/proc/uptime") as f:
        seconds = int(float(f.read().split()[0]))
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    up = (f"{days} day{'s' if days != 1 else ''}, " if days else "") + (
        f"{hours:2d}:{minutes:02d}" if hours else f"{minutes} min")
    try:
        users = len(set(subprocess.run(["who", "-q"], capture_output=True, text=True, timeout=5,
                                       check=False).stdout.splitlines()[0].split()))
    except (OSError, IndexError, subprocess.SubprocessError):
        users = 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now().strftime("%H:%M:%S")
    return f" {now} up {up},  {users} user{'s' if users != 1 else ''},  load average: {load}"


class PlugTimeout(StratusError):
    """A build's ports were not wired in time."""


class ComputeManager(Resizing, Disks, Reconciling):
    """One compute host: its driver and what it does; :class:`ComputeHosts` serves it.
    ``peers`` reaches the other hosts (a resize between hosts)."""

    def __init__(self, conf: Any, host: str, state: Any, network: Any, images: Any, conductor: RPCClient,
                 peers: RPCClient | None = None, volumes: Any = None) -> None:
        """``state``: compute's state as this host may read and write it
        (:mod:`stratus.compute.host_state`: through a conductor, or in-process); ``volumes``: the
        block-storage client (None: this host attaches no volumes)."""
        self.conf, self.host, self.state, self.network = conf, host, state, network
        self.volumes = volumes
        self.driver = loading.load_driver("stratus.hypervisor", conf.compute.hypervisor, conf)
        self.driver.init_host(host)
        self.cache = ImageCache(images, os.path.join(conf.compute.image_cache_path, host))
        self.conductor, self.peers = conductor, peers
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self.plug_events = PlugEvents()

    def node_values(self) -> dict[str, Any]:
        """The host's totals as the driver reports them (never what claims hold)."""
        resources = self.driver.get_host_resources()
        ratios = self.conf.compute
        return dict(nodename=resources.hypervisor_hostname, hypervisor_type=resources.hypervisor_type,
                    hypervisor_version=resources.hypervisor_version, vcpus=resources.vcpus,
                    memory_mb=resources.memory_mb, local_gb=resources.local_gb,
                    cpu_allocation_ratio=ratios.cpu_allocation_ratio,
                    ram_allocation_ratio=ratios.ram_allocation_ratio,
                    disk_allocation_ratio=ratios.disk_allocation_ratio, cpu_info=dict(resources.cpu_info),
                    capabilities=sorted(c.name for c in type(self.driver.capabilities)
                                        if c.name and c in self.driver.capabilities))


    @contextmanager
    def _locked(self, instance_uuid: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(instance_uuid, threading.RLock())
        with lock:
            yield

    def _set(self, instance_uuid: str, expect: str | None = None, stamp: tuple[str, ...] = (),
             ending: history.Ending | None = None, **values: Any) -> bool:
        """Write ``values`` (and now into the columns of ``stamp``) if the server is not deleted
        and, with ``expect``, its task is still that one (compare-and-set: a delete that came
        meanwhile is never overwritten). Whether it was written. ``ending``: the step's event,
        ended as Success with this write."""
        return self.state.update(None, uuid=instance_uuid, values=values, stamp=list(stamp),
                                 where={"task_state": expect} if expect is not None else None,
                                 end_event=ending.pass_on() if ending is not None else None)

    def _fault(self, instance_uuid: str, exc: Exception | str, what: str, tasks: list[str | None] | None,
               **values: Any) -> bool:
        """``values`` and a fault "Failed to ``what`` instance" if the server's task is one of ``tasks``."""
        details = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        return self.state.fault(None, uuid=instance_uuid, values=values, tasks=tasks, host=self.host,
                                message=f"Failed to {what} instance: {exc}", details=details)

    # -- RPC ---------------------------------------------------------------------------

    def build_and_run_instance(self, context: Any, instance_uuid: str) -> None:
        with self._locked(instance_uuid):
            # the build's first step records its event begun too (one round trip to the conductor)
            snapshot = self.state.start_build(context, uuid=instance_uuid, host=self.host,
                                              event="compute_build_and_run_instance")
            if snapshot is None:
                return  # gone, given to another host while this one was away, or deleted meanwhile
            with history.finishing(self.state, context, snapshot.pop("event")) as ending:
                try:
                    failure = self._build(context, instance_uuid, snapshot, ending)
                except Exception as exc:
                    self._failed_build(instance_uuid, exc)
                    raise
                if failure is not None:
                    raise failure  # recorded as the event's error; the reschedule is already under way

    def _failed_build(self, instance_uuid: str, exc: Exception) -> None:
        """A build step past the driver's (its last state write, its event) failed: the server
        goes to ERROR with a fault rather than staying in its build task for ever (as Nova's
        build error state). Its guest and ports stay for its delete to give back."""
        LOG.error("build of %s on %s failed after its guest was made: %s", instance_uuid, self.host, exc)
        try:
            self._fault(instance_uuid, exc, "build", [states.NETWORKING, states.BLOCK_DEVICE_MAPPING, states.SPAWNING],
                        vm_state=states.ERROR, task_state=None)
        except Exception as unrecorded:  # the database is away too: the original error is the one raised
            LOG.warning("could not record the failed build of %s: %s", instance_uuid, unrecorded)

    def get_host_uptime(self, context: Any) -> str:
        """The host's ``uptime`` line (what ``os-hypervisors/{id}/uptime`` shows)."""
        return host_uptime()

    def cache_images(self, context: Any, image_ids: list[str]) -> None:
        """Fetch images into this host's cache ahead of builds (``os-aggregates`` images, 2.81)."""
        for image_id in image_ids:
            try:
                self.cache.path(image_id)
            except StratusError as exc:
                LOG.warning("could not cache image %s on %s: %s", image_id, self.host, exc)

    def terminate_instance(self, context: Any, instance_uuid: str) -> None:
        with self._locked(instance_uuid):
            begun = self.state.begin(context, uuid=instance_uuid, event="compute_terminate_instance", host=self.host)
            with history.finishing(self.state, context, begun["event"]) as ending:
                instance = begun["instance"]
                if instance is None:
                    return
                self.driver.destroy(instance_uuid)
                self._release_ports(instance_uuid, instance["network_info"])
                self._release_volumes(instance)
                self.state.finish_delete(None, uuid=instance_uuid, end_event=ending.pass_on())

    # -- power and lifecycle actions (the API took the task; these settle the state) -----

    def _act(self, context: Any, instance_uuid: str, operation: Any, vm_state: str, action: str) -> None:
        with self._locked(instance_uuid):
            instance = self.state.instance(None, uuid=instance_uuid)
            if instance is None:
                return
            task = instance["task_state"]  # what the API set; a delete coming meanwhile replaces it
            try:
                with history.event(self.state, context, instance_uuid, f"compute_{action}_instance", self.host):
                    operation(instance_uuid)
            except Exception as exc:  # the server stays as it was, the task ends, a fault says why
                LOG.warning("%s of %s on %s failed: %s", action, instance_uuid, self.host, exc)
                # as Nova: a failed reboot leaves the server's state unknown
                self._fault(instance_uuid, exc, action, [task], task_state=None,
                            **({"vm_state": states.ERROR} if action == "reboot" else {}))
                return
            power = self.driver.get_info(instance_uuid).power_state
            self._set(instance_uuid, expect=task, vm_state=vm_state, task_state=None, power_state=power)

    def start_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, self.driver.power_on, states.ACTIVE, "start")

    def stop_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, self._clean_power_off, states.STOPPED, "stop")

    def _clean_power_off(self, instance_uuid: str) -> None:
        self.driver.power_off(instance_uuid, self.conf.compute.shutdown_timeout)

    def reboot_instance(self, context: Any, instance_uuid: str, hard: bool) -> None:
        self._act(context, instance_uuid, lambda u: self.driver.reboot(u, hard), states.ACTIVE, "reboot")

    def pause_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, lambda u: self._capable("PAUSE").pause(u), states.PAUSED, "pause")

    def unpause_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, lambda u: self._capable("PAUSE").unpause(u), states.ACTIVE, "unpause")

    def suspend_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, lambda u: self._capable("SUSPEND").suspend(u), states.SUSPENDED, "suspend")

    def resume_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, lambda u: self._capable("SUSPEND").resume(u), states.ACTIVE, "resume")

    def soft_delete_instance(self, context: Any, instance_uuid: str) -> None:
        """A deferred delete: the guest stops and stays until it is restored or reclaimed."""
        self._act(context, instance_uuid, self._clean_power_off, states.SOFT_DELETED, "soft_delete")

    def restore_instance(self, context: Any, instance_uuid: str) -> None:
        self._act(context, instance_uuid, self.driver.power_on, states.ACTIVE, "restore")

    def get_diagnostics(self, context: Any, instance_uuid: str) -> dict[str, Any]:
        """The guest's figures (``DIAGNOSTICS``), as a dict for the wire."""
        import dataclasses

        report = self._capable("DIAGNOSTICS").get_diagnostics(instance_uuid)
        return {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}

    def get_console(self, context: Any, instance_uuid: str, protocol: str) -> dict[str, Any]:
        """Where the guest's ``protocol`` console listens (``REMOTE_CONSOLE``), for the wire."""
        endpoint = self._capable("REMOTE_CONSOLE").get_console(instance_uuid, protocol)
        return {"protocol": endpoint.protocol, "host": endpoint.host, "port": endpoint.port}

    def get_console_output(self, context: Any, instance_uuid: str, tail_lines: int | None = None) -> str:
        return self._capable("CONSOLE_LOG").get_console_output(instance_uuid, tail_lines)

    def external_instance_event(self, context: Any, instance_uuid: str, name: str, status: str,
                                tag: str | None = None) -> None:
        """An event from another service about one of this host's servers:
        ``network-vif-plugged`` ends a build's wait for that port (``tag``). Events an
        administrator sent through the API are recorded with the server's actions."""
        LOG.info("event %s (%s, tag %s) for %s on %s", name, status, tag, instance_uuid, self.host)
        if name == "network-vif-plugged" and status == "completed":
            self.plug_events.deliver(instance_uuid, tag)
        if name == "network-changed":
            self.refresh_network_info(instance_uuid)
        if name == "power-update":
            self._power_update(context, instance_uuid, tag)
            return
        if context is not None and getattr(context, "user_id", None):
            self.state.record_action(context, uuid=instance_uuid, action=f"event:{name}")

    def refresh_network_info(self, instance_uuid: str) -> None:
        """The server's recorded addresses follow its ports: their fixed IPs and the floating IPs
        pointing at them (Nova's info cache refresh on ``network-changed``)."""
        if self.network is None:
            return
        with self._locked(instance_uuid):
            instance = self.state.instance(None, uuid=instance_uuid)
            if instance is None:
                return
            network_info = [dict(entry) for entry in instance["network_info"]]
            now = self.network.addresses([entry["port_id"] for entry in network_info])
            changed = False
            for entry in network_info:
                fresh = now.get(entry["port_id"])
                if fresh is not None and (entry["fixed_ips"], entry.get("floating_ips", {})) != (
                        fresh["fixed_ips"], fresh["floating_ips"]):
                    entry.update(fresh)
                    changed = True
            if changed:  # as Nova's info cache: not a change of the server (updated_at stays)
                self.state.update(None, uuid=instance_uuid, values={"network_info": network_info}, touch=False)

    def inject_network_info(self, context: Any, instance_uuid: str) -> None:
        """``injectNetworkInfo``: refresh the server's addresses from its ports (no driver here
        pushes network settings into a running guest; they come from DHCP and config drives)."""
        with history.event(self.state, context, instance_uuid, "compute_inject_network_info", self.host):
            self.refresh_network_info(instance_uuid)

    def _power_update(self, context: Any, instance_uuid: str, tag: str | None) -> None:
        """``power-update`` (2.76): the server was powered on or off outside of compute (a
        bare-metal service, the guest itself); bring the driver and the server's states in
        line, recorded as its start or stop action. Nothing happens unless the server is
        settled in the opposite state (as Nova)."""
        wanted = {"POWER_ON": (states.STOPPED, PowerState.SHUTDOWN, states.POWERING_ON, "start"),
                  "POWER_OFF": (states.ACTIVE, PowerState.RUNNING, states.POWERING_OFF, "stop")}.get(tag or "")
        if wanted is None:
            LOG.info("power-update event for %s with unknown tag %s ignored", instance_uuid, tag)
            return
        vm_state, power, task, action = wanted
        with self._locked(instance_uuid):
            taken = self.state.take_power_update(context, uuid=instance_uuid, vm_state=vm_state, power=power,
                                                 task=task, action=action)
            if not taken:
                LOG.info("power-update %s for %s is a no-op in its current state", tag, instance_uuid)
                return
        operation = self.driver.power_on if tag == "POWER_ON" else self.driver.power_off
        self._act(context, instance_uuid, operation, states.ACTIVE if tag == "POWER_ON" else states.STOPPED,
                  "power_update")

    def _plugged_by_driver(self, attachments: list[dict[str, Any]], own: bool) -> list[dict[str, Any]]:
        """The ports the hypervisor plugs itself (``own``), or the others."""
        return [a for a in attachments if (a["vif_type"] in self.driver.plugs_vif_types) == own]

    def _spawn(self, instance_uuid: str, spec: Any, nics: list[NetworkInterface], devices: list[Any],
               attachments: list[dict[str, Any]]) -> None:
        """Spawn; the ports the hypervisor plugs itself are waited for while the guest is paused."""
        own = self._plugged_by_driver(attachments, True)
        if own:
            self.driver.spawn(spec, nics, devices, wait_for_network=lambda: self._wait_for_plug(instance_uuid, own))
        else:
            self.driver.spawn(spec, nics, devices)

    def _wait_for_plug(self, instance_uuid: str, attachments: list[dict[str, Any]]) -> None:
        """Wait until the network agent has wired the ports (plugins with host agents).

        :raises PlugTimeout: some port was not wired in ``[compute] vif_plugging_timeout``
            and ``vif_plugging_is_fatal`` is set."""
        timeout = self.conf.compute.vif_plugging_timeout
        if self.network is None or not self.network.has_agents or not attachments or not timeout:
            return
        ports = [a["port_id"] for a in attachments]
        missing = self.plug_events.wait(instance_uuid, ports, timeout,
                                        lambda ids: self.network.wired(ids, self.host))
        if not missing:
            return
        message = (f"Virtual Interface creation failed: port(s) {', '.join(sorted(missing))} of {instance_uuid} "
                   f"were not wired on {self.host} within {timeout} s (is its network agent running?)")
        if self.conf.compute.vif_plugging_is_fatal:
            raise PlugTimeout(message)
        LOG.warning("%s; going on as [compute] vif_plugging_is_fatal is false", message)

    def attach_interface(self, context: Any, instance_uuid: str, network_id: str | None = None,
                         port_id: str | None = None, fixed_ip: str | None = None,
                         tag: str | None = None) -> dict[str, Any]:
        """Make or take a port for the server, plug it and hot-plug it into the guest; its
        ``network_info`` entry (with the device ``tag``). A failure gives the port back and raises."""
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_attach_interface", self.host):
            instance = self.state.instance(None, uuid=instance_uuid)
            project_id, groups = instance["project_id"], list(instance["security_groups"])
            made = attachment(self.network.attach(project_id, instance_uuid, self.host, network_id=network_id,
                                         port_id=port_id, fixed_ip=fixed_ip, security_groups=groups),
                              port_id is None, tag)
            try:
                (nic,) = self._plug(instance_uuid, project_id, [made])
                self._wait_for_plug(instance_uuid, self._plugged_by_driver([made], False))
                self._capable("INTERFACE_ATTACH").attach_interface(instance_uuid, nic)
                self._wait_for_plug(instance_uuid, self._plugged_by_driver([made], True))
            except Exception:
                self._release_ports(instance_uuid, [made])
                raise
            self.state.add_network_info(None, uuid=instance_uuid, entry=made)
            return made

    def detach_interface(self, context: Any, instance_uuid: str, port_id: str) -> None:
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_detach_interface", self.host):
            instance = self.state.instance(None, uuid=instance_uuid)
            found = [a for a in instance["network_info"] if a["port_id"] == port_id] if instance else []
            if not found:
                return
            self._capable("INTERFACE_ATTACH").detach_interface(instance_uuid, port_id)
            self._release_ports(instance_uuid, found)
            self.state.remove_network_info(None, uuid=instance_uuid, port_id=port_id)

    # -- volumes ---------------------------------------------------------------------------

    def connector(self) -> dict[str, Any]:
        """How this host describes itself to block storage (os-brick's connector, for the
        connection types this core knows: ``file`` needs only the host)."""
        import platform

        return {"host": self.host, "ip": None, "initiator": None, "multipath": False,
                "platform": platform.machine(), "os_type": platform.system().lower()}

    def attach_volume(self, context: Any, instance_uuid: str, volume_id: str, attachment_id: str, device: str,
                      tag: str | None = None, delete_on_termination: bool = False) -> dict[str, Any]:
        """Export the reserved volume to this host, hot-plug it as ``device`` and complete the
        attachment; its block device mapping entry. A failure gives the attachment back and raises."""
        from stratus.interfaces.hypervisor import BlockDevice

        if self.volumes is None:
            raise BackendUnavailable(f"compute host {self.host} reaches no block-storage service")
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_attach_volume", self.host):
            plugged = False
            try:
                driver = self._capable("VOLUME_ATTACH")
                info = self.volumes.connect(attachment_id, {**self.connector(), "mountpoint": device})
                driver.attach_volume(instance_uuid, BlockDevice(volume_id, device, info["driver_volume_type"], info))
                plugged = True
                self.volumes.complete(attachment_id)
            except Exception:
                if plugged:
                    with contextlib.suppress(Exception):
                        self.driver.detach_volume(instance_uuid, volume_id)
                self.volumes.detach(attachment_id)
                raise
            entry = {"source_type": "volume", "destination_type": "volume", "volume_id": volume_id,
                     "attachment_id": attachment_id, "device_name": device, "tag": tag, "boot_index": None,
                     "delete_on_termination": delete_on_termination}
            self.state.add_block_device(None, uuid=instance_uuid, entry=entry)
            return entry

    def detach_volume(self, context: Any, instance_uuid: str, volume_id: str) -> None:
        """Unplug the volume from the guest, end its attachment and forget it. Idempotent."""
        with self._locked(instance_uuid), history.event(self.state, context, instance_uuid,
                                                         "compute_detach_volume", self.host):
            instance = self.state.instance(None, uuid=instance_uuid)
            found = [b for b in (instance or {}).get("block_device_mapping") or []
                     if b.get("destination_type") == "volume" and b.get("volume_id") == volume_id]
            if not found:
                return
            self._capable("VOLUME_ATTACH").detach_volume(instance_uuid, volume_id)
            if self.volumes is not None and found[0].get("attachment_id"):
                self.volumes.detach(found[0]["attachment_id"])
            self.state.remove_block_device(None, uuid=instance_uuid, volume_id=volume_id)

    def _release_volumes(self, instance: dict[str, Any]) -> None:
        """A deleted server's volumes: attachments ended, those marked so deleted."""
        for bdm in instance.get("block_device_mapping") or []:
            if bdm.get("destination_type") != "volume" or self.volumes is None:
                continue
            try:
                if bdm.get("attachment_id"):
                    self.volumes.detach(bdm["attachment_id"])
                if bdm.get("delete_on_termination"):
                    self.volumes.delete(bdm["volume_id"])
            except Exception as exc:  # the server goes anyway; the volume stays for an operator
                LOG.warning("volume %s of deleted server %s: %s", bdm.get("volume_id"), instance["uuid"], exc)

    def _capable(self, capability: str) -> Any:
        from stratus.interfaces.base import require
        from stratus.interfaces.hypervisor import HypervisorCapability

        require(self.driver, HypervisorCapability[capability], capability.lower())
        return self.driver

    # -- building ----------------------------------------------------------------------

    def config_drive(self, row: dict[str, Any], metadata: dict[str, str]) -> dict[str, bytes] | None:
        """The server's config drive files, if it gets one: asked at create, forced by
        ``[compute] force_config_drive`` or by the image (``img_config_drive=mandatory``).

        :raises CapabilityNotSupported: it needs one and this host's driver cannot build one."""
        from stratus.compute import configdrive
        mandatory = row["request_spec"].get("image_properties", {}).get("img_config_drive") == "mandatory"
        if not (row["config_drive"] or self.conf.compute.force_config_drive or mandatory):
            return None
        self._capable("CONFIG_DRIVE")
        subnets = self.network.subnets({f["subnet_id"] for nic in row["network_info"]
                                             for f in nic["fixed_ips"]}) if self.network is not None else {}
        return configdrive.files(row, metadata, row["network_info"], subnets, row.get("block_device_mapping") or [])

    def _build(self, context: Any, instance_uuid: str, snapshot: dict[str, Any],
               ending: history.Ending) -> Exception | None:
        metadata = snapshot.pop("metadata")
        attachments: list[dict[str, Any]] = []
        mapped = [dict(b) for b in snapshot.get("block_device_mapping") or [] if b.get("destination_type") == "volume"]
        try:
            nics = self._ports(snapshot, attachments)
            self._wait_for_plug(instance_uuid, self._plugged_by_driver(attachments, False))
            before = states.NETWORKING
            if mapped:  # the volumes, under Nova's task: made available, exported here, then plugged
                if not self._set(instance_uuid, expect=states.NETWORKING, task_state=states.BLOCK_DEVICE_MAPPING,
                                 network_info=attachments):
                    return self._abandon(instance_uuid, attachments, mapped)
                before = states.BLOCK_DEVICE_MAPPING
            devices = self._map_volumes(snapshot, mapped)
            # the image is fetched while spawning, as Nova's drivers do
            if not self._set(instance_uuid, expect=before, task_state=states.SPAWNING, network_info=attachments):
                return self._abandon(instance_uuid, attachments, mapped)  # deleted meanwhile
            image_path = self.cache.path(snapshot["image_ref"]) if snapshot["image_ref"] else None
            drive = self.config_drive({**snapshot, "network_info": attachments}, metadata)
            self._spawn(instance_uuid, instance_spec(snapshot, metadata, image_path, config_drive_files=drive), nics,
                        devices, attachments)
            for entry in mapped:
                self.volumes.complete(entry["attachment_id"])
            if mapped:
                self.state.set_block_devices(None, uuid=instance_uuid, entries=[
                    *[b for b in snapshot.get("block_device_mapping") or [] if b.get("destination_type") != "volume"],
                    *mapped])
        except Exception as exc:  # any failure: give back everything, then reschedule or fail
            LOG.warning("build of %s on %s failed: %s", instance_uuid, self.host, exc)
            self.driver.destroy(instance_uuid)
            self._release_ports(instance_uuid, attachments)
            self._unmap_volumes(mapped)
            self._reschedule(context, instance_uuid, exc)
            return exc
        if not self._set(instance_uuid, expect=states.SPAWNING, stamp=("launched_at",), ending=ending,
                         vm_state=states.ACTIVE, task_state=None, power_state=PowerState.RUNNING):
            return self._abandon(instance_uuid, attachments, mapped)
        return None

    def _map_volumes(self, instance: dict[str, Any], mapped: list[dict[str, Any]]) -> list[Any]:
        """Each volume entry made available (waited for), reserved for the server and exported
        to this host (its ``attachment_id`` and ``device_name`` filled in); what the driver plugs.

        :raises BackendUnavailable: no block storage here, or a volume never became available."""
        from stratus.interfaces.hypervisor import BlockDevice

        if not mapped:
            return []
        if self.volumes is None:
            raise BackendUnavailable(f"compute host {self.host} reaches no block-storage service")
        devices = []
        used = {"vda"}  # the root disk, local or the boot volume
        letters = iter("bcdefghijklmnopqrstuvwxyz")
        for entry in sorted(mapped, key=lambda b: (b.get("boot_index") is None, b.get("boot_index") or 0)):
            self._wait_available(entry["volume_id"])
            entry["attachment_id"] = self.volumes.reserve(entry["volume_id"], instance["uuid"])
            if entry.get("boot_index") == 0:
                device = "/dev/vda"
            else:
                device = next(f"/dev/vd{c}" for c in letters if f"vd{c}" not in used)
            info = self.volumes.connect(entry["attachment_id"], {**self.connector(), "mountpoint": device})
            used.add(device.rsplit("/", 1)[-1])
            entry["device_name"] = device
            devices.append(BlockDevice(entry["volume_id"], device, info["driver_volume_type"], info,
                                       entry.get("boot_index")))
        return devices

    def _wait_available(self, volume_id: str) -> None:
        """Wait for a volume being made for the server (Nova's block_device_allocate_retries)."""
        import time

        options = self.conf.compute
        for attempt in range(options.block_device_allocate_retries + 1):
            info = self.volumes.show(volume_id)
            if info is None or info.status == "error":
                raise BackendUnavailable(f"volume {volume_id} of the server could not be made "
                                         f"({'gone' if info is None else 'error'})")
            if info.status == "available":
                return
            if attempt < options.block_device_allocate_retries:
                time.sleep(options.block_device_allocate_retries_interval)
        raise BackendUnavailable(f"volume {volume_id} did not become available in time (it is {info.status})")

    def _unmap_volumes(self, mapped: list[dict[str, Any]]) -> None:
        """End the attachments a failed build made (the volumes stay for the next host)."""
        for entry in mapped:
            if entry.get("attachment_id") and self.volumes is not None:
                with contextlib.suppress(Exception):
                    self.volumes.detach(entry["attachment_id"])
                entry["attachment_id"] = None

    def _abandon(self, instance_uuid: str, attachments: list[dict[str, Any]],
                 mapped: list[dict[str, Any]] | None = None) -> None:
        """A build whose server changed under it: deleted (the API's delete may have found no
        host yet and removed the row, knowing nothing of what this build made), or failed by
        the reaper meanwhile. Destroy the guest and give the ports back; a delete asked for is
        finished here (the lock is ours), a server failed elsewhere stays as that left it."""
        LOG.info("server %s changed while it was built on %s: cleaning up the build", instance_uuid, self.host)
        self.driver.destroy(instance_uuid)
        self._release_ports(instance_uuid, attachments)
        self._unmap_volumes(mapped or [])
        self.state.finish_delete(None, uuid=instance_uuid, only_if_deleting=True)

    def _ports(self, instance: dict[str, Any], attachments: list[dict[str, Any]]) -> list[NetworkInterface]:
        for request in instance["requested_networks"]:
            made = self.network.attach(instance["project_id"], instance["uuid"], self.host,
                              network_id=request.get("uuid"), port_id=request.get("port"),
                              fixed_ip=request.get("fixed_ip"), security_groups=instance["security_groups"])
            attachments.append(attachment(made, made.created, request.get("tag")))
        return self._plug(instance["uuid"], instance["project_id"], attachments)

    def _rebind(self, instance_uuid: str, project_id: str, network_info: list[dict[str, Any]],
                host: str | None = None) -> list[dict[str, Any]]:
        """Bind the server's ports to ``host`` (this one by default: a resize moved it here);
        its ``network_info`` as it then is."""
        return [attachment(self.network.attach(project_id, instance_uuid, host or self.host,
                                      port_id=a["port_id"]), a["created"], a.get("tag")) for a in network_info]

    def _plug(self, instance_uuid: str, project_id: str, attachments: list[dict[str, Any]]) -> list[NetworkInterface]:
        """Wire the ports on this host (plugins with a data plane) and describe them for the driver."""
        plugin = self.network.host_plugging() if self.network is not None else None
        for a in attachments:
            if plugin is not None and a["vif_type"] not in self.driver.plugs_vif_types:
                plugin.plug(Port(id=a["port_id"], network_id=a["network_id"], project_id=project_id,
                                 mac_address=a["mac_address"], mtu=a.get("mtu"),
                                 fixed_ips=tuple(FixedIP(f["subnet_id"], f["ip_address"]) for f in a["fixed_ips"])),
                            PortBinding(a["vif_type"], a.get("vif_details", {})), instance_uuid)
        return self._nics(attachments)

    @staticmethod
    def _nics(attachments: list[dict[str, Any]]) -> list[NetworkInterface]:
        return [NetworkInterface(port_id=a["port_id"], mac_address=a["mac_address"], vif_type=a["vif_type"],
                                 vif_details=a.get("vif_details", {}),
                                 fixed_ips=tuple(f["ip_address"] for f in a["fixed_ips"]), mtu=a.get("mtu"))
                for a in attachments]

    def _unplug(self, instance_uuid: str, attachments: list[dict[str, Any]]) -> None:
        plugin = self.network.host_plugging() if self.network is not None else None
        if plugin is not None:
            for a in attachments:
                if a["vif_type"] in self.driver.plugs_vif_types:
                    continue  # the hypervisor's own device, gone with the guest
                plugin.unplug(Port(id=a["port_id"], network_id=a["network_id"], project_id="",
                                   mac_address=a["mac_address"]), PortBinding(a["vif_type"]), instance_uuid)

    def reap(self, instance_uuid: str, network_info: list[dict[str, Any]]) -> None:
        """Destroy the guest of a server deleted elsewhere, and unplug it (its ports are gone)."""
        with self._locked(instance_uuid):
            LOG.warning("destroying the guest of deleted server %s on %s", instance_uuid, self.host)
            self.driver.destroy(instance_uuid)
            self._unplug(instance_uuid, network_info)

    def _release_ports(self, instance_uuid: str, attachments: list[dict[str, Any]]) -> None:
        if not attachments:
            return
        self._unplug(instance_uuid, attachments)
        try:
            self.network.release(instance_uuid, attachments)
        except StratusError:
            LOG.exception("could not release the ports of %s", instance_uuid)

    def _reschedule(self, context: Any, instance_uuid: str, failure: Exception) -> None:
        if self.state.reschedule(None, uuid=instance_uuid, failure=f"{type(failure).__name__}: {failure}",
                                 host=self.host):
            self.conductor.cast(context, "build_instances", instance_uuids=[instance_uuid])


class ComputeHosts:
    """The compute hosts of one process (one, or many simulated ones): a single RPC server
    answers ``compute.<host>`` for each, and one periodic task reports every host's
    resources and heartbeats (in a few transactions, whatever the number of hosts)."""

    def __init__(self, conf: Any, names: list[str], network: Any, images: Any, transport: Any,
                 state: Any = None, volumes: Any = None) -> None:
        """``state``: compute's state in-process (a HostState: the embedded cloud); without
        one, every read and write goes through a conductor (:class:`RemoteHostState`)."""
        self.conf = conf
        self.conductor, self.peers = RPCClient(transport, CONDUCTOR_TOPIC), RPCClient(transport, TOPIC)
        self._states = RPCClient(transport, HOST_STATE_TOPIC) if state is None else None
        self.state = state if state is not None else RemoteHostState(self._states)
        self.managers = {name: ComputeManager(conf, name, self.state, network, images, self.conductor, self.peers,
                                              volumes) for name in names}
        first, *rest = names
        self.server = RPCServer(transport, TOPIC, first, [self.managers[first]], workers=max(4, min(32, len(names))),
                                hosts={name: [self.managers[name]] for name in rest})
        self._updates = Periodic("compute-resources", lambda: conf.compute.resource_update_interval,
                                 self.update_available_resources)
        self._pruning = Periodic("image-cache", lambda: max(conf.compute.image_cache_interval, 1),
                                 self.prune_image_caches)
        self._reaping = Periodic("running-deleted", lambda: max(conf.compute.running_deleted_instance_poll_interval,
                                                                1), self.reap_deleted)
        self._reclaiming = Periodic("reclaim-deleted", lambda: max(conf.compute.reclaim_instance_interval, 1),
                                    self.reclaim_queued_deletes)
        self._auditing = Periodic("usage-audit", lambda: 60.0, self.audit_instance_usage)
        self._syncing = Periodic("power-states", lambda: max(conf.compute.sync_power_state_interval, 1),
                                 self.sync_power_states)

    def start(self) -> None:
        self.update_available_resources()
        self.server.start()
        # what a restart interrupted is settled as the host takes work again (the casts it makes
        # need the RPC server, and an API action arriving meanwhile waits on the server's lock)
        for manager in self.managers.values():
            manager.init_instances()
        self.sync_power_states()
        if self.conf.compute.sync_power_state_interval >= 0:
            self._syncing.start()
        self._updates.start()
        if self.conf.compute.image_cache_interval >= 0:
            self._pruning.start()
        if self.conf.compute.running_deleted_instance_poll_interval >= 0:
            self._reaping.start()
        if self.conf.compute.reclaim_instance_interval > 0:
            self._reclaiming.start()
        if self.conf.compute.instance_usage_audit:
            self.audit_instance_usage()
            self._auditing.start()

    def stop(self) -> None:
        self._updates.stop()
        self._pruning.stop()
        self._reaping.stop()
        self._reclaiming.stop()
        self._auditing.stop()
        self._syncing.stop()
        self.server.stop()
        self.conductor.close()
        self.peers.close()
        if self._states is not None:
            self._states.close()

    def sync_power_states(self) -> dict[str, str]:
        """Each host's servers in line with its hypervisor (:mod:`stratus.compute.reconcile`);
        what changed, by server."""
        changed: dict[str, str] = {}
        for manager in self.managers.values():
            try:
                changed.update(manager.sync_power_states())
            except Exception:  # one host's hypervisor failing must not stop the others' sync
                LOG.exception("power state sync of %s failed", manager.host)
        return changed

    def prune_image_caches(self) -> dict[str, list[str]]:
        """Each host's cached images that no server on it uses and none used lately go;
        what each host removed."""
        in_use = self.state.images_in_use(None, hosts=list(self.managers))
        removed = {}
        for name, manager in self.managers.items():
            gone = manager.cache.prune(set(in_use.get(name, ())), self.conf.compute.image_cache_max_unused)
            if gone:
                LOG.info("removed unused cached images %s from %s", ", ".join(gone), name)
                removed[name] = gone
        return removed

    def reap_deleted(self) -> dict[str, list[str]]:
        """Guests of deleted servers still on these hosts are destroyed (their host was down
        when they were deleted, or they were deleted while moving here), and disks parked for
        moves of deleted servers to these hosts dropped; what each host destroyed. Only guests
        whose server row says deleted go: a guest the cloud has no row for is not ours to judge."""
        guests = {name: set(manager.driver.list_instances()) for name, manager in self.managers.items()}
        every = sorted(set().union(*guests.values()))
        found = self.state.deleted_guests(None, uuids=every, hosts=list(self.managers))
        deleted, parked = found["deleted"], found["parked"]
        destroyed = {}
        for name, manager in self.managers.items():
            for uuid in sorted(guests[name] & set(deleted)):
                manager.reap(uuid, deleted[uuid] or [])
                destroyed.setdefault(name, []).append(uuid)
        images = next(iter(self.managers.values())).cache.images
        for migration_uuid, where in parked:
            drop_parked(self.state, images, migration_uuid, where)
        return destroyed

    def audit_instance_usage(self) -> dict[str, int]:
        """Each host's instance usage audit of the last completed period, once
        (:mod:`stratus.compute.usage_audit`); how many servers each host reported."""
        return self.state.audit_usage(None, hosts=list(self.managers),
                                      period=self.conf.compute.instance_usage_audit_period)

    def reclaim_queued_deletes(self) -> list[str]:
        """Servers on these hosts soft-deleted longer than ``[compute] reclaim_instance_interval``
        ago are deleted for good (Nova's _reclaim_queued_deletes); which ones."""
        interval = self.conf.compute.reclaim_instance_interval
        if interval <= 0:
            return []
        due = self.state.reclaimable(None, hosts=list(self.managers), interval=interval)
        for uuid, host in due:
            LOG.info("reclaiming soft-deleted server %s on %s", uuid, host)
            self.managers[host].terminate_instance(None, uuid)
        return [uuid for uuid, _ in due]

    def update_available_resources(self) -> None:
        """Each host's totals into ``compute_nodes``, and each host's heartbeat."""
        self.state.report_nodes(None, nodes={name: manager.node_values() for name, manager in self.managers.items()})
        self.state.heartbeat(None, hosts=list(self.managers), binary=BINARY, topic=TOPIC)
