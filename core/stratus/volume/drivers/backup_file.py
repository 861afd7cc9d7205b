"""The ``file`` backup target: each backup a directory of files under ``[backup] file_dir``,
each object written to a temporary file, fsync'ed and renamed into place."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Invalid, NotFound, QuotaExceeded
from stratus.interfaces.backup_target import BackupTarget, BackupTargetCapability

OPTS = [cfg.StrOpt("file_dir", help="Directory the file backup target keeps backups in (default: "
                   "$state_path/backups).")]
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class FileBackupTarget(BackupTarget):
    api_version = (1, 0)
    capabilities = BackupTargetCapability.NONE

    @classmethod
    def list_opts(cls) -> list[tuple[str, list[cfg.Opt]]]:
        return [("backup", OPTS)]

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self.root = os.path.abspath(conf.backup.file_dir or os.path.join(conf.state_path, "backups"))

    def _dir(self, backup_id: str) -> str:
        if not _SAFE.match(backup_id):
            raise Invalid(f"{backup_id!r} is not a backup id this target can store")
        return os.path.join(self.root, backup_id)

    def _path(self, backup_id: str, name: str) -> str:
        if not _SAFE.match(name):
            raise Invalid(f"{name!r} is not an object name this target can store")
        return os.path.join(self._dir(backup_id), name)

    def setup(self) -> None:
        try:
            os.makedirs(self.root, mode=0o750, exist_ok=True)
        except OSError as exc:
            raise BackendUnavailable(f"backup directory {self.root}: {exc.strerror}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise BackendUnavailable(f"backup directory {self.root} is not writable")

    def put(self, backup_id: str, name: str, data: bytes) -> None:
        path = self._path(backup_id, name)
        try:
            os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), prefix=".incoming-", delete=False) as f:
                temporary = f.name
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise QuotaExceeded(f"backup directory {self.root} is full") from exc
            raise BackendUnavailable(f"backup directory {self.root}: {exc.strerror}") from exc

    def get(self, backup_id: str, name: str) -> bytes:
        try:
            with open(self._path(backup_id, name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise NotFound(f"object {name} of backup {backup_id} not found in {self.root}") from None
        except OSError as exc:
            raise BackendUnavailable(f"backup directory {self.root}: {exc.strerror}") from exc

    def delete(self, backup_id: str) -> None:
        shutil.rmtree(self._dir(backup_id), ignore_errors=True)
