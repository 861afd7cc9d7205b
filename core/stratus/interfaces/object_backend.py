"""The object-backend slot (entry points ``stratus.object_backend``).

Stores accounts' containers and objects for the Swift-compatible object service. The
service handles auth, ACLs, large-object manifests and listings' formatting; the backend
stores containers, objects and their metadata.

Names are Swift's: UTF-8, container at most 256 bytes, object at most 1024 bytes, checked
by the service before the backend sees them.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class ObjectBackendCapability(enum.Flag):
    NONE = 0
    #: ``copy_object`` copies without streaming through the service (:class:`ServerSideCopy`)
    SERVER_SIDE_COPY = enum.auto()


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    name: str
    size: int
    etag: str
    content_type: str
    last_modified: float
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    name: str
    object_count: int
    bytes_used: int
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Listing:
    """Parameters of a container or object listing, Swift's semantics."""

    prefix: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = 10000
    delimiter: str = ""
    reverse: bool = False


class ObjectBackend(Driver):
    """Containers and objects of every account."""

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = ObjectBackendCapability
    capabilities: ClassVar[enum.Flag] = ObjectBackendCapability.NONE

    @abc.abstractmethod
    def put_container(self, account: str, container: str, metadata: Mapping[str, str]) -> bool:
        """Create the container, or merge ``metadata`` into an existing one.

        Returns True when it was created. Idempotent.
        """

    @abc.abstractmethod
    def get_container(self, account: str, container: str) -> ContainerInfo:
        """:raises NotFound: no such container."""

    @abc.abstractmethod
    def delete_container(self, account: str, container: str) -> None:
        """:raises NotFound: no such container. :raises Conflict: it still holds objects."""

    @abc.abstractmethod
    def list_containers(self, account: str, listing: Listing) -> list[ContainerInfo]:
        """Containers of ``account`` in byte order of their UTF-8 names, per ``listing``.

        With a ``delimiter``, names are rolled up into prefixes returned with
        ``object_count == -1``.
        """

    @abc.abstractmethod
    def list_objects(self, account: str, container: str, listing: Listing) -> list[ObjectInfo]:
        """Objects in byte order, per ``listing``; rolled-up prefixes have ``size == -1``.

        :raises NotFound: no such container.
        """

    @abc.abstractmethod
    def put_object(
        self,
        account: str,
        container: str,
        name: str,
        data: Iterable[bytes],
        content_type: str,
        metadata: Mapping[str, str],
    ) -> ObjectInfo:
        """Store an object, replacing any previous one atomically; return its info.

        ``etag`` is the hex MD5 of the bytes stored. Readers see the old object or the
        new one, never a mix. If ``data`` raises, nothing new is kept.

        :raises NotFound: no such container.
        """

    @abc.abstractmethod
    def get_object(
        self, account: str, container: str, name: str, offset: int = 0, length: int | None = None
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """Return the object's info and an iterator over the byte range asked for.

        :raises NotFound: no such object.
        """

    @abc.abstractmethod
    def head_object(self, account: str, container: str, name: str) -> ObjectInfo:
        """:raises NotFound: no such object."""

    @abc.abstractmethod
    def post_object(self, account: str, container: str, name: str, metadata: Mapping[str, str]) -> ObjectInfo:
        """Replace the object's user metadata (Swift POST semantics). :raises NotFound."""

    @abc.abstractmethod
    def delete_object(self, account: str, container: str, name: str) -> None:
        """:raises NotFound: no such object."""


class ServerSideCopy(abc.ABC):
    """Capability ``SERVER_SIDE_COPY``."""

    @abc.abstractmethod
    def copy_object(
        self, account: str, src_container: str, src_name: str, dst_container: str, dst_name: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Copy inside the backend; ``metadata`` replaces the source's when given.

        :raises NotFound: source object or destination container missing.
        """


ObjectBackend.CAPABILITY_INTERFACES = {ObjectBackendCapability.SERVER_SIDE_COPY: ServerSideCopy}
