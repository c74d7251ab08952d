"""What platforms report doing about Reclaim's signals: removed, blocked, not violating.

A partner reports per signal (a hash it got from the feed) or per match (the bank
entry a match named).  Reports are stored once: a retried request is recognised by a
digest of its content, so counts are not inflated by retries, while two blocked
uploads at different times (``observed_at``) count twice.

Counts are read per case (through the case's items' signals) and per platform for the
statistics.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import feed_guard
from reclaim.banks.domain import HoldReason
from reclaim.banks.models import BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.models import Item, Media, MediaSignal
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.partners.domain import FeedbackOutcome
from reclaim.partners.models import Feedback, Partner
from reclaim.platforms.models import Platform
from reclaim.storage.bulk import chunked, insert_ignoring_duplicates


class FeedbackError(ValueError):
    """A report that names something Reclaim does not know; nothing was stored."""

    def __init__(self, code: str, message: str, index: int) -> None:
        super().__init__(message)
        self.code = code
        self.index = index


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    """One report: about a signal, or about the bank entry a match named."""

    outcome: FeedbackOutcome
    signal: Signal | None = None
    entry_id: int | None = None
    url: str | None = None
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    id: int
    signal: Signal
    entry_id: int | None
    outcome: FeedbackOutcome
    url: str | None
    observed_at: datetime | None
    created_at: datetime


def record_feedback(
    session: Session,
    partner_id: int,
    reports: Sequence[FeedbackReport],
    *,
    actor: audit.Actor,
    guard: feed_guard.GuardPolicy | None = None,
    clock: Clock = system_clock,
) -> Recorded:
    """Store the reports, all or none (FeedbackError names the first unknown target).

    With a ``guard``, "not violating" reports feed the flood guard: a self-reported hash
    that enough partners called not violating is held out of the feed.
    """
    signal_ids = _signal_ids(session, [r.signal for r in reports if r.signal is not None])
    entry_signals = _entry_signal_ids(session, [r.entry_id for r in reports if r.entry_id])
    now = clock()
    rows: dict[str, dict[str, object]] = {}
    for index, report in enumerate(reports):
        if report.entry_id is not None:
            signal_id = entry_signals.get(report.entry_id)
            if signal_id is None:
                raise FeedbackError(
                    "unknown_entry", f"feedback[{index}]: no bank entry {report.entry_id}", index
                )
        else:
            assert report.signal is not None  # the boundary guarantees one target
            signal_id = signal_ids.get(report.signal)
            if signal_id is None:
                raise FeedbackError(
                    "unknown_signal",
                    f"feedback[{index}]: Reclaim does not know the signal {report.signal}",
                    index,
                )
        key = _dedupe_key(partner_id, signal_id, report)
        rows[key] = {
            "partner_id": partner_id,
            "signal_id": signal_id,
            "bank_entry_id": report.entry_id,
            "outcome": report.outcome,
            "url": report.url,
            "observed_at": report.observed_at,
            "created_at": now,
            "dedupe_key": key,
        }
    existing: set[str] = set()
    for part in chunked(list(rows)):
        existing.update(
            session.scalars(select(Feedback.dedupe_key).where(Feedback.dedupe_key.in_(part)))
        )
    fresh = [row for key, row in rows.items() if key not in existing]
    insert_ignoring_duplicates(session, Feedback.__table__, fresh)  # type: ignore[arg-type]
    duplicates = len(reports) - len(fresh)
    if guard is not None:
        flagged = {
            int(str(row["signal_id"]))
            for row in fresh
            if row["outcome"] is FeedbackOutcome.NOT_VIOLATING
        }
        hold_disputed(session, flagged, policy=guard, clock=clock)
    if fresh:
        audit.record(
            session,
            AuditTag.PARTNER_FEEDBACK_RECEIVED,
            actor=actor,
            target=(TargetKind.PARTNER, partner_id),
            details={
                "accepted": len(fresh),
                "duplicates": duplicates,
                "outcomes": dict(sorted(Tally(str(r["outcome"]) for r in fresh).items())),
            },
            clock=clock,
        )
    return Recorded(len(fresh), duplicates)


def hold_disputed(
    session: Session,
    signal_ids: set[int],
    *,
    policy: feed_guard.GuardPolicy,
    clock: Clock = system_clock,
) -> None:
    """Hold the self-reported entries of these signals that enough different partners
    have called not violating."""
    if not signal_ids:
        return
    entries = feed_guard.self_reported_entries(session, signal_ids)
    if not entries:
        return
    partners = dict(
        session.execute(
            select(Feedback.signal_id, func.count(func.distinct(Feedback.partner_id)))
            .where(
                Feedback.signal_id.in_(list(entries)),
                Feedback.outcome == FeedbackOutcome.NOT_VIOLATING,
            )
            .group_by(Feedback.signal_id)
        ).all()
    )
    feed_guard.consider(
        session,
        {entries[signal_id]: count for signal_id, count in partners.items()},
        reason=HoldReason.NOT_VIOLATING,
        threshold=policy.feedback_partners,
        clock=clock,
    )


def _dedupe_key(partner_id: int, signal_id: int, report: FeedbackReport) -> str:
    observed = report.observed_at.isoformat() if report.observed_at else None
    payload = [partner_id, signal_id, report.entry_id, report.outcome.value, report.url, observed]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _signal_ids(session: Session, signals: list[Signal]) -> dict[Signal, int]:
    found: dict[Signal, int] = {}
    by_type: dict[SignalType, set[str]] = {}
    for signal in signals:
        by_type.setdefault(signal.type, set()).add(signal.value)
    for kind, values in by_type.items():
        for part in chunked(sorted(values)):
            rows = session.execute(
                select(SignalRow.id, SignalRow.value).where(
                    SignalRow.type == kind, SignalRow.value.in_(part)
                )
            )
            found.update({Signal(kind, value): signal_id for signal_id, value in rows})
    return found


def _entry_signal_ids(session: Session, entry_ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for part in chunked(sorted(set(entry_ids))):
        rows = session.execute(
            select(BankEntry.id, BankEntry.signal_id).where(BankEntry.id.in_(part))
        )
        for entry_id, signal_id in rows:
            found[entry_id] = signal_id
    return found


# --- reading ---------------------------------------------------------------------


def list_feedback(
    session: Session, partner_id: int, *, after_id: int, limit: int
) -> list[FeedbackRecord]:
    """A partner's own reports, oldest first, after ``after_id``."""
    rows = session.execute(
        select(Feedback, SignalRow.type, SignalRow.value)
        .join(SignalRow, SignalRow.id == Feedback.signal_id)
        .where(Feedback.partner_id == partner_id, Feedback.id > after_id)
        .order_by(Feedback.id)
        .limit(limit)
    ).all()
    return [
        FeedbackRecord(
            id=row.id,
            signal=Signal(SignalType(kind), value),
            entry_id=row.bank_entry_id,
            outcome=FeedbackOutcome(row.outcome),
            url=row.url,
            observed_at=row.observed_at,
            created_at=row.created_at,
        )
        for row, kind, value in rows
    ]


