"""The ``file`` volume backend: each volume a sparse raw file in a directory.

A volume is ``volume-<id>`` under the backend's ``datadir``, created sparse (it takes
space only where written: thin provisioning); a snapshot is ``snapshot-<id>``, a sparse
copy of its volume taken at once, so volumes and snapshots never depend on each other and
either can go first. New files are made under a hidden temporary name and linked into
place when complete, so a volume or snapshot is either whole or absent; leftovers of an
interrupted copy are removed at :meth:`FileBackend.setup`. The connection type is
``file``: a hypervisor on the same host opens ``data["path"]`` (format ``raw``).

Not yet: qcow2 files (with ``qemu-img``), and online extend (a connected guest would
need telling of the new size).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from oslo_config import cfg

from stratus.exceptions import BackendUnavailable, Conflict, Invalid, NotFound, QuotaExceeded
from stratus.interfaces import volume
from stratus.interfaces.volume import (
    BackendStats,
    Connector,
    SnapshotSpec,
    VolumeCapability,
    VolumeConnection,
    VolumeSpec,
)

OPTS = [
    cfg.StrOpt("datadir", help="Directory holding this backend's volume and snapshot files (default: "
               "$state_path/volumes/<backend name>)."),
]
GIB = 1024 ** 3
COPY_CHUNK = 1024 * 1024
_ZEROES = bytes(COPY_CHUNK)
_TEMP_PREFIX = ".incoming-"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class FileBackend(volume.VolumeBackend, volume.Snapshots, volume.Clone, volume.Extend, volume.Revert,
                  volume.Manage):
    api_version = (1, 0)
    capabilities = (VolumeCapability.SNAPSHOT | VolumeCapability.CLONE | VolumeCapability.EXTEND
                    | VolumeCapability.REVERT | VolumeCapability.MANAGE | VolumeCapability.THIN_PROVISIONING)

    @classmethod
    def backend_opts(cls) -> list[cfg.Opt]:
        return OPTS

    def __init__(self, conf: Any, backend_name: str = "default") -> None:
        super().__init__(conf, backend_name)
        self.datadir = os.path.abspath(self.options.datadir or os.path.join(conf.state_path, "volumes",
                                                                            backend_name))

    # -- files -------------------------------------------------------------------------

    def _path(self, kind: str, item_id: str) -> str:
        if not _SAFE_ID.match(item_id):
            raise Invalid(f"{item_id!r} is not a {kind} id this backend can store")
        return os.path.join(self.datadir, f"{kind}-{item_id}")

    def _existing(self, kind: str, item_id: str) -> str:
        path = self._path(kind, item_id)
        if not os.path.isfile(path):
            raise NotFound(f"{kind.capitalize()} {item_id} not found in backend {self.backend_name!r}")
        return path

    @contextlib.contextmanager
    def _new_file(self, path: str) -> Iterator[Any]:
        """A temporary file in the directory, linked as ``path`` if the block completes
        (refused if ``path`` exists), removed in any case."""
        if os.path.exists(path):
            raise Conflict(f"{os.path.basename(path)} exists in backend {self.backend_name!r}")
        try:
            handle = tempfile.NamedTemporaryFile(dir=self.datadir, prefix=_TEMP_PREFIX, delete=False)  # noqa: SIM115
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        try:
            with handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, 0o600)
            try:
                os.link(handle.name, path)  # unlike rename, refuses to replace a file made meanwhile
            except FileExistsError:
                raise Conflict(f"{os.path.basename(path)} exists in backend {self.backend_name!r}") from None
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)

    # -- mandatory ---------------------------------------------------------------------

    def setup(self) -> None:
        try:
            os.makedirs(self.datadir, mode=0o750, exist_ok=True)
            for name in os.listdir(self.datadir):  # copies a crash interrupted
                if name.startswith(_TEMP_PREFIX):
                    os.remove(os.path.join(self.datadir, name))
        except OSError as exc:
            raise BackendUnavailable(f"volume directory {self.datadir}: {exc.strerror}") from exc
        if not os.access(self.datadir, os.W_OK | os.X_OK):
            raise BackendUnavailable(f"volume directory {self.datadir} is not writable")

    def get_stats(self) -> BackendStats:
        fs = os.statvfs(self.datadir)
        provisioned = 0
        with os.scandir(self.datadir) as entries:
            for entry in entries:
                if entry.name.startswith("volume-"):
                    provisioned += entry.stat().st_size
        return BackendStats(self.backend_name, "Stratus", total_gb=fs.f_blocks * fs.f_frsize / GIB,
                            free_gb=fs.f_bavail * fs.f_frsize / GIB, provisioned_gb=provisioned / GIB,
                            storage_protocol="file")

    def create_volume(self, volume: VolumeSpec) -> None:
        with self._new_file(self._path("volume", volume.id)) as handle:
            handle.truncate(_size(volume))

    def delete_volume(self, volume: VolumeSpec) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path("volume", volume.id))

    def initialize_connection(self, volume: VolumeSpec, connector: Connector) -> VolumeConnection:
        path = self._existing("volume", volume.id)
        return VolumeConnection("file", {"path": path, "format": "raw", "volume_id": volume.id})

    def terminate_connection(self, volume: VolumeSpec, connector: Connector) -> None:
        """Nothing is exported: the file stays where it is."""

    def copy_image_to_volume(self, volume: VolumeSpec, data: Iterable[bytes]) -> None:
        path = self._existing("volume", volume.id)
        size = os.path.getsize(path)
        offset = 0
        try:
            fd = os.open(path, os.O_RDWR)
            try:
                for chunk in data:
                    if offset + len(chunk) > size:
                        raise Invalid(f"The image is larger than the volume's {size // GIB} GiB")
                    # zeroes over a hole stay a hole: the file stays sparse
                    if not _zero(chunk) or not _is_hole(fd, offset, len(chunk)):
                        os.pwrite(fd, chunk, offset)
                    offset += len(chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc

    def copy_volume_to_image(self, volume: VolumeSpec) -> Iterator[bytes]:
        handle = open(self._existing("volume", volume.id), "rb")  # noqa: SIM115 - closed by the generator
        return _sparse_chunks(handle)

    # -- capabilities ------------------------------------------------------------------

    def create_snapshot(self, snapshot: SnapshotSpec) -> None:
        source = self._existing("volume", snapshot.volume_id)
        with self._new_file(self._path("snapshot", snapshot.id)) as handle:
            _sparse_copy(source, handle, os.path.getsize(source))

    def delete_snapshot(self, snapshot: SnapshotSpec) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path("snapshot", snapshot.id))

    def create_volume_from_snapshot(self, volume: VolumeSpec, snapshot: SnapshotSpec) -> None:
        self._copy_into(volume, self._existing("snapshot", snapshot.id))

    def create_cloned_volume(self, volume: VolumeSpec, source: VolumeSpec) -> None:
        self._copy_into(volume, self._existing("volume", source.id))

    def _copy_into(self, volume: VolumeSpec, source: str) -> None:
        length = os.path.getsize(source)
        if _size(volume) < length:
            raise Invalid(f"A volume of {volume.size_gb} GiB cannot hold its source's {length // GIB} GiB")
        with self._new_file(self._path("volume", volume.id)) as handle:
            _sparse_copy(source, handle, length)
            handle.truncate(_size(volume))

    def revert_to_snapshot(self, volume: VolumeSpec, snapshot: SnapshotSpec) -> None:
        target = self._existing("volume", volume.id)
        source = self._existing("snapshot", snapshot.id)
        size = max(os.path.getsize(target), os.path.getsize(source))
        try:
            handle = tempfile.NamedTemporaryFile(dir=self.datadir, prefix=_TEMP_PREFIX, delete=False)  # noqa: SIM115
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        try:
            with handle:
                _sparse_copy(source, handle, os.path.getsize(source))
                handle.truncate(size)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, 0o600)
            os.replace(handle.name, target)  # the volume is the old file or the new one, never a mix
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)

    def manage_existing(self, volume: VolumeSpec, ref: Mapping[str, str]) -> int:
        """``ref``: ``source-name``, a file directly in the backend's directory (not one of its
        own volume or snapshot files); it is renamed to the volume's name."""
        name = str(ref.get("source-name") or "")
        if not _SAFE_ID.match(name) or name.startswith(("volume-", "snapshot-", _TEMP_PREFIX)):
            raise Invalid(f"source-name {name!r} is not a file this backend can adopt")
        source = os.path.join(self.datadir, name)
        if not os.path.isfile(source):
            raise NotFound(f"no file {name!r} in backend {self.backend_name!r}")
        target = self._path("volume", volume.id)
        size_gb = max(1, -(-os.path.getsize(source) // GIB))
        try:
            os.truncate(source, size_gb * GIB)  # whole GiB, as volumes are; the data is kept
            os.link(source, target)
            os.unlink(source)
        except FileExistsError:
            raise Conflict(f"volume-{volume.id} exists in backend {self.backend_name!r}") from None
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        return size_gb

    def unmanage(self, volume: VolumeSpec) -> str:
        name = f"unmanaged-{volume.id}"
        try:
            os.rename(self._existing("volume", volume.id), os.path.join(self.datadir, name))
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc
        return name

    def extend_volume(self, volume: VolumeSpec, new_size_gb: int) -> None:
        path = self._existing("volume", volume.id)
        if new_size_gb * GIB <= os.path.getsize(path):
            raise Invalid(f"New size for extend must be greater than current size ({new_size_gb} GiB)")
        try:
            os.truncate(path, new_size_gb * GIB)
        except OSError as exc:
            raise _space_or_unavailable(exc, self.datadir) from exc


def _size(volume: VolumeSpec) -> int:
    if volume.size_gb < 1:
        raise Invalid(f"Volume size {volume.size_gb} GiB is not a positive number of GiB")
    return volume.size_gb * GIB


def _zero(chunk: bytes) -> bool:
    return chunk is _ZEROES or chunk == (_ZEROES if len(chunk) == COPY_CHUNK else bytes(len(chunk)))


def _sparse_chunks(handle: Any) -> Iterator[bytes]:
    """The file's bytes in chunks; its holes as zeroes, without reading them."""
    with handle:
        fd, size, offset = handle.fileno(), os.fstat(handle.fileno()).st_size, 0
        while offset < size:
            length = min(COPY_CHUNK, size - offset)
            if _is_hole(fd, offset, length):
                yield _ZEROES[:length] if length < COPY_CHUNK else _ZEROES
            else:
                yield os.pread(fd, length, offset)
            offset += length


def _is_hole(fd: int, offset: int, length: int) -> bool:
    """Whether the file holds no data in ``[offset, offset + length)``."""
    try:
        return os.lseek(fd, offset, os.SEEK_DATA) >= offset + length
    except OSError as exc:
        return exc.errno == errno.ENXIO  # no data at all past offset


def _sparse_copy(source: str, target: Any, length: int) -> None:
    """Copy ``length`` bytes of ``source`` to the start of the open ``target``, leaving
    holes where the source has zeroes."""
    for chunk in _sparse_chunks(open(source, "rb")):  # noqa: SIM115 - closed by the generator
        if _zero(chunk):
            target.seek(len(chunk), os.SEEK_CUR)
        else:
            target.write(chunk)
    target.truncate(length)


def _space_or_unavailable(exc: OSError, where: str) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return QuotaExceeded(f"No space left for volumes in {where}")
    return BackendUnavailable(f"volume directory {where}: {exc.strerror or exc}")
