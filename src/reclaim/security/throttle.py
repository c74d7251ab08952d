"""Counting failed attempts (wrong PINs, wrong passwords) and refusing after too many.

A failure is stored as a row under a bucket and a key (a case number, an account, a
client address).  Keys are stored as keyed hashes, so the table holds no addresses or
case numbers in clear.  A key is locked while it has ``max_failures`` or more failures
within the window; the lock lifts as the oldest failures age out of the window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reclaim.domain.clock import Clock, system_clock
from reclaim.security.models import ThrottleFailure


@dataclass(frozen=True, slots=True)
class Limit:
    bucket: str
    max_failures: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Check:
    """One limit applied to one key (e.g. ``(pin-case, "RC-7K2M-9QXD")``)."""

    limit: Limit
    key: str


class Throttle:
    def __init__(self, secret: bytes, clock: Clock = system_clock) -> None:
        self._secret = secret
        self._clock = clock

    def _digest(self, check: Check) -> str:
        message = f"{check.limit.bucket}\0{check.key}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def locked_until(self, session: Session, checks: Sequence[Check]) -> datetime | None:
        """When the latest of the applicable locks lifts, or None if nothing is locked."""
        now = self._clock()
        until: datetime | None = None
        for check in checks:
            since = now - check.limit.window
            failures = session.scalars(
                select(ThrottleFailure.created_at)
                .where(
                    ThrottleFailure.bucket == check.limit.bucket,
                    ThrottleFailure.key == self._digest(check),
                    ThrottleFailure.created_at > since,
                )
                .order_by(ThrottleFailure.created_at.desc())
                .limit(check.limit.max_failures)
            ).all()
            if len(failures) >= check.limit.max_failures:
                # Unlocks when the oldest of the last max_failures leaves the window.
                lifts = failures[-1] + check.limit.window
                until = lifts if until is None else max(until, lifts)
        return until

    def failed(self, session: Session, checks: Sequence[Check]) -> None:
        """Count one failure against every key (in the caller's transaction)."""
        self.count(session, checks)

    def count(self, session: Session, checks: Sequence[Check]) -> None:
        """Count one event (a failure, a report made) against every key."""
        now = self._clock()
        for check in checks:
            session.execute(
                delete(ThrottleFailure).where(
                    ThrottleFailure.bucket == check.limit.bucket,
                    ThrottleFailure.key == self._digest(check),
                    ThrottleFailure.created_at <= now - check.limit.window,
                )
            )
            session.add(
                ThrottleFailure(bucket=check.limit.bucket, key=self._digest(check), created_at=now)
            )
        session.flush()

    def cleared(self, session: Session, check: Check) -> None:
        """Forget a key's failures (after a success, for per-account limits)."""
        session.execute(
            delete(ThrottleFailure).where(
                ThrottleFailure.bucket == check.limit.bucket,
                ThrottleFailure.key == self._digest(check),
            )
        )

    def failures(self, session: Session, check: Check) -> int:
        since = self._clock() - check.limit.window
        count = session.scalar(
            select(func.count()).where(
                ThrottleFailure.bucket == check.limit.bucket,
                ThrottleFailure.key == self._digest(check),
                ThrottleFailure.created_at > since,
            )
        )
        return int(count or 0)
