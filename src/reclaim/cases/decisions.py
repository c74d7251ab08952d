"""Analysts' decisions on items, and what they do to the `confirmed` bank.

An item's decisions form a history, newest last; at most one is in force (RECORDED)
and ``Item.classification`` mirrors it.  A confirming decision (CSAM, a minor's
self-generated image, an adult's image shared without consent) puts the item's
signals into the `confirmed` bank with its provenance (``case …/item …/decision …``).

When the operator requires a second analyst, a confirming decision waits
(AWAITING_SECOND) while the decision in force, if any, stays in force; it takes
effect only when a different analyst or supervisor agrees.  Decisions that confirm
nothing take effect at once: refusing to act never needs two people.

A new decision supersedes the one in force (and any still awaiting agreement).  When
a confirmed item is re-classified as something that confirms nothing, the signals it
banked are withdrawn (tombstones in the hash feed), except those another confirmed
item also holds, and except entries that came from elsewhere (an import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.accounts.domain import CASE_WORKERS
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking
from reclaim.banks.domain import CONFIRMED_BANK, EntrySource
from reclaim.banks.models import BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import DECISION_MACHINE, Classification, DecisionStatus
from reclaim.cases.models import Decision, Item, ItemSignal
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType

#: Who may decide and agree.
DECIDERS = CASE_WORKERS
CONFIRMING = tuple(c for c in Classification if c.is_confirming)
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

    @classmethod
    def from_settings(cls, settings: Settings) -> DecisionPolicy:
        return cls(settings.require_second_analyst, settings.bank_min_pdq_quality)


@dataclass(slots=True)
class BankEffect:
    """What a decision taking effect did to the `confirmed` bank."""

    banked: int = 0
    rejected: list[str] = field(default_factory=list)
    withdrawn: int = 0

    def details(self) -> dict[str, Any]:
        found: dict[str, Any] = {"banked": self.banked, "withdrawn": self.withdrawn}
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
            .options(selectinload(Decision.analyst), selectinload(Decision.second_analyst))
            .order_by(Decision.id)
        )
        for decision in rows:
            found[decision.item_id].append(decision)
    return found


def decide(
    session: Session,
    item: Item,
    classification: Classification,
    *,
    analyst_id: int,
    reason: str | None,
    policy: DecisionPolicy,
    clock: Clock = system_clock,
) -> Decision:
    """Record an analyst's classification of ``item``; audited ITEM_DECIDED."""
    reason = (reason or "").strip() or None
    if classification is Classification.NOT_ACTIONABLE and reason is None:
        raise DecisionError("reason_required", "a 'not actionable' decision needs a reason")
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise DecisionError("reason_too_long", f"a reason is at most {MAX_REASON_CHARS} characters")
    if item.withdrawn_at is not None:
        raise DecisionError("item_withdrawn", "the reporter withdrew this item")
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
    effect = BankEffect() if waits else _take_effect(session, item, decision, policy, clock)
    audit.record(
        session,
        AuditTag.ITEM_DECIDED,
        actor=audit.Actor.user(analyst_id),
        target=(TargetKind.ITEM, item.id),
        details={
            "decision": decision.id,
            "classification": classification.value,
            "status": decision.status.value,
            **effect.details(),
        },
        clock=clock,
    )
    return decision


def agree(
    session: Session,
    decision: Decision,
    *,
    reviewer_id: int,
    policy: DecisionPolicy,
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
    effect = _take_effect(session, item, decision, policy, clock)
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
    return decision


def bank_item_signals(
    session: Session,
    item: Item,
    decision: Decision,
    policy: DecisionPolicy,
    *,
    signal_ids: list[int] | None = None,
    clock: Clock = system_clock,
) -> BankEffect:
    """Put the item's signals (or just ``signal_ids``) into the `confirmed` bank."""
    query = select(SignalRow.type, SignalRow.value, ItemSignal.quality).join(
        ItemSignal, ItemSignal.signal_id == SignalRow.id
    )
    query = query.where(ItemSignal.item_id == item.id)
    if signal_ids is not None:
        query = query.where(SignalRow.id.in_(signal_ids))
    entries = [
        banking.NewEntry(Signal(SignalType(kind), value), quality, verified=True)
        for kind, value, quality in session.execute(query)
    ]
    effect = BankEffect()
    if not entries:
        return effect
    outcome = banking.add_signals(
        session,
        banking.get_bank(session, CONFIRMED_BANK),
        entries,
        source=EntrySource.DECISION,
        source_ref=source_ref(item.case.number, item.id, decision.id),
        min_pdq_quality=policy.min_pdq_quality,
        clock=clock,
    )
    effect.banked = outcome.added + outcome.reactivated
    effect.rejected = [reason for _signal, reason in outcome.rejected]
    return effect


def _move(decision: Decision, status: DecisionStatus) -> None:
    decision.status = DECISION_MACHINE.check(decision.status, status)


def _awaiting(session: Session, item: Item) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(
                Decision.item_id == item.id, Decision.status == DecisionStatus.AWAITING_SECOND
            )
        )
    )


def _take_effect(
    session: Session, item: Item, decision: Decision, policy: DecisionPolicy, clock: Clock
) -> BankEffect:
    previous = in_force(session, item)
    if previous is not None and previous.id != decision.id:
        _move(previous, DecisionStatus.SUPERSEDED)
    if decision.status is not DecisionStatus.RECORDED:
        _move(decision, DecisionStatus.RECORDED)
    item.classification = decision.classification
    session.flush()
    if decision.classification.is_confirming:
        return bank_item_signals(session, item, decision, policy, clock=clock)
    if previous is not None and previous.classification.is_confirming:
        return BankEffect(withdrawn=_withdraw_item_signals(session, item, clock))
    return BankEffect()


def _withdraw_item_signals(session: Session, item: Item, clock: Clock) -> int:
    """Withdraw what this item's confirmation banked, unless another confirmed item
    holds the same signal; entries from imports or reports are left alone."""
    held_elsewhere = (
        select(ItemSignal.signal_id)
        .join(Item, Item.id == ItemSignal.item_id)
        .where(Item.id != item.id, Item.classification.in_(CONFIRMING))
    )
    bank = banking.get_bank(session, CONFIRMED_BANK)
    entry_ids = session.scalars(
        select(BankEntry.id)
        .join(ItemSignal, ItemSignal.signal_id == BankEntry.signal_id)
        .where(
            ItemSignal.item_id == item.id,
            BankEntry.bank_id == bank.id,
            BankEntry.source == EntrySource.DECISION,
            BankEntry.withdrawn_at.is_(None),
            BankEntry.signal_id.not_in(held_elsewhere),
        )
    ).all()
    return len(banking.withdraw_entries(session, entry_ids, clock=clock))
