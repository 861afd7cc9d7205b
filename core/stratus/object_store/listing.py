"""Listings in Swift's order and with Swift's parameters, over a name column of UTF-8 bytes.

Swift's rules: names in byte order; ``marker`` and ``end_marker`` exclusive (swapped
roles with ``reverse``: ``marker`` then bounds from above); ``prefix`` keeps names that
start with it; ``delimiter`` rolls every name whose rest after the prefix holds it up into
one ``subdir`` entry (prefix + rest up to and including the delimiter), listed once, and
counted against ``limit`` like a name; a subdir equal to ``marker`` is not listed again, so
paging by the last entry works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Listing:
    prefix: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = 10000
    delimiter: str = ""
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Subdir:
    """Names rolled up by a delimiter."""

    name: str


def after_prefix(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix`` (None: none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def page(run: Callable[[Any], Sequence[Any]], statement: Any, column: Any, listing: Listing,
         name_of: Callable[[Any], str]) -> list[Any]:
    """Rows (and :class:`Subdir` entries) of ``statement`` for ``listing``.

    ``run`` executes a statement and returns its rows; ``column`` is the name column (a
    :class:`~stratus.object_store.models.Name`), ``name_of`` a row's name.
    """
    prefix = listing.prefix.encode()
    low: bytes | None = None  # inclusive
    above: bytes | None = None  # exclusive lower bound
    below: bytes | None = None  # exclusive upper bound
    first, last = (listing.end_marker, listing.marker) if listing.reverse else (listing.marker, listing.end_marker)
    if first:
        above = first.encode()
    if last:
        below = last.encode()
    if prefix:
        low = prefix
        end = after_prefix(prefix)
        if end is not None and (below is None or end < below):
            below = end
    results: list[Any] = []
    while len(results) < listing.limit:
        query = statement
        if low is not None:
            query = query.where(column >= low)
        if above is not None:
            query = query.where(column > above)
        if below is not None:
            query = query.where(column < below)
        query = query.order_by(column.desc() if listing.reverse else column.asc())
        wanted = listing.limit - len(results)
        rows = run(query.limit(wanted))
        rolled = False
        for row in rows:
            name = name_of(row)
            if listing.delimiter:
                rest = name[len(listing.prefix):]
                cut = rest.find(listing.delimiter)
                if cut >= 0:
                    subdir = listing.prefix + rest[:cut + len(listing.delimiter)]
                    if subdir != listing.marker:  # a page that ended on a subdir resumes after it
                        results.append(Subdir(subdir))
                    encoded = subdir.encode()
                    if listing.reverse:
                        below = encoded
                    else:
                        following = after_prefix(encoded)
                        if following is None:
                            return results
                        low = following
                    rolled = True
                    break
            results.append(row)
        if not rolled and len(rows) < wanted:
            break
    return results

