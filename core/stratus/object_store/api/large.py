"""Large objects, as Swift's ``slo`` and ``dlo`` middlewares serve them.

- Dynamic (DLO): a manifest object whose ``X-Object-Manifest: <container>/<prefix>`` makes
  a GET return, in listing order, every object of that container starting with the prefix.
- Static (SLO): ``PUT ?multipart-manifest=put`` with a JSON list of segments
  (``path``, optional ``etag``, ``size_bytes``, ``range``) checked at once; the manifest is
  stored as the object's bytes and a GET returns the segments' bytes. Its ETag is the MD5
  of the segments' ETags (quoted, as Swift sends it), its size their sum.
- ``?multipart-manifest=get`` reads the manifest itself; ``DELETE ?multipart-manifest=delete``
  deletes the segments and the manifest.

Segments are read with the requester's rights (a segment in a container they cannot read
is refused), nested SLOs up to :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stratus.exceptions import Invalid, NotFound
from stratus.object_store.api.headers import listing_time
from stratus.object_store.errors import PreconditionFailed
from stratus.object_store.listing import Listing
from stratus.object_store.service import ObjectInfo, ObjectService

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
MAX_DEPTH = 10
DLO_MAX_SEGMENTS = 10000


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of an assembled object: ``length`` bytes of ``info`` from ``offset``."""

    info: ObjectInfo
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Assembled:
    pieces: tuple[Piece, ...]
    size: int
    etag: str  # quoted, as the response's ETag


def split_path(path: str) -> tuple[str, str]:
    container, _, name = urllib.parse.unquote(path).lstrip("/").partition("/")
    if not container or not name:
        raise Invalid(f"Invalid segment path {path!r}: expected /<container>/<object>")
    return container, name


def _range(spec: str, size: int) -> tuple[int, int]:
    """``(offset, length)`` of a segment's ``range`` (``first-last``, ``first-``, ``-suffix``)."""
    first, sep, last = spec.partition("-")
    try:
        if not sep or (not first and not last):
            raise ValueError
        if not first:
            length = min(int(last), size)
            return size - length, length
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        raise Invalid(f"Invalid segment range {spec!r}") from None
    if start >= size or end <= start:
        raise Invalid(f"Segment range {spec!r} is outside the segment's {size} bytes")
    return start, min(end, size) - start


def manifest_entries(service: ObjectService, info: ObjectInfo) -> list[dict[str, Any]]:
    return json.loads(b"".join(service.read(info)))


def is_dlo(info: ObjectInfo) -> bool:
    return "x-object-manifest" in info.headers and not info.kind


def assemble(service: ObjectService, account: str, info: ObjectInfo,
             readable: Callable[[str, str, str], ObjectInfo], depth: int = 0) -> Assembled | None:
    """The pieces of a large object, or None for an ordinary one.

    ``readable(account, container, name)`` returns a segment the requester may read.
    """
    if depth > MAX_DEPTH:
        raise Invalid(f"Large object nested more than {MAX_DEPTH} deep")
    if info.kind == "slo":
        pieces: list[Piece] = []
        for entry in manifest_entries(service, info):
            container, name = split_path(entry["name"])
            segment = readable(account, container, name)
            inner = assemble(service, account, segment, readable, depth + 1)
            offset, length = (0, entry["bytes"])
            if entry.get("range"):
                offset, length = _range(entry["range"], entry["bytes"])
            pieces.extend(_slice(inner.pieces if inner else (Piece(segment, 0, segment.stored_size),), offset, length))
        return Assembled(tuple(pieces), info.size, f'"{info.etag}"')
    if is_dlo(info):
        container, _, prefix = urllib.parse.unquote(info.headers["x-object-manifest"]).partition("/")
        readable(account, container, None)  # the requester must be able to read the segments' container
        _, entries = service.list_objects(account, container, Listing(prefix=prefix, limit=DLO_MAX_SEGMENTS))
        segments = [entry for entry in entries if isinstance(entry, ObjectInfo)]
        digest = hashlib.md5(usedforsecurity=False)
        dlo_pieces = []
        for segment in segments:
            digest.update(segment.etag.encode())
            dlo_pieces.append(Piece(segment, 0, segment.stored_size))
        return Assembled(tuple(dlo_pieces), sum(p.length for p in dlo_pieces), f'"{digest.hexdigest()}"')
    return None


