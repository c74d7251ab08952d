"""What platforms answer: an acknowledgement, a claim of removal, or a refusal with its
reason, through the partner API or by replying to the notice email.

A platform's word is recorded apart from what Reclaim saw (``platform_outcome``,
``platform_reason``): a claim of removal never marks a page removed, it only brings
its next check forward to now, and verification decides.  A refusal is the platform's
own decision, so it does settle the page as refused (a later check that finds the
content gone still records the removal).

The notice's status follows: acknowledging moves a sent notice to acknowledged; an
answer about pages moves it to whatever the pages' outcomes call for (refused when
every page is refused, partially removed when verified removals and refusals mix),
and at least to acknowledged.  Every move goes through ``notices.move``, so illegal
moves are refused and every change is audited, with the partner (API) or the
supervisor who recorded the email (console) as the actor.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock
from reclaim.takedown.domain import (
    NOTICE_MACHINE,
    NoticeStatus,
    PageOutcome,
    ResolveOutcome,
    summarise,
)
from reclaim.takedown.models import Notice, NoticePage
from reclaim.takedown.notices import NoticePolicy, mark_sent, move

_CLAIMS = {
    ResolveOutcome.REMOVED: PageOutcome.REMOVED,
    ResolveOutcome.NOT_FOUND: PageOutcome.NOT_FOUND,
    ResolveOutcome.REFUSED: PageOutcome.REFUSED,
}
MAX_REASON = 2000


class Via(enum.StrEnum):
    """How the platform answered."""

    API = "api"  # the partner API (the actor is the partner)
    EMAIL = "email"  # a reply to the notice email, recorded by a supervisor


class AnswerError(ValueError):
    """An answer that cannot be applied; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class PageClaim:
    """What the platform says about one noticed page."""

    notice_page_id: int
    outcome: ResolveOutcome
    reason: str | None = None


def acknowledge(
    session: Session,
    notice: Notice,
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    via: Via,
    clock: Clock = system_clock,
) -> bool:
    """Acknowledge receipt; idempotent (a notice already past it is left as it is)."""
    _receive(session, notice, policy, clock)
    if notice.status is not NoticeStatus.SENT:
        return False
    move(session, notice, NoticeStatus.ACKNOWLEDGED, actor=actor, clock=clock)
    audit.record(
        session,
        AuditTag.PARTNER_NOTICE_ACKNOWLEDGED if via is Via.API else AuditTag.NOTICE_ANSWER_RECORDED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={"reference": notice.reference, "answer": "acknowledged", "via": via.value},
        clock=clock,
    )
    return True


def resolve(
    session: Session,
    notice: Notice,
    claims: Sequence[PageClaim],
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    via: Via,
    clock: Clock = system_clock,
) -> None:
    """Record the platform's outcome per page and move the notice (see the docstring)."""
    if notice.status is NoticeStatus.REMOVED:
        raise AnswerError(
            "notice_closed", "every page of this notice was verified removed; nothing to resolve"
        )
    pages = {page.id: page for page in notice.pages}
    _check_claims(claims, pages)
    _receive(session, notice, policy, clock)
    now = clock()
    for claim in claims:
        page = pages[claim.notice_page_id]
        page.platform_outcome = _CLAIMS[claim.outcome]
        page.platform_reason = (claim.reason or "").strip()[:MAX_REASON] or None
        page.platform_answered_at = now
        if page.outcome.is_gone:
            continue  # already verified; nothing the platform says changes it
        if claim.outcome is ResolveOutcome.REFUSED:
            # The platform's decision settles the page (escalation follows); what checks
            # found per picture stays on its media, and checks go on until follow-up
            # ends, so content that comes down later is still recorded as removed.
            page.outcome = PageOutcome.REFUSED
        else:
            page.next_check_at = now  # verification checks the claim at once
    target = summarise([page.outcome for page in notice.pages]) or NoticeStatus.ACKNOWLEDGED
    if target is not notice.status and NOTICE_MACHINE.allows(notice.status, target):
        move(session, notice, target, actor=actor, clock=clock, details={"by": via.value})
    audit.record(
        session,
        AuditTag.PARTNER_NOTICE_RESOLVED if via is Via.API else AuditTag.NOTICE_ANSWER_RECORDED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={
            "reference": notice.reference,
            "via": via.value,
            "claims": [
                {
                    "page": c.notice_page_id,
                    "outcome": c.outcome.value,
                    "reason": (c.reason or "")[:500] or None,
                }
                for c in claims
            ],
        },
        clock=clock,
    )
    session.flush()


def _check_claims(claims: Sequence[PageClaim], pages: dict[int, NoticePage]) -> None:
    if not claims:
        raise AnswerError("no_items", "say what happened to at least one page")
    seen: set[int] = set()
    for claim in claims:
        if claim.notice_page_id not in pages:
            raise AnswerError("unknown_item", f"item {claim.notice_page_id} is not in this notice")
        if claim.notice_page_id in seen:
            raise AnswerError(
                "duplicate_item", f"item {claim.notice_page_id} is listed more than once"
            )
        seen.add(claim.notice_page_id)
        if claim.outcome is ResolveOutcome.REFUSED and not (claim.reason or "").strip():
            raise AnswerError(
                "reason_required", f"item {claim.notice_page_id}: a refusal needs a reason"
            )


def _receive(session: Session, notice: Notice, policy: NoticePolicy, clock: Clock) -> None:
    """A platform that answers a queued notice has received it: it is sent (its deadline
    and checks start now), whatever the outbox is still doing."""
    if notice.status is NoticeStatus.QUEUED:
        mark_sent(session, notice, policy, clock=clock)
