"""The ``swift`` backup target: volume backups as objects in a Swift-compatible object store
(Stratus's own object service, Swift, Ceph's RADOS gateway), as Cinder's Swift backup driver
keeps them.

Each backup is the objects ``<backup id>/<name>`` of the container ``[backup_swift]
container``; the connection is configured in ``[backup_swift]`` with the same options as a
swift image store (Keystone v3 and the catalog, v1, or a preauthenticated URL). A PUT is
whole or not at all (Swift's), a second one replaces the object; deleting a backup lists
its objects and deletes each.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Invalid, NotFound, PayloadTooLarge, QuotaExceeded
from stratus.interfaces.backup_target import BackupTarget, BackupTargetCapability
from stratus_swift.client import CONNECTION_OPTS, SwiftConnection

GROUP = "backup_swift"
OPTS = [
    *CONNECTION_OPTS,
    cfg.StrOpt("container", default="volumebackups", help="Container holding the backups (made when missing)."),
]
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_LISTING_LIMIT = 10000


class SwiftBackupTarget(BackupTarget):
    api_version = (1, 0)
    capabilities = BackupTargetCapability.NONE

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[cfg.Opt]]]:
        return [(GROUP, OPTS)]

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        options = conf[GROUP]
        self.container = options.container
        self.connection = SwiftConnection(options, GROUP)

    def _path(self, backup_id: str, name: str | None = None) -> str:
        for part in (backup_id, name):
            if part is not None and not _SAFE.match(part):
                raise Invalid(f"{part!r} cannot name a backup object")
        return f"{self.container}/{backup_id}/{name}" if name is not None else f"{self.container}/{backup_id}/"

    def setup(self) -> None:
        head = self.connection.request("HEAD", self.container)
        if head.status_code == 404:
            made = self.connection.request("PUT", self.container)
            self.connection.check(made, f"backup container {self.container}")
        else:
            self.connection.check(head, f"backup container {self.container}")

    def put(self, backup_id: str, name: str, data: bytes) -> None:
        response = self.connection.request("PUT", self._path(backup_id, name), data=data)
        try:
            self.connection.check(response, f"backup object {backup_id}/{name}")
        except NotFound:
            raise BackendUnavailable(f"backup container {self.container} is gone (setup makes it)") from None
        except PayloadTooLarge as exc:
            raise QuotaExceeded(str(exc)) from None

    def get(self, backup_id: str, name: str) -> bytes:
        response = self.connection.request("GET", self._path(backup_id, name))
        return self.connection.check(response, f"backup object {backup_id}/{name}").content

    def _names(self, backup_id: str) -> list[str]:
        found: list[str] = []
        marker = ""
        while True:
            query = urllib.parse.urlencode({"prefix": f"{backup_id}/", "marker": marker, "format": "json",
                                            "limit": _LISTING_LIMIT})
            response = self.connection.request("GET", f"{self.container}?{query}")
            if response.status_code == 404:
                return found
            page = [entry["name"] for entry in self.connection.check(response, "backup listing").json()]
            found.extend(page)
            if len(page) < _LISTING_LIMIT:
                return found
            marker = page[-1]

    def delete(self, backup_id: str) -> None:
        self._path(backup_id)
        for name in self._names(backup_id):
            response = self.connection.request("DELETE", f"{self.container}/{urllib.parse.quote(name)}")
            if response.status_code != 404:
                self.connection.check(response, f"backup object {name}")


def list_opts() -> list[tuple[Any, list[cfg.Opt]]]:
    """For ``stratus config sample``."""
    return [(cfg.OptGroup(GROUP, help="The swift backup target ([backup] backup_driver = swift)."), OPTS)]

