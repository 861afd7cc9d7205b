"""``Range`` (single and multiple byte ranges) and the conditional headers of a GET or HEAD,
with Swift's answers: a malformed ``Range`` is ignored (the whole object, 200); one that no
part of the object satisfies is 416."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import falcon

from stratus.object_store.api.headers import parse_http_date
from stratus.object_store.errors import PreconditionFailed, RangeNotSatisfiable

#: more ranges than this in one request are not served as ranges (Swift's limit)
MAX_RANGES = 50


def parse_ranges(value: str | None, size: int) -> list[tuple[int, int]] | None:
    """``[(start, end_exclusive), ...]`` of a ``Range`` header over ``size`` bytes.

    None when absent or malformed (serve the whole object).

    :raises RangeNotSatisfiable: well-formed, but no range overlaps the object.
    """
    if not value or not value.strip().lower().startswith("bytes="):
        return None
    specs = [part.strip() for part in value.strip()[6:].split(",")]
    if not specs or len(specs) > MAX_RANGES:
        return None
    wanted: list[tuple[int, int]] = []
    for spec in specs:
        first, sep, last = spec.partition("-")
        if not sep or (not first and not last):
            return None
        try:
            if not first:
                suffix = int(last)
                if suffix < 0:
                    return None
                if suffix:
                    wanted.append((max(size - suffix, 0), size))
                continue
            start = int(first)
            end = int(last) + 1 if last else size
        except ValueError:
            return None
        if start < 0 or (last and end <= start):
            return None
        if start < size:
            wanted.append((start, min(end, size)))
    if not wanted:
        raise RangeNotSatisfiable("Requested Range Not Satisfiable")
    return wanted


def _tags(value: str) -> set[str]:
    return {tag.strip().strip('"') for tag in value.split(",")}


def check_conditions(req: falcon.Request, etag: str, last_modified: float) -> bool:
    """Apply If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since.

    Returns False when the answer is 304 Not Modified.

    :raises PreconditionFailed: If-Match or If-Unmodified-Since failed.
    """
    if_match = req.get_header("If-Match")
    if if_match is not None:
        tags = _tags(if_match)
        if "*" not in tags and etag not in tags:
            raise PreconditionFailed("The object's ETag does not match If-Match.")
    if_none_match = req.get_header("If-None-Match")
    if if_none_match is not None:
        tags = _tags(if_none_match)
        if "*" in tags or etag in tags:
            return False
    seconds = int(last_modified) + (1 if last_modified % 1 else 0)
    unmodified = parse_http_date(req.get_header("If-Unmodified-Since"))
    if unmodified is not None and seconds > unmodified:
        raise PreconditionFailed("The object was modified after If-Unmodified-Since.")
    modified = parse_http_date(req.get_header("If-Modified-Since"))
    return not (if_none_match is None and modified is not None and seconds <= modified)


def multipart(ranges: list[tuple[int, int]], size: int, content_type: str,
              read: Callable[[int, int], Iterator[bytes]]) -> tuple[str, int, Iterator[bytes]]:
    """``(content type, length, body)`` of a multipart/byteranges answer."""
    boundary = os.urandom(16).hex()
    heads = [(f"--{boundary}\r\nContent-Type: {content_type}\r\n"
              f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n").encode("latin-1", "replace")
             for start, end in ranges]
    tail = f"\r\n--{boundary}--".encode()
    length = sum(len(h) for h in heads) + sum(end - start for start, end in ranges) \
        + 2 * (len(ranges) - 1) + len(tail)

    def body() -> Iterator[bytes]:
        for index, ((start, end), head) in enumerate(zip(ranges, heads, strict=True)):
            if index:
                yield b"\r\n"
            yield head
            yield from read(start, end - start)
        yield tail

    return f"multipart/byteranges;boundary={boundary}", length, body()
