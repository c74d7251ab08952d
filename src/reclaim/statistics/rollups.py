"""Monthly rollups: a closed month's figures computed once by the live queries and kept
until a change to a row they count makes them stale, so a year's figures read twelve
stored months (and the durations the spreads are ranked from) instead of a year of rows.

Exact by construction:

- A rollup holds what the live queries give for that one month (no filter): the
  additive counts (reports, cases, types, ages, pages, removals, bands, re-uploads ...)
  as JSON, and every duration (time to removal per platform, to first look and to a
  decision per urgency) as rows.  Counts of disjoint months add up (a report, case or
  notice belongs to one month); medians and p90s are ranked again in the database over
  the union of the stored durations and the live months' (nearest rank, as live).
- The parts of a period a valid rollup does not cover (the month in progress, a month
  not rolled up or stale, days at the edges) are computed live, with the same queries.
- Bank entries added and withdrawn are per month: they add up too.  Overdue notices
  depend on the moment, and partner feedback and match volumes (a row per partner and
  day already) are small: always live.  A filter
  (platform, type, urgency): live.
- A rollup is used only while no stale mark (``staleness.py``) inside its month was made
  after it was computed (less ``MARGIN``, for a change flushed in a transaction that
  committed after the rollup read the rows).  The hourly job computes stale and missing
  closed months again.

The rollup path and the live path are checked to agree on a generated history on both
databases (``tests/statistics/test_rollups.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, delete, exists, insert, literal, or_, select, union_all
from sqlalchemy.orm import Session

from reclaim.statistics.domain import EMPTY_SPREAD, Filter, Period, previous_month
from reclaim.statistics.intake import IntakeFigures, intake_figures
from reclaim.statistics.models import Rollup, RollupDuration, StaleMark
from reclaim.statistics.removal import (
    RemovalFigures,
    overdue_counts,
    platform_figures,
    removal_durations,
)
from reclaim.statistics.sql import overall_spread, spreads
from reclaim.statistics.work import (
    URGENCY,
    BankRow,
    WorkFigures,
    bank_figures,
    work_durations,
    work_from,
)

#: What a rollup's JSON holds; a rollup of another version is computed again.
VERSION = 2
#: A rollup ignores changes flushed up to this long before it was computed.
MARGIN = timedelta(minutes=10)
#: How many closed months the job keeps rolled up (the longest period is five years).
ROLLUP_MONTHS = 61
REMOVAL = "removal"
COUNTS = (
    "notices",
    "pages",
    "removed",
    "partially_removed",
    "refused",
    "expired",
    "media",
    "media_removed",
    "removed_with_deadline",
    "within_deadline",
    "reuploads",
)


def usable(where: Filter) -> bool:
    return where.platform_id is None and where.classification is None and where.urgent is None


# --- building ------------------------------------------------------------------------------


def build(session: Session, month: Period, now: datetime) -> Rollup:
    """Compute one month's rollup (replacing any), in the caller's transaction."""
    computed_at = datetime.now(UTC) - MARGIN
    name = f"{month.first:%Y-%m}"
    offset = month.offset_minutes
    old = session.scalars(
        select(Rollup.id).where(Rollup.offset_minutes == offset, Rollup.month == name)
    ).all()
    if old:
        session.execute(delete(RollupDuration).where(RollupDuration.rollup_id.in_(old)))
        session.execute(delete(Rollup).where(Rollup.id.in_(old)))
    where = Filter(month)
    intake = intake_figures(session, where)
    platforms = platform_figures(session, where, now)
    rollup = Rollup(
        offset_minutes=offset,
        month=name,
        start_at=month.start,
        end_at=month.end,
        computed_at=computed_at,
        figures={
            "version": VERSION,
            "intake": _intake_json(intake),
            "removal": _removal_json(platforms),
            "banks": [_bank_json(row) for row in bank_figures(session, where)],
        },
    )
    session.add(rollup)
    session.flush()
    sources = {REMOVAL: removal_durations(session, where, by_platform=True)}
    sources.update(work_durations(session, where))
    for measure, durations in sources.items():
        d = durations.subquery()
        session.execute(
            insert(cast(Table, RollupDuration.__table__)).from_select(
                ["rollup_id", "measure", "key", "seconds"],
                select(literal(rollup.id), literal(measure), d.c[0], d.c[1]).where(
                    d.c[1].is_not(None)
                ),
            )
        )
    return rollup


def closed_months(now: datetime, zone: ZoneInfo, count: int = ROLLUP_MONTHS) -> list[Period]:
    """The ``count`` months before the one in progress on the operator's clock."""
    year, month = previous_month(now.astimezone(zone).date())
    found = []
    for _ in range(count):
        found.append(Period.month(year, month, zone))
        year, month = previous_month(Period.month(year, month, zone).first)
    return found


