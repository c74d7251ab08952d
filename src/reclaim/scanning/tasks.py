"""The patrol's scheduled job: re-fetch watched pages for re-uploads (``patrol``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.banks.engine import MatchEngine
from reclaim.cases import review
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import SafeFetcher
from reclaim.scanning import patrol

#: Every hour at :41 (away from the other hourly jobs); each host is paced within a run.
PATROL_SCHEDULE = {"minute": "41"}


@dataclass(frozen=True, slots=True)
class ScanningTasks:
    patrol_watched_pages: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> ScanningTasks:
    fetcher = SafeFetcher(patrol.fetch_policy(settings))
    matcher = MatchEngine()

    @huey.periodic_task(crontab(**PATROL_SCHEDULE), name="reclaim.patrol_watched_pages")  # type: ignore[untyped-decorator]
    def patrol_watched_pages() -> dict[str, Any]:
        """Re-fetch every watched page; re-uploads become items and draft notices."""
        with sessions() as session:
            outcome = patrol.run(
                session,
                fetcher=fetcher,
                store=review.quarantine_store(settings),
                matcher=matcher,
                policy=review.ReviewPolicy.from_settings(settings),
                pacer=patrol.HostPacer(settings.patrol_host_interval_seconds),
                clock=clock,
            )
        return outcome.to_json()

    return ScanningTasks(patrol_watched_pages=patrol_watched_pages)
