"""The image-store slot (entry points ``stratus.image_store``).

A store keeps image bytes; the image service keeps everything else (status, checksums,
quotas, which store holds what). The core computes checksums and enforces quotas on the
stream it hands to :meth:`WritableStore.add`, so stores only move bytes.

Mandatory: :class:`ImageStore` (read). Optional: :class:`WritableStore` (capability
``WRITE``). ``http`` is read-only: it implements only the mandatory part.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stratus.interfaces.base import ApiVersion, Driver

API_VERSION: ApiVersion = (1, 0)


class ImageStoreCapability(enum.Flag):
    NONE = 0
    #: ``add`` and ``delete`` work (the store implements :class:`WritableStore`)
    WRITE = enum.auto()
    #: ``get`` honours ``offset``/``length`` without reading what comes before
    READ_RANGE = enum.auto()
    #: locations can be handed to other services for direct access (e.g. RBD clone)
    DIRECT_URL = enum.auto()


@dataclass(frozen=True, slots=True)
class Location:
    """Where a store keeps an image: a URL of the store's scheme plus store metadata."""

    url: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredImage:
    location: Location
    size: int


class ImageStore(Driver):
    """Reads image data from one configured store.

    Stores are instantiated once per configured store (``[image] enabled_stores =
    fast:file, cheap:swift``) as ``cls(conf, store_name="fast")``; each reads the options it
    lists in :meth:`store_opts` from the group named after its store name (``[fast]``),
    registering them there itself. Several stores of one driver can thus coexist.
    """

    API_VERSION: ClassVar[ApiVersion] = API_VERSION
    CAPABILITIES: ClassVar[type[enum.Flag]] = ImageStoreCapability
    capabilities: ClassVar[enum.Flag] = ImageStoreCapability.NONE

    #: URL schemes this store answers for (``file``, ``http``/``https``, ``swift+https``...)
    schemes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, conf: Any, store_name: str) -> None:
        super().__init__(conf)
        self.store_name = store_name
        conf.register_opts(list(self.store_opts()), group=store_name)
        self.options = conf[store_name]

    @classmethod
    def store_opts(cls) -> Sequence[Any]:
        """The ``oslo_config.cfg.Opt`` objects read from the store's own group."""
        return []

    def details(self) -> dict[str, Any]:
        """What an administrator sees of this store in ``GET /v2/info/stores/detail``
        (Glance's per-type ``properties``: a file store's ``data_dir``, say). Never secrets:
        no passwords, keys or URLs with credentials. The default shows nothing."""
        return {}

    @abc.abstractmethod
    def get(
        self, location: Location, offset: int = 0, length: int | None = None, chunk_size: int = 65536
    ) -> Iterator[bytes]:
        """Yield the image's bytes from ``offset`` for ``length`` bytes (to the end if None).

        Chunks are at most ``chunk_size`` bytes; memory stays bounded whatever the size.
        Stores without ``READ_RANGE`` may read and discard up to ``offset``.
        The iterator releases its resources when exhausted or closed.

        :raises NotFound: nothing at ``location``.
        :raises Invalid: ``offset`` beyond the end.
        """

    @abc.abstractmethod
    def get_size(self, location: Location) -> int:
        """Return the stored size in bytes. :raises NotFound: nothing at ``location``."""


class WritableStore(abc.ABC):
    """Capability ``WRITE``."""

    @abc.abstractmethod
    def add(self, image_id: str, data: Iterable[bytes], size_hint: int | None = None) -> StoredImage:
        """Store the bytes ``data`` yields under a new location for ``image_id``.

        Readers never see partial data: the location becomes readable only once every
        byte is stored. If ``data`` raises (client went away, quota cut-off) or storage
        fails, everything written is removed before the exception propagates.

        :raises Conflict: the store already holds data for ``image_id``.
        :raises PayloadTooLarge: the store ran out of space (data removed).
        """

    @abc.abstractmethod
    def delete(self, location: Location) -> None:
        """Remove the data. Idempotent: an absent location succeeds."""


ImageStore.CAPABILITY_INTERFACES = {ImageStoreCapability.WRITE: WritableStore}