def case_feedback_counts(session: Session, case_id: int) -> dict[FeedbackOutcome, int]:
    """What platforms reported about the signals of a case's items, by outcome."""
    case_signals = (
        select(MediaSignal.signal_id)
        .join(Media, Media.id == MediaSignal.media_id)
        .join(Item, or_(Media.item_id == Item.id, Media.page_id == Item.page_id))
        .where(Item.case_id == case_id)
        .distinct()
        .scalar_subquery()
    )
    rows = session.execute(
        select(Feedback.outcome, func.count())
        .where(Feedback.signal_id.in_(case_signals))
        .group_by(Feedback.outcome)
    )
    return {FeedbackOutcome(outcome): count for outcome, count in rows}


@dataclass(frozen=True, slots=True)
class PlatformFeedback:
    platform: str
    counts: dict[FeedbackOutcome, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def feedback_by_platform(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[PlatformFeedback]:
    """Reports per platform and outcome (received between ``since`` and ``until``)."""
    query = (
        select(Platform.name, Feedback.outcome, func.count())
        .join(Partner, Partner.id == Feedback.partner_id)
        .join(Platform, Platform.id == Partner.platform_id)
        .group_by(Platform.name, Feedback.outcome)
        .order_by(Platform.name)
    )
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if until is not None:
        query = query.where(Feedback.created_at < until)
    by_platform: dict[str, dict[FeedbackOutcome, int]] = {}
    for name, outcome, count in session.execute(query):
        by_platform.setdefault(name, {})[FeedbackOutcome(outcome)] = count
    return [PlatformFeedback(name, counts) for name, counts in by_platform.items()]