def refresh(session: Session, zone: ZoneInfo, now: datetime, count: int = ROLLUP_MONTHS) -> int:
    """Roll up every closed month that has none or a stale one; forget marks every
    rollup has seen.  Returns how many months were computed."""
    months = closed_months(now, zone, count)
    fresh = {
        (r.offset_minutes, r.month)
        for r in valid(session, [(m.offset_minutes, f"{m.first:%Y-%m}") for m in months])
    }
    built = 0
    for month in months:
        if (month.offset_minutes, f"{month.first:%Y-%m}") not in fresh:
            build(session, month, now)
            built += 1
    # A mark is kept while some rollup covering it was computed before it.
    session.execute(delete(StaleMark).where(~_covering(StaleMark.marked_at > Rollup.computed_at)))
    return built


# --- reading ---------------------------------------------------------------------------------


def _covering(condition: Any) -> Any:
    """A mark inside a rollup's month (or marking every month) that meets ``condition``."""
    return exists().where(
        condition,
        or_(
            StaleMark.anchor_at.is_(None),
            and_(StaleMark.anchor_at >= Rollup.start_at, StaleMark.anchor_at < Rollup.end_at),
        ),
    )


def valid(session: Session, months: Sequence[tuple[int, str]]) -> list[Rollup]:
    """The rollups of these (offset, month) that no stale mark has made stale."""
    if not months:
        return []
    stale = _covering(StaleMark.marked_at >= Rollup.computed_at)
    offsets = {offset for offset, _ in months}
    wanted = set(months)
    found = session.scalars(
        select(Rollup).where(
            Rollup.offset_minutes.in_(offsets),
            Rollup.month.in_([name for _, name in months]),
            ~stale,
        )
    ).all()
    return [
        r
        for r in found
        if (r.offset_minutes, r.month) in wanted and r.figures.get("version") == VERSION
    ]


@dataclass(frozen=True, slots=True)
class Parts:
    intake: IntakeFigures | None
    removal: list[RemovalFigures]
    work: WorkFigures | None
    banks: list[BankRow]


def _pieces(period: Period, covered: list[Period]) -> list[Period] | None:
    """The days of ``period`` the covered months leave, as periods (None when a piece's
    clock offset differs from the period's: months would be counted differently)."""
    pieces, day = [], period.first
    for month in sorted(covered, key=lambda m: m.first):
        if day < month.first:
            pieces.append(Period(day, month.first - timedelta(days=1), period.zone))
        day = month.last + timedelta(days=1)
    if day <= period.last:
        pieces.append(Period(day, period.last, period.zone))
    if any(p.offset_minutes != period.offset_minutes for p in pieces):
        return None
    return pieces


def parts(
    session: Session, where: Filter, now: datetime, *, work: bool, intake: bool = True
) -> Parts | None:
    """The figures from the valid rollups and live pieces (intake and hotline work only
    when asked for); None: compute all live."""
    if not usable(where):
        return None
    period = where.period
    offset = period.offset_minutes
    inside = {
        f"{m.first:%Y-%m}": m
        for name in period.months()
        for m in [Period.month(int(name[:4]), int(name[5:]), period.zone)]
        if m.first >= period.first and m.last <= period.last and m.offset_minutes == offset
    }
    rollups = valid(session, [(offset, name) for name in inside])
    if not rollups:
        return None
    pieces = _pieces(period, [inside[r.month] for r in rollups])
    if pieces is None:
        return None
    ids = [r.id for r in rollups]
    live = [Filter(p) for p in pieces]

    def stored(measure: str) -> Any:
        return select(RollupDuration.key, RollupDuration.seconds).where(
            RollupDuration.rollup_id.in_(ids), RollupDuration.measure == measure
        )

    found_intake = (
        _sum_intake(
            [_intake_from(r.figures["intake"]) for r in rollups]
            + [intake_figures(session, w) for w in live]
        )
        if intake
        else None
    )
    counts: dict[str, list[int]] = {}
    for r in rollups:
        _add_removal(counts, r.figures["removal"])
    for w in live:
        _add_removal(counts, _removal_json(platform_figures(session, w, now)))
    removal_union = union_all(
        stored(REMOVAL), *[removal_durations(session, w, by_platform=True) for w in live]
    )
    per_platform = spreads(session, removal_union)
    overall_time = overall_spread(session, removal_union)
    overdue = overdue_counts(session, where, now, by_platform=True)
    removal = _removal_rows(counts, overdue, per_platform, overall_time)
    found_work = None
    if work:
        live_work = [work_durations(session, w) for w in live]
        found_work = work_from(
            session,
            {
                measure: union_all(stored(measure), *[d[measure] for d in live_work])
                for measure in ("first_look", "decision")
            },
        )
    bank_rows = [r.figures["banks"] for r in rollups]
    bank_rows += [[_bank_json(row) for row in bank_figures(session, w)] for w in live]
    return Parts(found_intake, removal, found_work, _sum_banks(bank_rows))


