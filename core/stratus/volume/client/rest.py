"""The volume client over Cinder's public API v3 at microversion 3.44 (Stratus's block-storage
API or upstream Cinder), as Nova drives it: attachments reserved with the caller's token,
connected, completed and deleted."""

from __future__ import annotations

import contextlib
from typing import Any

from stratus.exceptions import NotFound
from stratus.service_auth import ServiceAuth, request
from stratus.volume.client import VolumeClient, VolumeInfo

GROUP = "volume_client"
MICROVERSION = {"OpenStack-API-Version": "volume 3.44"}


class RestVolumeClient(VolumeClient):
    def __init__(self, conf: Any, auth: ServiceAuth) -> None:
        self.conf, self.auth = conf, auth

    def close(self) -> None:
        """Nothing of its own to release (the session is the process's)."""

    def _call(self, method: str, url: str, what: str, context: Any = None, **kwargs: Any) -> Any:
        response = request(self.auth.adapter(GROUP, context), method, url, what,
                           headers={**MICROVERSION, **kwargs.pop("headers", {})}, **kwargs)
        return response.json() if response.content else None

    def show(self, volume_id: str, context: Any = None) -> VolumeInfo | None:
        try:
            volume = self._call("GET", f"/volumes/{volume_id}", f"volume {volume_id}", context)["volume"]
        except NotFound:
            return None
        return VolumeInfo(volume["id"], volume["status"], volume["size"],
                          volume.get("os-vol-tenant-attr:tenant_id"), bool(volume.get("multiattach")),
                          str(volume.get("bootable")).lower() == "true", volume.get("availability_zone"),
                          {a["server_id"]: a["attachment_id"] for a in volume.get("attachments", [])
                           if a.get("server_id")})

    def reserve(self, volume_id: str, server_id: str, context: Any = None) -> str:
        body = {"attachment": {"volume_uuid": volume_id, "instance_uuid": server_id}}
        return self._call("POST", "/attachments", f"volume {volume_id}", context, json=body)["attachment"]["id"]

    def connect(self, attachment_id: str, connector: dict[str, Any], context: Any = None) -> dict[str, Any]:
        body = {"attachment": {"connector": connector}}
        answer = self._call("PUT", f"/attachments/{attachment_id}", f"attachment {attachment_id}", context, json=body)
        return answer["attachment"]["connection_info"]

    def complete(self, attachment_id: str, context: Any = None) -> None:
        self._call("POST", f"/attachments/{attachment_id}/action", f"attachment {attachment_id}", context,
                   json={"os-complete": None})

    def detach(self, attachment_id: str, context: Any = None) -> None:
        with contextlib.suppress(NotFound):
            self._call("DELETE", f"/attachments/{attachment_id}", f"attachment {attachment_id}", context)

    def delete(self, volume_id: str, context: Any = None, force: bool = False) -> None:
        with contextlib.suppress(NotFound):
            self._call("DELETE", f"/volumes/{volume_id}", f"volume {volume_id}", context,
                       params={"force": "true"} if force else None)

    def create(self, size: int, context: Any = None, *, name: str | None = None, image_id: str | None = None,
               snapshot_id: str | None = None, volume_type: str | None = None,
               availability_zone: str | None = None) -> str:
        body = {k: v for k, v in {"size": size, "name": name, "imageRef": image_id, "snapshot_id": snapshot_id,
                                  "volume_type": volume_type, "availability_zone": availability_zone}.items()
                if v is not None}
        return self._call("POST", "/volumes", "a new volume", context, json={"volume": body})["volume"]["id"]
