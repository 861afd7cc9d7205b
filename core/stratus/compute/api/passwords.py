"""``/servers/{id}/os-server-password`` (Nova v2.1): the administrator password a guest
encrypted with its key pair and posted (through a metadata service), for its owner to
read and decrypt; deleting clears it. Empty until a guest posts one."""

from __future__ import annotations

from typing import Any

import falcon

from stratus.api.policy import Policy, enforce
from stratus.api.validation import schema
from stratus.compute.api.servers import find


class ServerPassword:
    def __init__(self, compute: Any, policy: Policy) -> None:
        self.compute, self.policy = compute, policy

    @schema("Show a server's encrypted password", responses={200: {"type": "object", "required": ["password"]}})
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.reading() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-server-password:show", {"project_id": instance.project_id})
            resp.media = {"password": instance.password or ""}

    @schema("Clear a server's encrypted password", responses={204: None})
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        with self.compute.db.transaction() as session:
            instance = find(session, req, server_id)
            enforce(req, self.policy, "os_compute_api:os-server-password:clear",
                    {"project_id": instance.project_id})
            instance.password = None
        resp.status = 204
