"""Throttle counters (failed PINs and logins), keyed so no address is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.storage.base import Base
from reclaim.storage.types import utcnow


class ThrottleFailure(Base):
    """One failed attempt (a wrong PIN, a wrong password) counted against a key.

    ``bucket`` names what is throttled (``pin-case``, ``pin-client``, ``login-account``,
    ``login-client``); ``key`` is a case number, a client address or an account, stored
    as a keyed hash so the table holds no addresses in clear.
    """

    __tablename__ = "throttle_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_throttle_failures_lookup", "bucket", "key", "created_at"),)
