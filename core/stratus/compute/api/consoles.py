"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6; ``mks`` from 2.8) and the older
``os-getVNCConsole`` / ``os-getSerialConsole`` / ``os-getSPICEConsole`` / ``os-getRDPConsole``
actions (2.1-2.5), answered with a URL on the console proxy (:mod:`stratus.compute.consoles`).

As Nova: a console type this cloud does not serve is 400, a server that is not running 409, a
hypervisor without consoles 501.
"""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute import consoles, states
from stratus.compute.api.common import NotImplementedByHypervisor, context, lacks_capability
from stratus.compute.api.microversions import at_least
from stratus.compute.api.servers import find
from stratus.exceptions import Conflict, Invalid, NotFound, UnsupportedOperation

CONSOLE = {"type": "object", "required": ["remote_console"], "additionalProperties": False, "properties": {
    "remote_console": {"type": "object", "required": ["protocol", "type"], "additionalProperties": False,
                       "properties": {"protocol": {"enum": ["vnc", "spice", "rdp", "serial", "mks"]},
                                      "type": {"enum": ["novnc", "xvpvnc", "spice-html5", "rdp-html5", "serial",
                                                        "webmks", "spice-direct"]}}}}}
#: the older actions, by the protocol they open
LEGACY = {"os-getVNCConsole": "vnc", "os-getSerialConsole": "serial", "os-getSPICEConsole": "spice",
          "os-getRDPConsole": "rdp"}
LEGACY_SCHEMAS = {name: {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}
                  for name in LEGACY}


def open_console(compute: Any, req: falcon.Request, policy: Policy, server_id: str, protocol: str,
                 console_type: str) -> str:
    """A console URL for the caller's server. :raises Invalid: type not served here;
    :raises Conflict: the server is not running; :raises NotImplementedByHypervisor: its host
    has no such console."""
    with compute.db.reading() as session:
        row = find(session, req, server_id)
        enforce(req, policy, "os_compute_api:os-remote-consoles", {"project_id": row.project_id})
        consoles.check_type(compute.conf, protocol, console_type)
        if row.vm_state != states.ACTIVE or row.task_state is not None or not row.host:
            raise Conflict(f"Instance {server_id} is not ready (vm_state {row.vm_state}).")
        host, lacking = row.host, lacks_capability(session, row, "REMOTE_CONSOLE")
    if lacking:
        raise NotImplementedByHypervisor(f"Unable to get {protocol} console, functionality not implemented by "
                                         "this server's hypervisor.")
    try:
        return consoles.open_console(compute, context(req), server_id, host, protocol, console_type)
    except UnsupportedOperation:
        raise NotImplementedByHypervisor(f"Unable to get {protocol} console, functionality not implemented "
                                         "by this server's hypervisor.") from None


class RemoteConsoles:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Open a remote console (2.6; mks from 2.8)", request=CONSOLE, responses={200: {"type": "object"}})
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        if not at_least(req, "2.6"):
            raise NotFound("The resource could not be found (it needs microversion 2.6 or later).")
        wanted = req.context.body["remote_console"]
        if wanted["protocol"] == "mks" and not at_least(req, "2.8"):
            raise Invalid("Invalid input for field/attribute protocol: 'mks' needs microversion 2.8 or later")
        url = open_console(self.compute, req, self.policy, server_id, wanted["protocol"], wanted["type"])
        resp.media = {"remote_console": {"protocol": wanted["protocol"], "type": wanted["type"], "url": url}}


def legacy_action(compute: Any, req: falcon.Request, resp: falcon.Response, policy: Policy, server_id: str,
                  name: str, argument: dict[str, Any]) -> None:
    """``os-getVNCConsole`` and its siblings, before 2.6."""
    if at_least(req, "2.6"):
        raise NotFound(f"{name} is replaced by POST /servers/{{server_id}}/remote-consoles from microversion 2.6.")
    url = open_console(compute, req, policy, server_id, LEGACY[name], str(argument["type"]))
    resp.status, resp.media = 200, {"console": {"type": argument["type"], "url": url}}
