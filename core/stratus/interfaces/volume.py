"""The volume-backend slot (entry points ``stratus.volume``).

One volume service runs per enabled backend and calls its driver; the driver manages
storage only. Volume metadata (status, attachments, quotas) stays in the core. Like
Cinder's, a backend reads its options from the group named after it (``[volume]
enabled_backends = fast`` with ``[fast] volume_driver = file`` and the file backend's
options in ``[fast]``), so several backends of one driver coexist.

Mandatory: :class:`VolumeBackend` (create, delete, stats, connections, image data).
Optional: :class:`Snapshots`, :class:`Clone`, :class:`Extend`, :class:`Revert`, each with its
capability.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class VolumeCapability(enum.Flag):
    NONE = 0
    SNAPSHOT = enum.auto()
    CLONE = enum.auto()
    EXTEND = enum.auto()
    #: space is allocated on write; ``BackendStats.provisioned_gb`` may exceed total
    THIN_PROVISIONING = enum.auto()
    #: a volume may be connected to several hosts at once
    MULTIATTACH = enum.auto()
    #: ``extend_volume`` works while the volume is connected
    ONLINE_EXTEND = enum.auto()
    #: a volume can go back to the contents of its latest snapshot
    REVERT = enum.auto()
    #: storage made outside the cloud can be adopted as a volume, and let go again
    MANAGE = enum.auto()


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    id: str
    size_gb: int
    name: str = ""
    #: the volume type's extra specs that concern the backend
    extra_specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SnapshotSpec:
    id: str
    volume_id: str
    size_gb: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class Connector:
    """Who wants to use the volume: the compute host's description of itself."""

    host: str
    ip: str | None = None
    initiator: str | None = None
    multipath: bool = False


@dataclass(frozen=True, slots=True)
class VolumeConnection:
    """How ``Connector.host`` reaches the volume (``driver_volume_type``: file, iscsi, rbd...)."""

    driver_volume_type: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class BackendStats:
    backend_name: str
    vendor_name: str
    total_gb: float
    free_gb: float
    #: what the backend's volumes promise in all (their sizes), used or not
    provisioned_gb: float = 0.0
    #: how hosts reach its volumes (the connections' ``driver_volume_type``: file, iscsi, rbd...)
    storage_protocol: str = "unknown"


#: the largest chunk :meth:`VolumeBackend.copy_volume_to_image` may yield
CHUNK_LIMIT = 16 * 1024 * 1024


class VolumeBackend(Driver):
    """Storage for volumes of one backend."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = VolumeCapability
    capabilities: ClassVar[enum.Flag] = VolumeCapability.NONE

    def __init__(self, conf: Any, backend_name: str = "default") -> None:
        super().__init__(conf)
        self.backend_name = backend_name
        opts = list(self.backend_opts())
        conf.register_opts(opts, group=backend_name)
        #: the backend's group (None for a driver without :meth:`backend_opts`)
        self.options = conf[backend_name] if opts else None

    @classmethod
    def backend_opts(cls) -> Sequence[Any]:
        """The ``oslo_config.cfg.Opt`` objects read from the backend's own group."""
        return []

    @abc.abstractmethod
    def setup(self) -> None:
        """Check the backend is usable and prepare it (create the pool, the directory).

        Called once at volume-service start.

        :raises MissingDependency: a tool or library is absent (say which to install).
        :raises BackendUnavailable: the storage cannot be reached.
        """

    @abc.abstractmethod
    def get_stats(self) -> BackendStats:
        """Return current capacity figures; called periodically, must be cheap."""

    @abc.abstractmethod
    def create_volume(self, volume: VolumeSpec) -> None:
        """Create an empty volume of ``volume.size_gb`` GiB that reads as zeroes.

        On failure nothing is left behind.

        :raises Conflict: a volume with this id exists.
        :raises QuotaExceeded: the backend lacks space (mapped to the volume's error).
        """

    @abc.abstractmethod
    def delete_volume(self, volume: VolumeSpec) -> None:
        """Delete the volume and its data. Idempotent: an absent volume succeeds.

        :raises Conflict: the volume still has snapshots the backend cannot orphan.
        """

    @abc.abstractmethod
    def initialize_connection(self, volume: VolumeSpec, connector: Connector) -> VolumeConnection:
        """Export the volume to ``connector`` and say how to reach it.

        Idempotent for the same connector. :raises NotFound: unknown volume.
        """

    @abc.abstractmethod
    def terminate_connection(self, volume: VolumeSpec, connector: Connector) -> None:
        """Stop exporting the volume to ``connector``. Idempotent."""

    @abc.abstractmethod
    def copy_image_to_volume(self, volume: VolumeSpec, data: Iterable[bytes]) -> None:
        """Write raw image bytes from the start of an existing volume; what lies past
        them reads as before (zeroes on a new volume).

        ``data`` yields bounded chunks; the driver must not hold the whole image in
        memory. :raises Invalid: the data is larger than the volume (the volume's
        contents are then undefined: the core marks it ``error``).
        :raises NotFound: unknown volume.
        """

    @abc.abstractmethod
    def copy_volume_to_image(self, volume: VolumeSpec) -> Iterator[bytes]:
        """Yield the volume's raw contents, ``size_gb`` GiB, in chunks of at most
        ``CHUNK_LIMIT`` bytes. :raises NotFound: unknown volume (before the first chunk)."""


