"""Case work's background job: the hourly retention purge of the quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.cases import retention, review
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock

#: Hourly: retention is counted in days, so an hour late is never more than that.
PURGE_SCHEDULE = {"minute": "7"}


@dataclass(frozen=True, slots=True)
class CaseTasks:
    purge_quarantine: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> CaseTasks:
    @huey.periodic_task(crontab(**PURGE_SCHEDULE), name="reclaim.purge_quarantine")  # type: ignore[untyped-decorator]
    def purge_quarantine() -> dict[str, int]:
        """Delete quarantined media whose retention period has ended."""
        with sessions.begin() as session:
            outcome = retention.purge_expired(
                session,
                review.quarantine_store(settings),
                retention=timedelta(days=settings.quarantine_retention_days),
                clock=clock,
            )
        return {"purged": outcome.purged, "objects": outcome.objects, "orphans": outcome.orphans}

    return CaseTasks(purge_quarantine=purge_quarantine)
