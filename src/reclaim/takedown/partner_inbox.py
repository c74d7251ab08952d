"""The notices inbox of the partner API: a platform reads, acknowledges and resolves the
notices sent to it.

A platform's word is recorded apart from what Reclaim saw (``platform_outcome``): a
claim of removal never marks an item removed, it only brings the item's next
verification forward to now, and verification (services/verification.py) decides.  A
refusal is the platform's own decision, so it does settle the item as refused (a later
check that finds the content gone still records the removal).

The notice's status follows: acknowledging moves a sent notice to acknowledged; a
resolution moves it to whatever the items' outcomes call for (refused when every item
is refused, partially removed when verified removals and refusals mix), and at least
to acknowledged.  Every move goes through services/notices.move, so illegal moves are
refused and every change is audited with the partner as the actor.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock
from reclaim.takedown.domain import (
    NOTICE_MACHINE,
    ItemOutcome,
    NoticeStatus,
    ResolveOutcome,
    summarise,
)
from reclaim.takedown.models import Notice, NoticeItem
from reclaim.takedown.notices import NoticePolicy, mark_sent, move

#: What a partner sees: everything but drafts (which have not been sent to anyone).
VISIBLE_STATUSES = tuple(s for s in NoticeStatus if s is not NoticeStatus.DRAFT)
_CLAIMS = {
    ResolveOutcome.REMOVED: ItemOutcome.REMOVED,
    ResolveOutcome.NOT_FOUND: ItemOutcome.NOT_FOUND,
    ResolveOutcome.REFUSED: ItemOutcome.REFUSED,
}


class UnknownNoticeError(LookupError):
    """No notice with this id was sent to the caller's platform."""


class NoticeActionError(ValueError):
    """A resolution that cannot be applied; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ItemClaim:
    """What the platform says about one noticed item."""

    notice_item_id: int
    outcome: ResolveOutcome
    reason: str | None = None


def list_notices(
    session: Session,
    platform_id: int,
    *,
    statuses: Collection[NoticeStatus] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Notice]:
    """The platform's notices, oldest first, after ``after_id`` (a cursor)."""
    wanted = [s for s in (statuses or VISIBLE_STATUSES) if s is not NoticeStatus.DRAFT]
    return list(
        session.scalars(
            select(Notice)
            .options(selectinload(Notice.items).selectinload(NoticeItem.item))
            .where(
                Notice.platform_id == platform_id,
                Notice.status.in_(wanted),
                Notice.id > after_id,
            )
            .order_by(Notice.id)
            .limit(limit)
        )
    )


def get_notice(session: Session, platform_id: int, notice_id: int) -> Notice:
    notice = session.scalar(
        select(Notice)
        .options(selectinload(Notice.items).selectinload(NoticeItem.item))
        .where(
            Notice.id == notice_id,
            Notice.platform_id == platform_id,
            Notice.status.in_(VISIBLE_STATUSES),
        )
    )
    if notice is None:
        raise UnknownNoticeError(f"no notice {notice_id} was sent to this platform")
    return notice


def acknowledge(
    session: Session,
    notice: Notice,
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> bool:
    """Acknowledge receipt; idempotent (a notice already past it is left as it is)."""
    _receive(session, notice, policy, clock)
    if notice.status is not NoticeStatus.SENT:
        return False
    move(session, notice, NoticeStatus.ACKNOWLEDGED, actor=actor, clock=clock)
    audit.record(
        session,
        AuditTag.PARTNER_NOTICE_ACKNOWLEDGED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={"reference": notice.reference},
        clock=clock,
    )
    return True


def resolve(
    session: Session,
    notice: Notice,
    claims: Sequence[ItemClaim],
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> None:
    """Record the platform's outcome per item and move the notice (see the docstring)."""
    if notice.status is NoticeStatus.REMOVED:
        raise NoticeActionError(
            "notice_closed", "every item of this notice was verified removed; nothing to resolve"
        )
    items = {item.id: item for item in notice.items}
    _check_claims(claims, items)
    _receive(session, notice, policy, clock)
    now = clock()
    for claim in claims:
        item = items[claim.notice_item_id]
        item.platform_outcome = _CLAIMS[claim.outcome]
        item.platform_reason = claim.reason
        if item.outcome is ItemOutcome.REMOVED:
            continue  # already verified; nothing the platform says changes it
        if claim.outcome is ResolveOutcome.REFUSED:
            item.outcome = ItemOutcome.REFUSED
        else:
            item.outcome = ItemOutcome.PENDING
            item.next_check_at = now  # verification checks the claim at once
    target = summarise([item.outcome for item in notice.items]) or NoticeStatus.ACKNOWLEDGED
    if target is not notice.status and NOTICE_MACHINE.allows(notice.status, target):
        move(session, notice, target, actor=actor, clock=clock, details={"by": "partner"})
    audit.record(
        session,
        AuditTag.PARTNER_NOTICE_RESOLVED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={
            "reference": notice.reference,
            "claims": [
                {
                    "item": c.notice_item_id,
                    "outcome": c.outcome.value,
                    "reason": (c.reason or "")[:500] or None,
                }
                for c in claims
            ],
        },
        clock=clock,
    )
    session.flush()


def _check_claims(claims: Sequence[ItemClaim], items: dict[int, NoticeItem]) -> None:
    if not claims:
        raise NoticeActionError("no_items", "say what happened to at least one item")
    seen: set[int] = set()
    for claim in claims:
        if claim.notice_item_id not in items:
            raise NoticeActionError(
                "unknown_item", f"item {claim.notice_item_id} is not in this notice"
            )
        if claim.notice_item_id in seen:
            raise NoticeActionError(
                "duplicate_item", f"item {claim.notice_item_id} is listed more than once"
            )
        seen.add(claim.notice_item_id)
        if claim.outcome is ResolveOutcome.REFUSED and not (claim.reason or "").strip():
            raise NoticeActionError(
                "reason_required", f"item {claim.notice_item_id}: a refusal needs a reason"
            )


def _receive(session: Session, notice: Notice, policy: NoticePolicy, clock: Clock) -> None:
    """A platform that reads a queued notice through the API has received it: it is sent
    (its deadline and checks start now), whatever the outbox is still doing."""
    if notice.status is NoticeStatus.QUEUED:
        mark_sent(session, notice, policy, clock=clock)
