"""Bulk helpers that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")

#: Rows per statement: below SQLite's 32,766 bound parameters for any table here.
CHUNK = 2000


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: concurrent writers may insert the same row."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    for part in chunked(rows, CHUNK // max(1, len(rows[0]))):
        session.execute(module.insert(table).on_conflict_do_nothing(), list(part))


def insert_adding(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    key: Sequence[str],
    counts: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET count = count + new count: writers in
    several processes add to the same counter rows."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    for part in chunked(rows, CHUNK // max(1, len(rows[0]))):
        statement = module.insert(table)
        adding = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={c: table.c[c] + statement.excluded[c] for c in counts},
        )
        session.execute(adding, list(part))
