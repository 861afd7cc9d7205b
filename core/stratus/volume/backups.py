"""Backups cut into chunks on a backup target, as Cinder's chunked backup drivers do.

A backup is the volume's data in chunks of ``[backup] chunk_size_mb``, each named
``chunk-NNNNN`` and kept with its sha256, plus ``metadata``: the volume's size, the chunk
size, and for each chunk where its bytes are — in this backup, in an earlier one of the
chain (an incremental backup stores only the chunks whose hash changed since its parent),
or nowhere (all zeroes: nothing is stored). Restoring reads each chunk from where the
metadata says and writes the whole volume, zeroes included.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from stratus.exceptions import Invalid
from stratus.interfaces.backup_target import BackupTarget

METADATA = "metadata"
GIB = 1024 ** 3


def _chunks(data: Iterable[bytes], size: int) -> Iterator[bytes]:
    """``data`` re-cut into pieces of exactly ``size`` bytes (the last may be shorter)."""
    pending = bytearray()
    for piece in data:
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def write(target: BackupTarget, backup_id: str, data: Iterable[bytes], volume_size_gb: int, chunk_size: int,
          parent: dict[str, Any] | None = None, progress: Callable[[int, int], None] | None = None,
          volume_metadata: dict[str, str] | None = None) -> int:
    """Store the volume's ``data`` (and its metadata, restored with it, as Cinder does) as backup
    ``backup_id``, only what changed since ``parent``'s; the number of chunks it stored itself."""
    total = -(-volume_size_gb * GIB // chunk_size)
    earlier = parent["chunks"] if parent is not None and parent.get("chunk_size") == chunk_size else []
    chunks: list[dict[str, Any]] = []
    stored = 0
    for index, chunk in enumerate(_chunks(data, chunk_size)):
        digest = hashlib.sha256(chunk).hexdigest()
        before = earlier[index] if index < len(earlier) else None
        if chunk.count(0) == len(chunk):
            chunks.append({"sha256": digest, "in": None, "length": len(chunk)})
        elif before is not None and before["sha256"] == digest and before["in"] is not None:
            chunks.append(before)
        else:
            target.put(backup_id, f"chunk-{index:05d}", chunk)
            chunks.append({"sha256": digest, "in": backup_id, "length": len(chunk)})
            stored += 1
        if progress is not None:
            progress(index + 1, total)
    document = {"version": 1, "volume_size_gb": volume_size_gb, "chunk_size": chunk_size, "chunks": chunks,
                "parent": parent["id"] if parent is not None else None, "id": backup_id,
                "volume_metadata": dict(volume_metadata or {})}
    target.put(backup_id, METADATA, json.dumps(document).encode())
    return stored


def metadata(target: BackupTarget, backup_id: str) -> dict[str, Any]:
    return json.loads(target.get(backup_id, METADATA))


def read(target: BackupTarget, backup_id: str) -> Iterator[bytes]:
    """The backup's data, chunk by chunk (each checked against its sha256).

    :raises Invalid: a chunk does not match what was backed up."""
    document = metadata(target, backup_id)
    for index, chunk in enumerate(document["chunks"]):
        if chunk["in"] is None:
            data = bytes(chunk["length"])
        else:
            data = target.get(chunk["in"], f"chunk-{index:05d}")
            if hashlib.sha256(data).hexdigest() != chunk["sha256"]:
                raise Invalid(f"chunk {index} of backup {backup_id} is damaged (its sha256 differs)")
        yield data


def used_by(target: BackupTarget, backup_id: str) -> set[str]:
    """The backups whose chunks ``backup_id`` reads (itself included)."""
    return {c["in"] for c in metadata(target, backup_id)["chunks"] if c["in"]}
