"""Analysts' decisions on items: which media they cover, and what they do to the banks.

An item's decisions form a history, newest last; at most one is in force (RECORDED)
and ``Item.classification`` mirrors it.  A decision names the media objects it covers
(the pictures and videos of the item's page that are part of it, or the file hashed on
the reporter's device); notices name those media, and verification checks them.

A decision that banks (CSAM, a minor's self-generated image, an adult's image shared
without consent, a picture that is part of a sextortion threat) puts each covered
media object's hashes where its trust allows (``trust``): the verified bank of its
category when someone saw it or it matched a verified entry, ``unverified`` when not;
files hashed on a reporter's device stay in ``self-reported`` whatever is decided.

When the operator requires a second analyst, a banking decision waits (AWAITING_SECOND)
while the decision in force, if any, stays in force; it takes effect only when a
different analyst or supervisor agrees.  Decisions that bank nothing take effect at
once: refusing to act never needs two people.

A new decision supersedes the one in force (and any still awaiting agreement).  What
an item's earlier decisions banked and the new one does not is withdrawn (tombstones
in the hash feed), except signals another decision in force also banked, and except
entries that came from elsewhere (an import).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.accounts.domain import CASE_WORKERS
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking
from reclaim.banks.domain import UNVERIFIED_BANK, VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.engine import MatchEngine
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases import status, trust
from reclaim.cases.domain import DECISION_MACHINE, Classification, DecisionStatus
from reclaim.cases.models import Decision, DecisionMedia, Item, Media, MediaSignal
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock

#: Who may decide and agree.
DECIDERS = CASE_WORKERS
BANKING = tuple(c for c in Classification if c.is_confirming)
MAX_REASON_CHARS = 2000


class DecisionError(ValueError):
    """A decision that cannot be recorded; ``code`` names the problem for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    require_second_analyst: bool = False
    min_pdq_quality: int = 50
    max_distance: int = 31

    @classmethod
    def from_settings(cls, settings: Settings) -> DecisionPolicy:
        return cls(
            settings.require_second_analyst,
            settings.bank_min_pdq_quality,
            settings.match_max_distance,
        )


@dataclass(slots=True)
class BankEffect:
    """What a decision taking effect did to the banks."""

    banked: int = 0  # into a verified bank
    unverified: int = 0  # into `unverified` (nobody saw the picture)
    rejected: list[str] = field(default_factory=list)
    withdrawn: int = 0
    entry_ids: list[int] = field(default_factory=list)  # every entry the decision holds

    def details(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "banked": self.banked,
            "unverified": self.unverified,
            "withdrawn": self.withdrawn,
        }
        if self.rejected:
            found["rejected"] = self.rejected
        return found


def source_ref(case_number: str, item_id: int, decision_id: int) -> str:
    return f"case {case_number}/item {item_id}/decision {decision_id}"


def in_force(session: Session, item: Item) -> Decision | None:
    return session.scalar(
        select(Decision).where(
            Decision.item_id == item.id, Decision.status == DecisionStatus.RECORDED
        )
    )


def history(session: Session, item_ids: list[int]) -> dict[int, list[Decision]]:
    """item id -> its decisions, oldest first."""
    found: dict[int, list[Decision]] = {item_id: [] for item_id in item_ids}
    if item_ids:
        rows = session.scalars(
            select(Decision)
            .where(Decision.item_id.in_(item_ids))
            .options(
                selectinload(Decision.analyst),
                selectinload(Decision.second_analyst),
                selectinload(Decision.media),
            )
            .order_by(Decision.id)
        )
        for decision in rows:
            found[decision.item_id].append(decision)
    return found


def default_coverage(item: Item, classification: Classification) -> list[Media]:
    """The media a decision covers unless the analyst says otherwise: everything the item
    shows, except for an offender's conduct (its media are chosen one by one)."""
    if classification.targets_account:
        return []
    return item.media


