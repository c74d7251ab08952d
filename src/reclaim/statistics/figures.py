"""Every figure for one filter, computed once, and the same figures as named tables —
what the console page, ``reclaim stats``, the CSV/JSON exports and the reports share.

Cells are stable codes (enum members, numbers); people read them through the labels
(``statistics/labels.py``), machines as their values.  The table keys and columns are
the export schema documented in ``docs/statistics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from reclaim.banks.domain import Category
from reclaim.cases.domain import AgeGroup, ReporterRole
from reclaim.partners.domain import FeedbackOutcome
from reclaim.referrals.domain import AgencyKind, ReferralStatus
from reclaim.statistics import rollups
from reclaim.statistics.domain import COUNTED_TYPES, TYPE_OF, Channel, Filter, Spread, Table
from reclaim.statistics.intake import IntakeFigures, intake_figures
from reclaim.statistics.removal import BAND_NAMES, RemovalFigures, removal_figures
from reclaim.statistics.work import (
    URGENCY,
    BankRow,
    FeedbackRow,
    MatchRow,
    ReferralRow,
    WorkFigures,
    bank_figures,
    feedback_figures,
    match_figures,
    referral_figures,
    work_figures,
)

SCHEMA_VERSION = 1
OVERALL = ""  # the platform of the overall removal row


@dataclass(frozen=True, slots=True)
class Figures:
    where: Filter
    generated_at: datetime
    intake: IntakeFigures
    removal: list[RemovalFigures]  # per platform, then the overall row (platform "")
    work: WorkFigures
    banks: list[BankRow]
    feedback: list[FeedbackRow]
    referrals: list[ReferralRow]
    matches: list[MatchRow]

    @property
    def overall(self) -> RemovalFigures:
        return self.removal[-1]

    @property
    def platforms(self) -> list[RemovalFigures]:
        return self.removal[:-1]


def compute(session: Session, where: Filter, now: datetime) -> Figures:
    """Every figure: from the monthly rollups where they cover the period (exact; see
    ``rollups.py``), the rest live."""
    rolled = rollups.parts(session, where, now, work=True)
    return Figures(
        where=where,
        generated_at=now,
        intake=rolled.intake if rolled and rolled.intake else intake_figures(session, where),
        removal=rolled.removal if rolled else removal_figures(session, where, now),
        work=rolled.work if rolled and rolled.work else work_figures(session, where),
        banks=rolled.banks if rolled else bank_figures(session, where),
        feedback=feedback_figures(session, where),
        referrals=referral_figures(session, where),
        matches=match_figures(session, where),
    )


def removal(session: Session, where: Filter, now: datetime) -> list[RemovalFigures]:
    """The takedown figures alone (per platform, then overall), from the rollups where
    they cover the period — what the takedown dashboard shows."""
    rolled = rollups.parts(session, where, now, work=False, intake=False)
    return rolled.removal if rolled else removal_figures(session, where, now)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _spread(spread: Spread) -> tuple[float | None, float | None, float | None]:
    return spread.median_hours, spread.p90_hours, spread.max_hours


def tables(figures: Figures) -> list[Table]:
    intake = figures.intake
    months = figures.where.period.months()
    by_type_month = intake.type_by_month
    return [
        Table(
            "reports_by_month",
            ("month", "reports", "cases"),
            tuple(
                (m, intake.reports_by_month.get(m, 0), intake.cases_by_month.get(m, 0))
                for m in months
            ),
        ),
        Table(
            "cases_by_type_and_month",
            ("month", "classification", "cases"),
            tuple(
                (m, c, by_type_month.get(m, {}).get(c.value, 0))
                for m in months
                for c in COUNTED_TYPES
            ),
        ),
        Table(
            "by_type",
            ("classification", "ministry_type", "reports", "cases"),
            tuple((c, TYPE_OF[c], *intake.by_type[c.value]) for c in COUNTED_TYPES),
        ),
        Table(
            "reports_by_age",
            ("age_group", "reports"),
            tuple((a, intake.by_age.get(a.value, 0)) for a in AgeGroup),
        ),
        Table(
            "reports_by_reporter",
            ("reporter_role", "reports"),
            tuple((r, intake.by_reporter.get(r.value, 0)) for r in ReporterRole),
        ),
        Table(
            "reports_by_channel",
            ("channel", "reports"),
            tuple((c, intake.by_channel.get(c.value, 0)) for c in Channel),
        ),
        Table(
            "urgent",
            ("cases", "urgent_cases", "urgent_share"),
            ((intake.cases, intake.urgent_cases, _share(intake.urgent_cases, intake.cases)),),
        ),
        Table(
            "removal_by_platform",
            (
                "platform",
                "notices",
                "pages",
                "removed",
                "partially_removed",
                "refused",
                "expired",
                "media",
                "media_removed",
                "overdue",
                "median_hours",
                "p90_hours",
                "max_hours",
                "removed_with_deadline",
                "within_deadline",
                "within_deadline_share",
                "reuploads",
            ),
            tuple(
                (
                    r.platform,
                    r.notices,
                    r.pages,
                    r.removed,
                    r.partially_removed,
                    r.refused,
                    r.expired,
                    r.media,
                    r.media_removed,
                    r.overdue,
                    *_spread(r.time_to_removal),
                    r.removed_with_deadline,
                    r.within_deadline,
                    _share(r.within_deadline, r.removed_with_deadline),
                    r.reuploads,
                )
                for r in figures.removal
            ),
            notes=('platform "" is every platform together',),
        ),
        Table(
            "removal_time_bands",
            ("platform", *BAND_NAMES),
            tuple((r.platform, *r.bands) for r in figures.removal),
        ),
        Table(
            "hotline_work",
            ("measure", "urgency", "count", "median_hours", "p90_hours", "max_hours"),
            tuple(
                (measure, urgency, spread.count, *_spread(spread))
                for measure, spreads in (
                    ("first_look", figures.work.first_look),
                    ("decision", figures.work.decision),
                )
                for urgency in URGENCY
                for spread in [spreads[urgency]]
            ),
        ),
        Table(
            "bank_entries",
            ("bank", "category", "month", "added", "withdrawn"),
            tuple(
                (b.bank, Category(b.category), b.month, b.added, b.withdrawn) for b in figures.banks
            ),
        ),
        Table(
            "partner_feedback",
            ("platform", "outcome", "count"),
            tuple((f.platform, FeedbackOutcome(f.outcome), f.count) for f in figures.feedback),
        ),
        Table(
            "partner_matches",
            (
                "platform",
                "bank",
                "category",
                "signals",
                "signals_matched",
                "videos",
                "videos_matched",
            ),
            tuple(
                (
                    m.platform,
                    m.bank,
                    Category(m.category) if m.category else m.category,
                    m.signals,
                    m.signals_matched,
                    m.videos,
                    m.videos_matched,
                )
                for m in figures.matches
            ),
            notes=(
                'bank "" is every bank the platform asked: signals and videos queried, '
                "and how many matched any bank",
            ),
        ),
        Table(
            "referrals",
            (
                "agency_kind",
                "status",
                "agency_outcome",
                "referrals",
                "mandatory",
                "mandatory_on_time",
            ),
            tuple(
                (
                    AgencyKind(r.kind),
                    ReferralStatus(r.status),
                    r.outcome,
                    r.referrals,
                    r.mandatory,
                    r.mandatory_on_time,
                )
                for r in figures.referrals
            ),
        ),
    ]
