"""Figures for the public transparency page: aggregates only, small cells suppressed.

What keeps a child from being singled out:

- **Fixed periods.**  The public sees the last twelve whole months, or one past
  calendar year — never a period of their choosing, so two neighbouring periods cannot
  be subtracted to isolate a day's reports.
- **One dimension at a time.**  Reports by month, by type, by age, by channel and by who
  reported are separate tables; no table crosses two of them (no region × age × month,
  no age × month).  Reclaim records no region.
- **Small cells.**  A count from 1 to ``threshold - 1`` is shown as ``<threshold``, and
  every other count is rounded to the nearest multiple of ``threshold``, so a hidden
  cell cannot be worked out from a total by subtraction.  Shares and medians are shown
  only where they rest on at least ``threshold`` pages.
- **Platforms.**  Removal figures name a platform only when it had at least
  ``threshold`` pages noticed; the others are pooled as "other platforms".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from reclaim.cases.domain import AgeGroup, ReporterRole
from reclaim.statistics import rollups
from reclaim.statistics.domain import (
    COUNTED_TYPES,
    Channel,
    Filter,
    Period,
    previous_month,
    suppress,
)
from reclaim.statistics.intake import intake_figures
from reclaim.statistics.removal import removal_figures

Cell = int | str


@dataclass(frozen=True, slots=True)
class PublicPlatform:
    name: str | None  # None: the other platforms, pooled
    pages: Cell
    removed: Cell
    within_deadline_share: float | None  # of removed pages, when at least threshold
    median_hours: float | None


@dataclass(frozen=True, slots=True)
class PublicFigures:
    period: Period
    threshold: int
    reports: Cell
    cases: Cell
    by_month: list[tuple[str, Cell]]
    by_type: list[tuple[object, Cell]]
    by_age: list[tuple[object, Cell]]
    by_reporter: list[tuple[object, Cell]]
    by_channel: list[tuple[object, Cell]]
    platforms: list[PublicPlatform]
    pages: Cell
    removed: Cell
    within_deadline_share: float | None


def public_period(today: date, zone: ZoneInfo, year: int | None) -> Period:
    """A past calendar year, or the twelve whole months before this one."""
    if year is not None:
        if year >= today.year or year < 2000:
            raise ValueError("a past calendar year")
        return Period.year(year, zone)
    last_year, last_month = previous_month(today)
    end = Period.month(last_year, last_month, zone).last
    return Period(Period.last_months(end, 12, zone).first, end, zone)


def _breakdown(keys: list[object], counts: list[int], threshold: int) -> list[tuple[object, Cell]]:
    return [(key, suppress(count, threshold)) for key, count in zip(keys, counts, strict=True)]


def public_figures(
    session: Session, period: Period, *, threshold: int, now: datetime
) -> PublicFigures:
    # Only what the page shows: intake and removal (no hotline work, banks or partners).
    where = Filter(period)
    rolled = rollups.parts(session, where, now, work=False)
    intake = rolled.intake if rolled and rolled.intake else intake_figures(session, where)
    removal = rolled.removal if rolled else removal_figures(session, where, now)
    platforms_all, overall = removal[:-1], removal[-1]
    months = period.months()
    big = [p for p in platforms_all if p.pages >= threshold]
    small = [p for p in platforms_all if p.pages < threshold]
    platforms = [
        PublicPlatform(
            name=p.platform,
            pages=suppress(p.pages, threshold),
            removed=suppress(p.removed, threshold),
            within_deadline_share=(p.compliance if p.removed_with_deadline >= threshold else None),
            median_hours=(
                p.time_to_removal.median_hours if p.time_to_removal.count >= threshold else None
            ),
        )
        for p in big
    ]
    if small:
        pooled_pages = sum(p.pages for p in small)
        platforms.append(
            PublicPlatform(
                name=None,
                pages=suppress(pooled_pages, threshold),
                removed=suppress(sum(p.removed for p in small), threshold),
                within_deadline_share=None,
                median_hours=None,
            )
        )
    return PublicFigures(
        period=period,
        threshold=threshold,
        reports=suppress(intake.reports, threshold),
        cases=suppress(intake.cases, threshold),
        by_month=[(m, suppress(intake.reports_by_month.get(m, 0), threshold)) for m in months],
        by_type=_breakdown(
            list(COUNTED_TYPES), [intake.by_type[c.value][1] for c in COUNTED_TYPES], threshold
        ),
        by_age=_breakdown(
            list(AgeGroup), [intake.by_age.get(a.value, 0) for a in AgeGroup], threshold
        ),
        by_reporter=_breakdown(
            list(ReporterRole),
            [intake.by_reporter.get(r.value, 0) for r in ReporterRole],
            threshold,
        ),
        by_channel=_breakdown(
            list(Channel), [intake.by_channel.get(c.value, 0) for c in Channel], threshold
        ),
        platforms=platforms,
        pages=suppress(overall.pages, threshold),
        removed=suppress(overall.removed, threshold),
        within_deadline_share=(
            overall.compliance if overall.removed_with_deadline >= threshold else None
        ),
    )