class Snapshots(abc.ABC):
    """Capability ``SNAPSHOT``."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot: SnapshotSpec) -> None:
        """Take a point-in-time snapshot. :raises NotFound: unknown volume."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot: SnapshotSpec) -> None:
        """Delete the snapshot. Idempotent."""

    @abc.abstractmethod
    def create_volume_from_snapshot(self, volume: VolumeSpec, snapshot: SnapshotSpec) -> None:
        """Create ``volume`` holding the snapshot's data (``volume`` may be larger)."""


class Clone(abc.ABC):
    """Capability ``CLONE``."""

    @abc.abstractmethod
    def create_cloned_volume(self, volume: VolumeSpec, source: VolumeSpec) -> None:
        """Create ``volume`` as a copy of ``source`` (``volume`` may be larger)."""


class Extend(abc.ABC):
    """Capability ``EXTEND``."""

    @abc.abstractmethod
    def extend_volume(self, volume: VolumeSpec, new_size_gb: int) -> None:
        """Grow the volume; existing data is kept. :raises Invalid: not larger."""


class Revert(abc.ABC):
    """Capability ``REVERT``."""

    @abc.abstractmethod
    def revert_to_snapshot(self, volume: VolumeSpec, snapshot: SnapshotSpec) -> None:
        """Make ``volume`` hold ``snapshot``'s data again, at the volume's (possibly larger)
        size; the snapshot stays. Whole or not at all: on failure the volume is as it was.

        :raises NotFound: unknown volume or snapshot.
        """


class Manage(abc.ABC):
    """Capability ``MANAGE`` (Cinder's manage/unmanage, for administrators)."""

    @abc.abstractmethod
    def manage_existing(self, volume: VolumeSpec, ref: Mapping[str, str]) -> int:
        """Adopt the storage object ``ref`` names (``source-name``...) as ``volume``; its size in
        GiB, rounded up (the object grows to it). Its data is kept.

        :raises NotFound: nothing of that name. :raises Invalid: ``ref`` names nothing this
            backend understands.
        """

    @abc.abstractmethod
    def unmanage(self, volume: VolumeSpec) -> str:
        """Let the volume go: its data stays in the storage but no longer as this volume; the
        name it stays under (what ``manage_existing`` would take back)."""


VolumeBackend.CAPABILITY_INTERFACES = {
    VolumeCapability.SNAPSHOT: Snapshots,
    VolumeCapability.CLONE: Clone,
    VolumeCapability.EXTEND: Extend,
    VolumeCapability.REVERT: Revert,
    VolumeCapability.MANAGE: Manage,
}
