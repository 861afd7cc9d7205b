"""The backup-target slot (entry points ``stratus.backup_target``): where volume backups go.

The block-storage service cuts a volume into chunks and keeps each changed one, and a
description of the backup, as named objects of the backup; the target only stores and
returns those objects. ``file`` (a directory) is in the core; ``swift`` (any Swift-API
object store, Stratus's own included) is in the stratus-swift package.
"""

from __future__ import annotations

import abc
import enum
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class BackupTargetCapability(enum.Flag):
    NONE = 0


class BackupTarget(Driver):
    """Named objects grouped by backup."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = BackupTargetCapability
    capabilities: ClassVar[enum.Flag] = BackupTargetCapability.NONE

    @abc.abstractmethod
    def setup(self) -> None:
        """Check the target is usable and prepare it. :raises BackendUnavailable: it is not."""

    @abc.abstractmethod
    def put(self, backup_id: str, name: str, data: bytes) -> None:
        """Store ``data`` as object ``name`` of the backup: whole or not at all; a second put
        of the same name replaces it. :raises QuotaExceeded: no room. :raises BackendUnavailable:"""

    @abc.abstractmethod
    def get(self, backup_id: str, name: str) -> bytes:
        """The object's bytes. :raises NotFound: no such object."""

    @abc.abstractmethod
    def delete(self, backup_id: str) -> None:
        """Remove every object of the backup. Idempotent."""