def _slice(pieces: Any, offset: int, length: int) -> Iterator[Piece]:
    for piece in pieces:
        if length <= 0:
            return
        if offset >= piece.length:
            offset -= piece.length
            continue
        take = min(piece.length - offset, length)
        yield Piece(piece.info, piece.offset + offset, take)
        offset, length = 0, length - take


def read(service: ObjectService, assembled: Assembled, offset: int, length: int) -> Iterator[bytes]:
    for piece in _slice(assembled.pieces, offset, length):
        try:
            yield from service.read(piece.info, piece.offset, piece.length)
        except NotFound:  # a segment went away mid-read: the client sees a short body
            return


def parse_manifest(body: bytes) -> list[dict[str, Any]]:
    """The segments of a ``multipart-manifest=put`` body, shape checked.

    :raises Invalid: not a JSON list of segment objects, or too many.
    """
    if len(body) > MAX_MANIFEST_SIZE:
        raise Invalid(f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
    try:
        segments = json.loads(body)
    except ValueError:
        raise Invalid("Manifest must be valid JSON.") from None
    if not isinstance(segments, list) or not segments:
        raise Invalid("Manifest must be a non-empty list of segments.")
    if len(segments) > MAX_MANIFEST_SEGMENTS:
        raise Invalid(f"Too many object segments in manifest; max {MAX_MANIFEST_SEGMENTS}")
    for index, segment in enumerate(segments):
        if not isinstance(segment, dict) or not isinstance(segment.get("path"), str):
            raise Invalid(f"Index {index}: segments need a \"path\" (data segments are not supported)")
        unknown = set(segment) - {"path", "etag", "size_bytes", "range"}
        if unknown:
            raise Invalid(f"Index {index}: unknown keys {', '.join(sorted(unknown))}")
        size = segment.get("size_bytes")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise Invalid(f"Index {index}: \"size_bytes\" must be a non-negative integer")
        etag = segment.get("etag")
        if etag is not None and not isinstance(etag, str):
            raise Invalid(f"Index {index}: \"etag\" must be a string")
    return segments


def build_manifest(segments: list[dict[str, Any]], account: str,
                   readable: Callable[[str, str, str], ObjectInfo]) -> tuple[bytes, int, str]:
    """Check every segment; return the manifest to store, the total size and the SLO's ETag.

    :raises Invalid: listing every segment that is missing or does not match.
    """
    problems: list[str] = []
    stored: list[dict[str, Any]] = []
    digest = hashlib.md5(usedforsecurity=False)
    total = 0
    for index, segment in enumerate(segments):
        path = segment["path"]
        try:
            container, name = split_path(path)
            info = readable(account, container, name)
        except (NotFound, Invalid, PreconditionFailed) as exc:
            problems.append(f"{path}, {exc.http_status} {getattr(exc, 'title', '') or 'Not Found'}")
            continue
        size = info.size
        if segment.get("size_bytes") is not None and segment["size_bytes"] != size:
            problems.append(f"{path}, Size Mismatch")
            continue
        if segment.get("etag") and segment["etag"].strip('"') != info.etag:
            problems.append(f"{path}, Etag Mismatch")
            continue
        if size < MIN_SEGMENT_SIZE and index < len(segments) - 1:
            problems.append(f"{path}, Too Small; each segment must be at least {MIN_SEGMENT_SIZE} byte(s)")
            continue
        entry = {"name": "/" + urllib.parse.quote(f"{container}/{name}", safe="/"), "bytes": size,
                 "hash": info.etag, "content_type": info.content_type,
                 "last_modified": listing_time(info.timestamp)}
        length = size
        if segment.get("range"):
            try:
                _, length = _range(segment["range"], size)
            except Invalid as exc:
                problems.append(f"{path}, {exc}")
                continue
            entry["range"] = segment["range"]
            digest.update(f"{info.etag}:{segment['range']};".encode())
        else:
            digest.update(info.etag.encode())
        total += length
        stored.append(entry)
    if problems:
        raise Invalid("Errors:\n" + "\n".join(problems))
    return json.dumps(stored).encode(), total, digest.hexdigest()


def raw_manifest(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The manifest in the shape it was PUT (``?multipart-manifest=get&format=raw``)."""
    raw = []
    for entry in entries:
        item = {"path": urllib.parse.unquote(entry["name"]), "etag": entry["hash"], "size_bytes": entry["bytes"]}
        if entry.get("range"):
            item["range"] = entry["range"]
        raw.append(item)
    return raw
