"""The one fake clock: services take a clock, tests hand them this and move it."""

from __future__ import annotations

import time
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


def mid_totp_step() -> datetime:
    """Now, moved to the middle of its 30-second TOTP step: an app frozen here accepts
    the codes of this step and the next and previous ones, whatever the wall clock does
    while the test runs (codes are computed from the app's clock, not the wall's)."""
    step = int(time.time()) // 30
    return datetime.fromtimestamp(step * 30 + 15, UTC)
