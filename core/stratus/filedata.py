"""Byte ranges of files read in bounded chunks: what the file image store and the disk object
backend serve."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from stratus.exceptions import Invalid, NotFound


def read_range(path: str, offset: int, length: int | None, chunk_size: int, what: str) -> Iterator[bytes]:
    """``length`` bytes (to the end when None) of the file at ``path`` from ``offset``, in
    chunks of at most ``chunk_size``. The file is opened now (a later unlink does not cut the
    read short) and closed when the iterator ends or is closed.

    :raises NotFound: no such file (``what`` names it in the message).
    :raises Invalid: ``offset`` past the end, or a negative ``offset``/``length``.
    """
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the generator
    except FileNotFoundError:
        raise NotFound(f"{what} not found") from None
    size = os.fstat(handle.fileno()).st_size
    if offset < 0 or offset > size or (length is not None and length < 0):
        handle.close()
        raise Invalid(f"Range offset {offset} length {length} is outside the {size} bytes of {what}")
    return _chunks(handle, offset, size - offset if length is None else min(length, size - offset), chunk_size)


def _chunks(handle: Any, offset: int, remaining: int, chunk_size: int) -> Iterator[bytes]:
    with handle:
        if offset:
            handle.seek(offset)
        while remaining > 0:
            chunk = handle.read(min(chunk_size, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
