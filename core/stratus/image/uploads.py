"""Receiving image data: hashing on the fly and cutting the stream off at a limit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.exceptions import Invalid, PayloadTooLarge
from stratus.filedata import BackgroundHash
from stratus.image import models

UNLIMITED = -1


class Incomplete(Invalid):
    """The data stopped short of what was announced (the client went away, a short read)."""


@dataclass
class HashingReader:
    """Yields ``chunk_size`` chunks of ``source`` while counting and hashing them.

    Raises :class:`PayloadTooLarge` as soon as more than ``limit`` bytes arrive, which makes
    the store discard what it wrote; ``why`` says which limit that was. With ``expected``
    (a declared Content-Length, a staged file's size) a source that ends short raises
    :class:`Incomplete` before the store keeps anything: a client gone mid-upload never
    leaves a truncated image.
    """

    source: BinaryIO | Iterable[bytes]
    chunk_size: int
    limit: int | None = None
    why: str = ""
    expected: int | None = None
    size: int = 0
    md5: Any = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    sha512: Any = field(default_factory=hashlib.sha512)

    def _chunks(self) -> Iterator[bytes]:
        read = getattr(self.source, "read", None)
        if read is None:
            yield from self.source  # type: ignore[misc]
            return
        while chunk := read(self.chunk_size):
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        # hashlib frees the GIL: the digests run on other cores while this thread receives and writes
        sha512, md5 = BackgroundHash(self.sha512), BackgroundHash(self.md5)
        try:
            for chunk in self._chunks():
                self.size += len(chunk)
                if self.limit is not None and self.size > self.limit:
                    raise PayloadTooLarge(self.why)
                sha512.update(chunk)
                md5.update(chunk)
                yield chunk
            if self.expected is not None and self.size != self.expected:
                raise Incomplete(f"The data ended after {self.size} of the {self.expected} bytes announced; "
                                 "nothing was kept")
        finally:
            sha512.finish()
            md5.finish()

    @property
    def checksums(self) -> dict[str, Any]:
        return {"size": self.size, "checksum": self.md5.hexdigest(), "os_hash_algo": "sha512",
                "os_hash_value": self.sha512.hexdigest()}


def stored_bytes(session: Session, owner: str | None) -> int:
    """Bytes ``owner``'s images hold (staged data included), for the storage quota."""
    Image = models.Image
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Image.size), 0)).where(
        Image.owner == owner, Image.status.in_(("active", "deactivated", "uploading", "importing")))) or 0)


def image_count(session: Session, owner: str | None) -> int:
    Image = models.Image
    return int(session.scalar(sa.select(sa.func.count()).select_from(Image).where(
        Image.owner == owner, Image.status != "deleted")) or 0)


def byte_limit(conf: Any, session: Session, owner: str | None, expected: int | None = None) -> tuple[int, str]:
    """How many more bytes ``owner`` may store now, and the message when that is exceeded.

    :raises PayloadTooLarge: ``expected`` (a declared Content-Length) already exceeds it.
    """
    cap = conf.image.image_size_cap
    limit, why = cap, f"Image exceeds the size limit of {cap} bytes; nothing was kept"
    quota = conf.image.quota_image_bytes
    if quota != UNLIMITED:
        remaining = max(quota - stored_bytes(session, owner), 0)
        if remaining < limit:
            limit = remaining
            why = (f"Image exceeds the storage quota of project {owner}: {quota} bytes, {remaining} left; "
                   "nothing was kept")
    if expected is not None and expected > limit:
        raise PayloadTooLarge(why)
    return limit, why
