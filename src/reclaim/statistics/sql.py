"""The few SQL expressions that differ between SQLite and PostgreSQL, and the spread
(nearest-rank median, p90, max) of a duration computed in the database: with window
functions on SQLite (``row_number()`` and ``count(*) over``), with the ordered-set
aggregate ``percentile_disc`` on PostgreSQL (the same nearest rank, one sort)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from reclaim.statistics.domain import EMPTY_SPREAD, Spread


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def month_of(session: Session, column: Any, offset_minutes: int) -> ColumnElement[str]:
    """``YYYY-MM`` of a stored (naive UTC) timestamp on the operator's clock."""
    offset = int(offset_minutes)
    if dialect_of(session) == "sqlite":
        return func.strftime("%Y-%m", column, f"{offset:+d} minutes")
    shifted = column + literal_column(f"interval '{offset} minutes'")
    return func.to_char(shifted, "YYYY-MM")


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, as a float."""
    if dialect_of(session) == "sqlite":
        return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)
    return cast(func.extract("epoch", later - earlier), Float)


def spreads(session: Session, durations: Any) -> dict[Any, Spread]:
    """Per key: the spread of ``durations``, a select (or a union of selects) of
    (key, seconds) rows.

    Nearest rank: the p-th percentile is the smallest value whose 1-based rank r
    satisfies r >= p * n, i.e. ``r * 100 >= p100 * n`` in integers.
    """
    d = durations.subquery()
    key, seconds = d.c[0], d.c[1]
    if dialect_of(session) == "postgresql":
        # percentile_disc(p) is the first value whose cumulative share reaches p: rank
        # ceil(p * n), nearest rank (PostgreSQL computes ceil(p * n) in float8, exact
        # for 0.5 and 0.9 at every n up to millions); one sort serves both.
        found = session.execute(
            select(
                key,
                func.count(),
                func.percentile_disc(0.5).within_group(seconds),
                func.percentile_disc(0.9).within_group(seconds),
                func.max(seconds),
            ).group_by(key)
        ).all()
        return {row[0]: Spread.from_seconds(int(row[1]), row[2], row[3], row[4]) for row in found}
    ranked = select(
        key.label("key"),
        seconds.label("seconds"),
        func.row_number().over(partition_by=key, order_by=seconds).label("rn"),
        func.count().over(partition_by=key).label("n"),
    ).subquery()
    rows = session.execute(
        select(
            ranked.c.key,
            func.max(ranked.c.n),
            func.min(case((ranked.c.rn * 2 >= ranked.c.n, ranked.c.seconds))),
            func.min(case((ranked.c.rn * 10 >= ranked.c.n * 9, ranked.c.seconds))),
            func.max(ranked.c.seconds),
        ).group_by(ranked.c.key)
    ).all()
    return {row[0]: Spread.from_seconds(int(row[1]), row[2], row[3], row[4]) for row in rows}


def overall_spread(session: Session, durations: Any) -> Spread:
    """The spread over every row of a select of (anything, seconds)."""
    d = durations.subquery()
    found = spreads(session, select(literal_column("'all'").label("k"), d.c[1]))
    return found.get("all", EMPTY_SPREAD)
