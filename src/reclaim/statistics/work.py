"""Hotline work and hash banks: time to first look and to a decision per urgency;
referrals sent per agency kind, status and outcome; bank entries added and withdrawn
per bank, category and month; what partners reported, and how much they matched.

First look: the first time a staff member opened the case (the audit trail's
``case:case:viewed``).  Decision: the first decision recorded on any item of the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import Session

from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.models import Case, Decision, Item
from reclaim.partners.domain import ALL_BANKS
from reclaim.partners.models import Feedback, MatchVolume, Partner
from reclaim.platforms.models import Platform
from reclaim.referrals.models import Agency, Referral
from reclaim.statistics.domain import EMPTY_SPREAD, Filter, Period, Spread
from reclaim.statistics.sql import month_of, seconds_between, spreads

URGENCY = ("urgent", "not_urgent")


@dataclass(frozen=True, slots=True)
class WorkFigures:
    # urgency ("urgent" / "not_urgent") -> spread
    first_look: dict[str, Spread]
    decision: dict[str, Spread]


def _cases(where: Filter) -> Select[Any]:
    period = where.period
    query = select(Case.id).where(Case.created_at >= period.start, Case.created_at < period.end)
    if where.urgent is not None:
        query = query.where(Case.urgent.is_(where.urgent))
    if where.classification is not None:
        query = query.where(
            exists().where(Item.case_id == Case.id, Item.classification == where.classification)
        )
    return query


def work_durations(session: Session, where: Filter) -> dict[str, Select[Any]]:
    """Per measure (``first_look``, ``decision``): a select of (urgency, seconds), one
    row per case of the filter that has that first moment."""
    cases = _cases(where).subquery()
    urgency = case((Case.urgent.is_(True), "urgent"), else_="not_urgent")
    # Each first moment is found for the period's cases only (the indexes on the
    # audit trail's case views and on items by case lead there).
    first_view = (
        select(
            Case.id.label("case_id"),
            urgency.label("u"),
            Case.created_at.label("created_at"),
            func.min(AuditEvent.created_at).label("at"),
        )
        .join(cases, cases.c.id == Case.id)
        .join(
            AuditEvent,
            and_(
                AuditEvent.tag == AuditTag.CASE_VIEWED.value,
                AuditEvent.target_id == Case.id,
                AuditEvent.target_type == TargetKind.CASE,
                AuditEvent.actor_type == ActorKind.USER,
            ),
        )
        .group_by(Case.id, urgency, Case.created_at)
        .subquery()
    )
    first_decision = (
        select(
            Case.id.label("case_id"),
            urgency.label("u"),
            Case.created_at.label("created_at"),
            func.min(Decision.created_at).label("at"),
        )
        .join(cases, cases.c.id == Case.id)
        .join(Item, Item.case_id == Case.id)
        .join(Decision, Decision.item_id == Item.id)
        .group_by(Case.id, urgency, Case.created_at)
        .subquery()
    )

    return {
        measure: select(first.c.u, seconds_between(session, first.c.at, first.c.created_at))
        for measure, first in (("first_look", first_view), ("decision", first_decision))
    }


def work_from(session: Session, durations: dict[str, Any]) -> WorkFigures:
    """The spreads per urgency of selects of (urgency, seconds) per measure."""

    def spread_of(measure: str) -> dict[str, Spread]:
        found = spreads(session, durations[measure])
        return {name: found.get(name, EMPTY_SPREAD) for name in URGENCY}

    return WorkFigures(first_look=spread_of("first_look"), decision=spread_of("decision"))


def work_figures(session: Session, where: Filter) -> WorkFigures:
    return work_from(session, work_durations(session, where))


@dataclass(frozen=True, slots=True)
class BankRow:
    bank: str
    category: str
    month: str
    added: int
    withdrawn: int


def bank_figures(session: Session, where: Filter) -> list[BankRow]:
    """Entries added and withdrawn in the period, per bank, category and month."""
    period, offset = where.period, where.period.offset_minutes

    def counted(column: Any) -> dict[tuple[str, str, str], int]:
        month = month_of(session, column, offset)
        rows = session.execute(
            select(Bank.name, BankEntry.category, month, func.count())
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(column >= period.start, column < period.end)
            .group_by(Bank.name, BankEntry.category, month)
        ).all()
        return {(str(b), str(c), str(m)): int(n) for b, c, m, n in rows}

    added = counted(BankEntry.added_at)
    withdrawn = counted(BankEntry.withdrawn_at)
    return [
        BankRow(bank, category, month, added.get(k, 0), withdrawn.get(k, 0))
        for k in sorted(set(added) | set(withdrawn))
        for bank, category, month in [k]
    ]


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    platform: str
    outcome: str
    count: int


def feedback_figures(session: Session, where: Filter) -> list[FeedbackRow]:
    """What partners reported in the period, per platform and outcome."""
    period = where.period
    query = (
        select(Platform.name, Feedback.outcome, func.count())
        .join(Partner, Partner.id == Feedback.partner_id)
        .join(Platform, Platform.id == Partner.platform_id)
        .where(Feedback.created_at >= period.start, Feedback.created_at < period.end)
        .group_by(Platform.name, Feedback.outcome)
        .order_by(Platform.name, Feedback.outcome)
    )
    if where.platform_id is not None:
        query = query.where(Partner.platform_id == where.platform_id)
    return [FeedbackRow(str(p), str(o), int(n)) for p, o, n in session.execute(query).all()]


@dataclass(frozen=True, slots=True)
class MatchRow:
    """A platform's match calls in the period.  ``bank == ""``: what it asked (signals
    and videos queried, and how many matched any bank); a named bank and category: how
    many of them matched there (queried is not counted per bank: ``None``)."""

    platform: str
    bank: str
    category: str
    signals: int | None
    signals_matched: int
    videos: int | None
    videos_matched: int


def match_figures(session: Session, where: Filter) -> list[MatchRow]:
    """Partners' match volumes in the period, per platform, bank and category.

    Counted per the operator's calendar day (``partner_match_volumes.day``), so a
    period of whole days is exact."""
    period = where.period
    query = (
        select(
            Platform.name,
            MatchVolume.bank,
            MatchVolume.category,
            func.sum(MatchVolume.signals),
            func.sum(MatchVolume.signals_matched),
            func.sum(MatchVolume.videos),
            func.sum(MatchVolume.videos_matched),
        )
        .join(Partner, Partner.id == MatchVolume.partner_id)
        .join(Platform, Platform.id == Partner.platform_id)
        .where(MatchVolume.day >= period.first, MatchVolume.day <= period.last)
        .group_by(Platform.name, MatchVolume.bank, MatchVolume.category)
        .order_by(Platform.name, MatchVolume.bank, MatchVolume.category)
    )
    if where.platform_id is not None:
        query = query.where(Partner.platform_id == where.platform_id)

    def asked(bank: str, count: Any) -> int | None:
        return int(count) if bank == ALL_BANKS else None

    return [
        MatchRow(str(p), str(b), str(c), asked(b, s), int(sm), asked(b, v), int(vm))
        for p, b, c, s, sm, v, vm in session.execute(query).all()
    ]


@dataclass(frozen=True, slots=True)
class ReferralRow:
    kind: str  # the agency's kind
    status: str  # where the referral is now
    outcome: str  # what the agency reported ("" none yet)
    referrals: int
    mandatory: int  # of them, mandatory (a minor's case, CYSEPA art. 7)
    mandatory_on_time: int  # of those, sent by their deadline


def referral_figures(session: Session, where: Filter) -> list[ReferralRow]:
    """Referrals sent in the period (drafts and cancelled ones never left), per agency
    kind, status and outcome; the urgency and type filters choose their cases."""
    period = where.period
    outcome = func.coalesce(Referral.outcome, "")
    mandatory = Referral.mandatory.is_(True)
    on_time = and_(
        mandatory, Referral.deadline_at.is_not(None), Referral.sent_at <= Referral.deadline_at
    )
    query = (
        select(
            Agency.kind,
            Referral.status,
            outcome,
            func.count(),
            func.sum(case((mandatory, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
        )
        .join(Agency, Agency.id == Referral.agency_id)
        .where(Referral.sent_at >= period.start, Referral.sent_at < period.end)
        .group_by(Agency.kind, Referral.status, outcome)
        .order_by(Agency.kind, Referral.status, outcome)
    )
    if where.urgent is not None or where.classification is not None:
        query = query.where(Referral.case_id.in_(_cases(_unbounded(where))))
    return [
        ReferralRow(str(k), str(s), str(o), int(n), int(m or 0), int(t or 0))
        for k, s, o, n, m, t in session.execute(query).all()
    ]


def _unbounded(where: Filter) -> Filter:
    """The filter's urgency and type over any case (a case referred in the period may
    have been reported before it)."""
    return Filter(
        Period(date(1970, 1, 1), date(9999, 12, 30), where.period.zone),
        urgent=where.urgent,
        classification=where.classification,
    )
