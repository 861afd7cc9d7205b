"""The object-backend slot (entry points ``stratus.object_backend``).

A backend keeps the bytes of objects; the object service keeps everything else in its own
database (accounts, containers, object names, sizes, ETags, metadata, listings). The
service chooses a fresh key for every write and points its object row at it once the
write has finished, so a backend never overwrites in place: replacing an object is a
``put`` under a new key, then a ``delete`` of the old one after the row moved.

Keys are opaque to the backend: 1-128 characters of ``[A-Za-z0-9._-]``, never starting
with a dot, chosen by the service.

2.0 replaced 1.0, whose backends stored containers and metadata themselves.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (2, 0)


class ObjectBackendCapability(enum.Flag):
    NONE = 0
    #: ``copy`` duplicates stored bytes without streaming them through the service
    #: (:class:`ServerSideCopy`)
    SERVER_SIDE_COPY = enum.auto()


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What a finished ``put`` stored: ``etag`` is the hex MD5 of exactly those bytes."""

    key: str
    size: int
    etag: str


class ObjectBackend(Driver):
    """Bytes of objects under keys the service chooses."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = ObjectBackendCapability
    capabilities: ClassVar[enum.Flag] = ObjectBackendCapability.NONE

    @abc.abstractmethod
    def setup(self) -> None:
        """Make the backend ready (directories, pools) and drop what interrupted writes left.

        Idempotent; called at every start of the object service.

        :raises BackendUnavailable: the storage cannot be reached or prepared.
        """

    @abc.abstractmethod
    def put(self, key: str, data: Iterable[bytes]) -> StoredObject:
        """Store the bytes ``data`` yields under ``key``; return their size and MD5.

        The MD5 is computed while the bytes stream through: ``data`` is read once, memory
        stays bounded whatever the size. Nothing is readable under ``key`` until every
        byte is stored (and durable, where the backend promises durability). If ``data``
        raises (client went away, size limit) or storage fails, nothing is kept and the
        exception propagates.

        :raises Conflict: ``key`` already holds data.
        :raises PayloadTooLarge: the backend ran out of space (nothing kept).
        :raises Invalid: ``key`` is not a key as described above.
        """

    @abc.abstractmethod
    def get(self, key: str, offset: int = 0, length: int | None = None,
            chunk_size: int = 65536) -> Iterator[bytes]:
        """Yield ``length`` bytes (to the end when None) from ``offset``.

        Chunks are at most ``chunk_size`` bytes. The bytes stay readable to the end of the
        iteration even if ``delete`` runs meanwhile (a reader that started gets the whole
        object). The iterator releases its resources when exhausted or closed.

        :raises NotFound: nothing under ``key``.
        :raises Invalid: ``offset`` past the end, or a negative ``offset``/``length``.
        """

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Bytes stored under ``key``. :raises NotFound: nothing under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove what ``key`` holds. Idempotent: an absent key succeeds."""


class ServerSideCopy(abc.ABC):
    """Capability ``SERVER_SIDE_COPY``."""

    @abc.abstractmethod
    def copy(self, source: str, key: str) -> int:
        """Make ``key`` hold the same bytes as ``source``; return their size.

        Same guarantees as ``put``: nothing readable under ``key`` until complete.

        :raises NotFound: nothing under ``source``.
        :raises Conflict: ``key`` already holds data.
        """


ObjectBackend.CAPABILITY_INTERFACES = {ObjectBackendCapability.SERVER_SIDE_COPY: ServerSideCopy}
