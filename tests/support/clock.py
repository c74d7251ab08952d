"""The one fake clock: services take a clock, tests hand them this and move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Where a test's time starts unless it says otherwise.
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A callable returning ``now``; tests set or advance it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``; returns the new time."""
        self.now += timedelta(**delta)
        return self.now
