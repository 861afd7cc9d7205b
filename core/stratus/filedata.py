"""Files written whole or not at all, and byte ranges of files read in bounded chunks: how
the file image store and the disk object backend keep their bytes."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
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


#: errors of a write that ran out of room
FULL = (errno.ENOSPC, errno.EDQUOT)


def write_new(path: str, temp_dir: str, chunks: Iterable[bytes], *, fsync: bool, digest: Any = None,
              prefix: str = ".incoming-") -> int:
    """Write ``chunks`` as a new file at ``path``; return its size.

    The bytes go to a temporary file in ``temp_dir`` (on the same file system), updating
    ``digest`` (a hashlib object; on a thread of its own once a second chunk comes) as they
    pass, are flushed (and fsync'ed when ``fsync``), then the file is linked into place, so
    ``path`` never shows part of them; the temporary file is removed whatever happens. A
    missing parent directory of ``path`` is made.

    :raises FileExistsError: ``path`` exists (another writer got there first).
    :raises OSError: the write failed; ``errno`` in :data:`FULL` when out of room.
    """
    handle, temporary = tempfile.mkstemp(dir=temp_dir, prefix=prefix)
    size = 0
    hasher: BackgroundHash | None = None
    try:
        with os.fdopen(handle, "wb", buffering=0) as out:
            for chunk in chunks:
                if digest is not None:
                    if hasher is None and size:  # a second chunk: worth a thread of its own from here
                        hasher = BackgroundHash(digest)
                    (hasher or digest).update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[out.write(view):]
                size += len(chunk)
            if fsync:
                os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
            os.link(temporary, path)
    finally:
        if hasher is not None:
            hasher.finish()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
    return size


class BackgroundHash:
    """Feeds chunks to a hash object on a thread of its own (hashlib releases the GIL, so the
    digest runs on another core while the caller receives and writes); at most ``depth``
    chunks wait. :meth:`finish` must be called; the digest is complete after it."""

    def __init__(self, hasher: Any, depth: int = 8) -> None:
        self.hasher = hasher
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self._run, name="hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            self.hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        self.queue.put(chunk)

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
