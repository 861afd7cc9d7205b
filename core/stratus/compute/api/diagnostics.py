"""``/servers/{id}/diagnostics`` (Nova v2.1, administrators): a running server's figures from
its hypervisor — Nova's standard shape from 2.48, the flat libvirt-style one before."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import states
from stratus.compute.api.common import NotImplementedByHypervisor, context
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import find
from stratus.compute.topics import TOPIC
from stratus.exceptions import Conflict, UnsupportedOperation
from stratus.interfaces.hypervisor import PowerState


def legacy(report: dict[str, Any]) -> dict[str, Any]:
    """The pre-2.48 flat view, named as libvirt's driver names its figures."""
    body: dict[str, Any] = {f"cpu{cpu['id']}_time": cpu["time"] for cpu in report["cpu_details"]}
    body["memory"] = (report["memory_details"]["maximum"] or 0) * 1024
    for index, disk in enumerate(report["disk_details"]):
        name = f"vd{chr(ord('a') + index)}"
        body.update({f"{name}_read": disk["read_bytes"], f"{name}_read_req": disk["read_requests"],
                     f"{name}_write": disk["write_bytes"], f"{name}_write_req": disk["write_requests"],
                     f"{name}_errors": disk["errors_count"]})
    for index, nic in enumerate(report["nic_details"]):
        for key in ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "tx_octets", "tx_errors", "tx_drop",
                    "tx_packets"):
            body[f"tap{index}_{key.replace('_octets', '')}"] = nic[key]
    return body


class ServerDiagnostics:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("A running server's diagnostics (administrators)", responses={200: {"type": "object"}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.reading() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-server-diagnostics", {"project_id": instance.project_id})
            host, power, vm_state = instance.host, instance.power_state, instance.vm_state
        if not host or power != PowerState.RUNNING or vm_state == states.BUILDING:
            raise Conflict(f"Cannot 'get_diagnostics' instance {server_id} while it is in power_state "
                           f"{PowerState(power).name.lower() if power in PowerState._value2member_map_ else power}")
        try:
            report = self.compute.rpc(TOPIC).call(context(req), "get_diagnostics", server=host,
                                                  instance_uuid=server_id)
        except UnsupportedOperation:
            raise NotImplementedByHypervisor("Diagnostics are not offered by this server's hypervisor.") from None
        if not at_least(req, "2.48"):
            resp.media = legacy(report)
            return
        resp.media = {**{k: report[k] for k in ("state", "driver", "hypervisor", "hypervisor_os", "uptime",
                                               "config_drive", "cpu_details", "nic_details", "disk_details",
                                               "memory_details")},
                      "num_cpus": len(report["cpu_details"]), "num_nics": len(report["nic_details"]),
                      "num_disks": len(report["disk_details"])}