# --- (de)serialising and adding -------------------------------------------------------------


def _intake_json(i: IntakeFigures) -> dict[str, Any]:
    return {
        "reports": i.reports,
        "cases": i.cases,
        "urgent_cases": i.urgent_cases,
        "reports_by_month": i.reports_by_month,
        "cases_by_month": i.cases_by_month,
        "by_type": {k: list(v) for k, v in i.by_type.items()},
        "type_by_month": i.type_by_month,
        "by_age": i.by_age,
        "by_reporter": i.by_reporter,
        "by_channel": i.by_channel,
    }


def _intake_from(data: dict[str, Any]) -> IntakeFigures:
    return IntakeFigures(
        reports=int(data["reports"]),
        cases=int(data["cases"]),
        urgent_cases=int(data["urgent_cases"]),
        reports_by_month=dict(data["reports_by_month"]),
        cases_by_month=dict(data["cases_by_month"]),
        by_type={k: (int(v[0]), int(v[1])) for k, v in data["by_type"].items()},
        type_by_month={m: dict(v) for m, v in data["type_by_month"].items()},
        by_age=dict(data["by_age"]),
        by_reporter=dict(data["by_reporter"]),
        by_channel=dict(data["by_channel"]),
    )


def _bank_json(row: BankRow) -> list[str | int]:
    return [row.bank, row.category, row.month, row.added, row.withdrawn]


def _sum_banks(parts: list[list[list[Any]]]) -> list[BankRow]:
    """The bank rows of every part, added per (bank, category, month), in order."""
    total: dict[tuple[str, str, str], list[int]] = {}
    for rows in parts:
        for bank, category, month, added, withdrawn in rows:
            before = total.setdefault((bank, category, month), [0, 0])
            before[0] += int(added)
            before[1] += int(withdrawn)
    return [BankRow(*key, *total[key]) for key in sorted(total)]


def _add(target: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        target[key] = target.get(key, 0) + value


def _sum_intake(parts: list[IntakeFigures]) -> IntakeFigures:
    total = _intake_from(_intake_json(parts[0]))
    for part in parts[1:]:
        for name in ("reports_by_month", "cases_by_month", "by_age", "by_reporter", "by_channel"):
            _add(getattr(total, name), getattr(part, name))
        for key, (reports, cases) in part.by_type.items():
            before = total.by_type.get(key, (0, 0))
            total.by_type[key] = (before[0] + reports, before[1] + cases)
        for month, types in part.type_by_month.items():
            _add(total.type_by_month.setdefault(month, {}), types)
        total = IntakeFigures(
            reports=total.reports + part.reports,
            cases=total.cases + part.cases,
            urgent_cases=total.urgent_cases + part.urgent_cases,
            reports_by_month=total.reports_by_month,
            cases_by_month=total.cases_by_month,
            by_type=total.by_type,
            type_by_month=total.type_by_month,
            by_age=total.by_age,
            by_reporter=total.by_reporter,
            by_channel=total.by_channel,
        )
    return total


def _removal_json(rows: dict[str, RemovalFigures]) -> dict[str, list[int]]:
    return {
        name: [getattr(row, field) for field in COUNTS] + list(row.bands)
        for name, row in rows.items()
    }


def _add_removal(counts: dict[str, list[int]], more: dict[str, list[int]]) -> None:
    for name, values in more.items():
        before = counts.get(name, [0] * len(values))
        counts[name] = [a + int(b) for a, b in zip(before, values, strict=True)]


def _removal_rows(
    counts: dict[str, list[int]],
    overdue: dict[str, int],
    per_platform: dict[Any, Any],
    overall_time: Any,
) -> list[RemovalFigures]:
    def row(name: str, values: list[int], late: int, spread: Any) -> RemovalFigures:
        fields = dict(zip(COUNTS, values[: len(COUNTS)], strict=True))
        return RemovalFigures(
            platform=name,
            overdue=late,
            time_to_removal=spread,
            bands=tuple(values[len(COUNTS) :]),
            **fields,
        )

    width = len(COUNTS) + 4
    total = [0] * width
    rows = []
    for name in sorted(counts):
        total = [a + b for a, b in zip(total, counts[name], strict=True)]
        rows.append(
            row(name, counts[name], overdue.get(name, 0), per_platform.get(name, EMPTY_SPREAD))
        )
    rows.append(row("", total, sum(overdue.get(n, 0) for n in counts), overall_time))
    return rows


__all__ = ["URGENCY", "Parts", "build", "parts", "refresh", "valid"]
