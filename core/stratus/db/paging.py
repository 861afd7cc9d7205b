"""Keyset pagination over any ordering: the rows after a marker row, in SQL, on every database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class SortKey:
    """One position of an ORDER BY: an expression, its direction, and how to read a row's value."""

    expression: Any
    ascending: bool
    read: Callable[[Any], Any]


def sort_keys(columns: Sequence[tuple[str, Any, bool, bool]], unique: tuple[str, Any]) -> list[SortKey]:
    """``[(attribute, column, ascending, nullable)]`` plus a unique ``(attribute, column)`` tie-break.

    A nullable column is preceded by an is-not-null flag, so NULLs sort first ascending on
    every database and a marker row with NULLs still splits the order exactly.
    """
    keys: list[SortKey] = []
    for name, column, ascending, nullable in columns:
        if nullable:
            keys.append(SortKey(sa.case((column.is_(None), 0), else_=1), ascending,
                                lambda row, n=name: 0 if getattr(row, n) is None else 1))
        keys.append(SortKey(column, ascending, lambda row, n=name: getattr(row, n)))
    if unique[0] not in [c[0] for c in columns]:
        last = columns[-1][2] if columns else True
        keys.append(SortKey(unique[1], last, lambda row, n=unique[0]: getattr(row, n)))
    return keys


def order_by(keys: Sequence[SortKey], reverse: bool = False) -> list[Any]:
    return [k.expression.asc() if k.ascending != reverse else k.expression.desc() for k in keys]


def after(keys: Sequence[SortKey], marker: Any, reverse: bool = False) -> sa.ColumnElement[bool]:
    """Rows strictly after ``marker`` in the order of ``keys`` (before it, if ``reverse``)."""
    clauses = []
    for i, key in enumerate(keys):
        value = key.read(marker)
        if value is None:
            continue  # NULL is never strictly after; the flag key before it already split NULLs
        equal = [k.expression.is_(None) if k.read(marker) is None else k.expression == k.read(marker)
                 for k in keys[:i]]
        forward = key.ascending != reverse
        clauses.append(sa.and_(*equal, key.expression > value if forward else key.expression < value))
    return sa.or_(*clauses) if clauses else sa.false()
