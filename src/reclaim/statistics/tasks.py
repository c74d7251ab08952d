"""The statistics' background jobs: the monthly report to supervisors, on the first of
each month (and any mailing still pending, every hour after); the monthly rollups that
a change made stale, every hour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.delivery.factory import smtp_transport
from reclaim.documents.words import Wording
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.languages import Language
from reclaim.statistics import mailing, rollups
from reclaim.statistics.labels import LABELS

#: 01:05 UTC on the first: 09:05 in Taipei, after the month has closed everywhere.
MONTHLY_SCHEDULE = {"day": "1", "hour": "1", "minute": "5"}
RETRY_SCHEDULE = {"minute": "35"}
#: Hourly: the closed months' rollups a change made stale (or that are missing).
ROLLUP_SCHEDULE = {"minute": "53"}


@dataclass(frozen=True, slots=True)
class StatisticsTasks:
    monthly_report: Any
    send_reports: Any
    roll_up: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
    translate: Any = None,
) -> StatisticsTasks:
    transport = smtp_transport(settings)

    def wording() -> Wording:
        # The catalogs live with the web layer; tasks get the default language's
        # translations passed in (jobs/registry.py), or speak the message ids (English).
        language = Language(settings.default_language)
        return Wording(language, translate or (lambda message: message), LABELS, settings.zone)

    @huey.periodic_task(crontab(**MONTHLY_SCHEDULE), name="reclaim.monthly_statistics")  # type: ignore[untyped-decorator]
    def monthly_report() -> dict[str, int]:
        """Queue last month's report for every supervisor, then send what is pending."""
        with sessions.begin() as session:
            queued = mailing.queue_monthly(session, mailing.last_month(clock(), settings.zone))
        return {"queued": queued} | mailing.send_pending(
            sessions, transport, settings, wording(), clock=clock
        )

    @huey.periodic_task(crontab(**RETRY_SCHEDULE), name="reclaim.send_statistics")  # type: ignore[untyped-decorator]
    def send_reports() -> dict[str, int]:
        """Try the pending mailings again (a relay that was down)."""
        return mailing.send_pending(sessions, transport, settings, wording(), clock=clock)

    @huey.periodic_task(crontab(**ROLLUP_SCHEDULE), name="reclaim.roll_up_statistics")  # type: ignore[untyped-decorator]
    def roll_up() -> dict[str, int]:
        """Compute the closed months' rollups that are stale or missing."""
        with sessions.begin() as session:
            return {"months": rollups.refresh(session, settings.zone, clock())}

    return StatisticsTasks(
        monthly_report=monthly_report, send_reports=send_reports, roll_up=roll_up
    )
