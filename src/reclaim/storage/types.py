"""Column types shared by the ORM models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` hands back whatever zone
    the session uses; storing naive UTC and re-attaching UTC on the way out gives the
    same aware value from both, so comparisons in services never mix naive and aware.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_type: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum by its value as a plain string (no native DB enum).

    Native PostgreSQL enums need a migration for every new member; a VARCHAR holding the
    value does not, and the domain enum still validates what is read back.
    """
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__: list[Any] = ["UtcDateTime", "enum_column", "utcnow"]