def decide(
    session: Session,
    item: Item,
    classification: Classification,
    *,
    analyst_id: int,
    reason: str | None,
    policy: DecisionPolicy,
    media_ids: Collection[int] | None = None,
    matcher: MatchEngine | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """Record an analyst's classification of ``item`` covering ``media_ids`` (default:
    :func:`default_coverage`); audited ITEM_DECIDED."""
    reason = (reason or "").strip() or None
    if classification is Classification.NOT_ACTIONABLE and reason is None:
        raise DecisionError("reason_required", "a 'not actionable' decision needs a reason")
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise DecisionError("reason_too_long", f"a reason is at most {MAX_REASON_CHARS} characters")
    if item.withdrawn_at is not None:
        raise DecisionError("item_withdrawn", "the reporter withdrew this item")
    covered = _coverage(item, classification, media_ids)
    now = clock()
    for pending in _awaiting(session, item):
        _move(pending, DecisionStatus.SUPERSEDED)
    waits = classification.is_confirming and policy.require_second_analyst
    decision = Decision(
        item_id=item.id,
        analyst_id=analyst_id,
        classification=classification,
        reason=reason,
        status=DecisionStatus.AWAITING_SECOND if waits else DecisionStatus.RECORDED,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    for media in covered:
        session.add(DecisionMedia(decision_id=decision.id, media_id=media.id))
    session.flush()
    session.refresh(decision, ["media"])
    if waits:
        effect = BankEffect()
    else:
        effect = _take_effect(session, item, decision, policy, matcher=matcher, clock=clock)
    audit.record(
        session,
        AuditTag.ITEM_DECIDED,
        actor=audit.Actor.user(analyst_id),
        target=(TargetKind.ITEM, item.id),
        details={
            "decision": decision.id,
            "classification": classification.value,
            "status": decision.status.value,
            "media": [media.id for media in covered],
            **effect.details(),
        },
        clock=clock,
    )
    status.follow_work(session, item.case, actor=audit.Actor.user(analyst_id), clock=clock)
    return decision


def agree(
    session: Session,
    decision: Decision,
    *,
    reviewer_id: int,
    policy: DecisionPolicy,
    matcher: MatchEngine | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """A second analyst agrees: the waiting decision takes effect; audited."""
    if decision.status is not DecisionStatus.AWAITING_SECOND:
        raise DecisionError("not_awaiting", "this decision is not waiting for agreement")
    if decision.analyst_id == reviewer_id:
        raise DecisionError(
            "same_analyst", "the second analyst must be someone other than the first"
        )
    decision.second_analyst_id = reviewer_id
    decision.agreed_at = clock()
    item = decision.item
    effect = _take_effect(session, item, decision, policy, matcher=matcher, clock=clock)
    audit.record(
        session,
        AuditTag.DECISION_AGREED,
        actor=audit.Actor.user(reviewer_id),
        target=(TargetKind.ITEM, item.id),
        details={
            "decision": decision.id,
            "classification": decision.classification.value,
            "analyst": decision.analyst_id,
            **effect.details(),
        },
        clock=clock,
    )
    status.follow_work(session, item.case, actor=audit.Actor.user(reviewer_id), clock=clock)
    return decision


def _coverage(
    item: Item, classification: Classification, media_ids: Collection[int] | None
) -> list[Media]:
    shown = item.media
    if media_ids is None:
        return default_coverage(item, classification)
    wanted = set(media_ids)
    unknown = wanted - {media.id for media in shown}
    if unknown:
        raise DecisionError("unknown_media", "a chosen picture is not one this item shows")
    return [media for media in shown if media.id in wanted]


def bank_media(
    session: Session,
    item: Item,
    decision: Decision,
    policy: DecisionPolicy,
    *,
    matcher: MatchEngine | None = None,
    clock: Clock = system_clock,
) -> BankEffect:
    """Put the hashes of the media ``decision`` covers where their trust allows."""
    effect = BankEffect()
    category = decision.classification.category
    if category is None:
        return effect
    ref = source_ref(item.case.number, item.id, decision.id)
    for media in decision.media:
        if media.from_device:
            continue  # stays self-reported: nobody here saw it
        matches = (
            trust.matches_of(session, media, matcher, max_distance=policy.max_distance)
            if matcher is not None
            else None
        )
        verdict = trust.trust_of(session, media, matches)
        entries = [
            banking.NewEntry(
                signal,
                quality,
                verified=verdict.verified,
                category=category,
                verified_via=verdict.reason if verdict.verified else None,
            )
            for signal, quality in trust.media_signals(session, media)
        ]
        if not entries:
            continue
        bank = (
            banking.verified_bank(session, category)
            if verdict.verified
            else banking.get_bank(session, UNVERIFIED_BANK)
        )
        outcome = banking.add_signals(
            session,
            bank,
            entries,
            source=EntrySource.DECISION,
            source_ref=ref,
            min_pdq_quality=policy.min_pdq_quality,
            clock=clock,
        )
        count = outcome.added + outcome.reactivated
        effect.entry_ids.extend(outcome.entry_ids)
        if verdict.verified:
            effect.banked += count
        else:
            effect.unverified += count
        effect.rejected.extend(reason for _signal, reason in outcome.rejected)
    return effect


def _move(decision: Decision, new_status: DecisionStatus) -> None:
    decision.status = DECISION_MACHINE.check(decision.status, new_status)


def _awaiting(session: Session, item: Item) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(
                Decision.item_id == item.id, Decision.status == DecisionStatus.AWAITING_SECOND
            )
        )
    )


def _take_effect(
    session: Session,
    item: Item,
    decision: Decision,
    policy: DecisionPolicy,
    *,
    matcher: MatchEngine | None,
    clock: Clock,
) -> BankEffect:
    previous = in_force(session, item)
    if previous is not None and previous.id != decision.id:
        _move(previous, DecisionStatus.SUPERSEDED)
    if decision.status is not DecisionStatus.RECORDED:
        _move(decision, DecisionStatus.RECORDED)
    item.classification = decision.classification
    session.flush()
    effect = bank_media(session, item, decision, policy, matcher=matcher, clock=clock)
    if previous is not None and previous.classification.is_confirming:
        effect.withdrawn = _withdraw_earlier(session, item, decision, effect.entry_ids, clock)
    return effect


def _withdraw_earlier(
    session: Session, item: Item, decision: Decision, kept: Collection[int], clock: Clock
) -> int:
    """Withdraw the entries this item's earlier decisions banked that ``decision`` does
    not hold (``kept``), unless another case's decision in force holds the same signal
    in the same bank; imported and reported entries are left alone.

    A decision that moves a picture to another category withdraws it from the old
    category's bank: a hash is never listed as two different things at once.
    """
    bank_names = [*VERIFIED_BANKS.values(), UNVERIFIED_BANK]
    candidates = session.execute(
        select(BankEntry.id, BankEntry.signal_id, Bank.category)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(
            Bank.name.in_(bank_names),
            BankEntry.source == EntrySource.DECISION,
            BankEntry.source_ref.like(f"case {item.case.number}/item {item.id}/%"),
            BankEntry.withdrawn_at.is_(None),
            BankEntry.id.not_in(list(kept)) if kept else BankEntry.id.is_not(None),
        )
    ).all()
    if not candidates:
        return 0
    held = _held_elsewhere(session, item, [signal_id for _id, signal_id, _c in candidates])
    entry_ids = [
        entry_id
        for entry_id, signal_id, category in candidates
        if not any(category in (None, other) for other in held.get(signal_id, ()))
    ]
    return len(
        banking.withdraw_entries(
            session, entry_ids, reason=f"decision {decision.id} replaced it", clock=clock
        )
    )


def _held_elsewhere(
    session: Session, item: Item, signal_ids: Collection[int]
) -> dict[int, set[Category]]:
    """signal id -> the categories other items' decisions in force bank it as."""
    rows = session.execute(
        select(MediaSignal.signal_id, Decision.classification)
        .join(DecisionMedia, DecisionMedia.media_id == MediaSignal.media_id)
        .join(Decision, Decision.id == DecisionMedia.decision_id)
        .where(
            MediaSignal.signal_id.in_(list(signal_ids)),
            Decision.status == DecisionStatus.RECORDED,
            Decision.item_id != item.id,
            Decision.classification.in_(BANKING),
        )
    ).all()
    held: dict[int, set[Category]] = {}
    for signal_id, classification in rows:
        if classification.category is not None:
            held.setdefault(signal_id, set()).add(classification.category)
    return held
