"""Checking noticed pages, and each decided picture on them, until they are gone.

Each noticed page is re-fetched through the safe fetcher on a schedule (settings;
+1 h, +6 h, +24 h, then daily by default) until it is removed or the follow-up period
ends.  A check looks at the page and at every decided media object the notice names:

- a media object is *removed* when its URL answers 404/410/451 or its host is gone,
  when the page no longer shows it, or when the whole page is gone;
- it is *still up* when its bytes are those that were noticed (SHA-256); *changed*
  when they differ (an analyst looks: the platform may have swapped the picture);
- a check that cannot tell (time-outs, 5xx) *failed* and is repeated later.

A page is removed only when it is gone or every decided media object on it is;
*partially removed* names the ones still up.  Times to removal are kept per media object
and per page.  A platform's own claim (through the partner API or an email reply)
never settles a page: it only brings its next check forward.

No database transaction is open while the network is used: :func:`plan` reads what to
check, :func:`look` fetches, :func:`apply` writes.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import (
    FetchError,
    FetchResult,
    ResolutionError,
    SafeFetcher,
    extract_media_urls,
)
from reclaim.takedown import case_progress
from reclaim.takedown.domain import (
    OPEN_NOTICE_STATUSES,
    MediaOutcome,
    NoticeStatus,
    PageOutcome,
    VerificationOutcome,
    page_outcome,
    summarise,
)
from reclaim.takedown.models import MediaCheck, Notice, NoticeMedia, NoticePage, Verification
from reclaim.takedown.notices import NoticePolicy, move


@dataclass(frozen=True, slots=True)
class Finding:
    outcome: VerificationOutcome
    http_status: int | None = None
    sha256: str | None = None
    detail: str | None = None


# --- what to check (a short read) -------------------------------------------------------

#: Notices whose pages are still checked: open ones, and refused ones (content that
#: comes down after a refusal is still recorded as removed), until follow-up ends.
CHECKED_STATUSES = (*OPEN_NOTICE_STATUSES, NoticeStatus.REFUSED)


def is_checked(notice: Notice) -> bool:
    """Can the notice's pages be checked (on the schedule, or now)?"""
    return notice.sent_at is not None and notice.status in CHECKED_STATUSES


@dataclass(frozen=True, slots=True)
class MediaToCheck:
    notice_media_id: int
    url: str | None
    baseline_sha256: str | None


@dataclass(frozen=True, slots=True)
class CheckPlan:
    notice_page_id: int
    page_url: str
    media: tuple[MediaToCheck, ...]


def due_pages(session: Session, *, clock: Clock = system_clock, limit: int = 200) -> list[int]:
    return list(
        session.scalars(
            select(NoticePage.id)
            .join(Notice)
            .where(
                NoticePage.next_check_at <= clock(),
                NoticePage.outcome.not_in([PageOutcome.REMOVED, PageOutcome.NOT_FOUND]),
                Notice.status.in_(CHECKED_STATUSES),
            )
            .order_by(NoticePage.next_check_at)
            .limit(limit)
        )
    )


def plan(session: Session, notice_page_id: int) -> CheckPlan:
    notice_page = session.scalars(
        select(NoticePage)
        .where(NoticePage.id == notice_page_id)
        .options(selectinload(NoticePage.media).selectinload(NoticeMedia.media))
    ).one()
    return CheckPlan(
        notice_page.id,
        notice_page.page.url,
        tuple(
            MediaToCheck(m.id, m.media.url, m.baseline_sha256 or m.media.sha256)
            for m in notice_page.media
            if m.outcome is not MediaOutcome.REMOVED
        ),
    )


# --- the network (no database) ----------------------------------------------------------


@dataclass(slots=True)
class Findings:
    page: Finding
    media: dict[int, Finding] = field(default_factory=dict)  # notice media id -> finding


def look(check: CheckPlan, fetcher: SafeFetcher) -> Findings:
    """What the page and each of its noticed media show now (one time budget)."""
    deadline = time.monotonic() + fetcher.policy.total_timeout
    seen = _fetch(fetcher, check.page_url, deadline)
    if isinstance(seen, Finding):  # gone (and so are its media), or could not tell
        return Findings(seen, {m.notice_media_id: seen for m in check.media})
    if not check.media:  # an account or a page noticed without media: the page is the thing
        return Findings(_compare(seen, None))
    shown: set[str] | None = None
    if seen.kind == "page":
        shown = set(extract_media_urls(seen.content, seen.final_url))
    findings = Findings(Finding(VerificationOutcome.STILL_UP, seen.status_code))
    for media in check.media:
        findings.media[media.notice_media_id] = _look_media(fetcher, seen, media, shown, deadline)
    return findings


def _look_media(
    fetcher: SafeFetcher,
    page: FetchResult,
    media: MediaToCheck,
    shown: set[str] | None,
    deadline: float,
) -> Finding:
    if shown is None or media.url is None:  # the page URL is the picture itself
        return _compare(page, media.baseline_sha256)
    if media.url not in shown:
        return Finding(
            VerificationOutcome.REMOVED, page.status_code, detail="the page no longer shows it"
        )
    seen = _fetch(fetcher, media.url, deadline)
    if isinstance(seen, Finding):
        return seen
    return _compare(seen, media.baseline_sha256)


def _fetch(fetcher: SafeFetcher, url: str, deadline: float) -> FetchResult | Finding:
    """The response to judge further, or a finding already (gone, failed)."""
    try:
        result = fetcher.fetch_sync(url, deadline=deadline)
    except ResolutionError as exc:
        return Finding(VerificationOutcome.REMOVED, detail=f"host gone: {exc}")
    except FetchError as exc:
        return Finding(VerificationOutcome.FAILED, detail=f"{type(exc).__name__}: {exc}")
    if result.is_gone:
        return Finding(VerificationOutcome.REMOVED, result.status_code, detail="gone")
    if not result.is_success:
        return Finding(VerificationOutcome.FAILED, result.status_code, detail="no answer to judge")
    return result


def _compare(seen: FetchResult, baseline: str | None) -> Finding:
    digest = hashlib.sha256(seen.content).hexdigest()
    if baseline is None or digest == baseline:
        return Finding(VerificationOutcome.STILL_UP, seen.status_code, digest)
    return Finding(VerificationOutcome.CHANGED, seen.status_code, digest, "content changed")


# --- recording it (one short transaction) -----------------------------------------------


def apply(
    session: Session,
    check: CheckPlan,
    findings: Findings,
    policy: NoticePolicy,
    *,
    requested_by: int | None = None,
    clock: Clock = system_clock,
) -> Verification:
    """Record one check: each media object's outcome, the page's, the notice's, and the
    cases' that follow them."""
    notice_page = session.get_one(NoticePage, check.notice_page_id)
    notice = notice_page.notice
    now = clock()
    page_gone = findings.page.outcome is VerificationOutcome.REMOVED
    verification = Verification(
        notice_page_id=notice_page.id,
        checked_at=now,
        outcome=findings.page.outcome,
        http_status=findings.page.http_status,
        detail=findings.page.detail,
        requested_by_id=requested_by,
    )
    session.add(verification)
    for noticed in notice_page.media:
        finding = findings.media.get(noticed.id)
        if finding is None:
            continue
        verification.media.append(
            MediaCheck(
                notice_media_id=noticed.id,
                outcome=finding.outcome,
                http_status=finding.http_status,
                content_sha256=finding.sha256,
                detail=finding.detail,
            )
        )
        if finding.outcome is VerificationOutcome.REMOVED or page_gone:
            noticed.outcome = MediaOutcome.REMOVED
            noticed.removed_at = noticed.removed_at or now
    outcome = page_outcome([m.outcome for m in notice_page.media], page_gone=page_gone)
    if outcome is PageOutcome.PARTIALLY_REMOVED:
        verification.outcome = VerificationOutcome.PARTIALLY_REMOVED
    elif outcome is PageOutcome.REMOVED:
        verification.outcome = VerificationOutcome.REMOVED
    elif any(f.outcome is VerificationOutcome.CHANGED for f in findings.media.values()):
        verification.outcome = VerificationOutcome.CHANGED
    elif any(f.outcome is VerificationOutcome.FAILED for f in findings.media.values()):
        verification.outcome = VerificationOutcome.FAILED
    _settle_page(notice_page, outcome, now, policy)
    session.flush()
    settled = summarise([p.outcome for p in notice.pages])
    if settled is not None and settled is not notice.status:
        move(
            session,
            notice,
            settled,
            actor=audit.SYSTEM,
            clock=clock,
            details={"by": "verification"},
        )
    case_progress.after_outcomes(session, [notice_page.page_id], clock=clock)
    session.flush()
    return verification


def _settle_page(
    notice_page: NoticePage, outcome: PageOutcome, now: datetime, policy: NoticePolicy
) -> None:
    notice_page.checks_done += 1
    if outcome is PageOutcome.REMOVED:
        notice_page.outcome = PageOutcome.REMOVED
        notice_page.removed_at = notice_page.removed_at or now
        notice_page.next_check_at = None
        return
    # A refusal stays a refusal until the content is actually gone.
    if notice_page.outcome is not PageOutcome.REFUSED and (
        outcome is PageOutcome.PARTIALLY_REMOVED or notice_page.outcome is PageOutcome.PENDING
    ):
        notice_page.outcome = outcome
    sent_at = notice_page.notice.sent_at or now
    due = policy.next_check(sent_at, notice_page.checks_done)
    notice_page.next_check_at = due if due <= sent_at + policy.follow_up else None


def verify_page(
    session: Session,
    notice_page_id: int,
    fetcher: SafeFetcher,
    policy: NoticePolicy,
    *,
    requested_by: int | None = None,
    clock: Clock = system_clock,
) -> Verification:
    """Plan, look and apply one page's check, ending the read transaction before the
    network; the caller commits."""
    check = plan(session, notice_page_id)
    session.commit()  # nothing is held while the platform is asked
    findings = look(check, fetcher)
    return apply(session, check, findings, policy, requested_by=requested_by, clock=clock)


def check_now(
    session: Session,
    notice_id: int,
    fetcher: SafeFetcher,
    policy: NoticePolicy,
    *,
    requested_by: int,
    clock: Clock = system_clock,
) -> int:
    """ "Check now": every page of a sent notice still checked (:func:`is_checked`) that
    is not gone yet, at once (audited); returns how many were checked.  The caller
    commits the last one."""
    notice = session.get_one(Notice, notice_id)
    if not is_checked(notice):
        return 0
    page_ids = [page.id for page in notice.pages if not page.outcome.is_gone]
    audit.record(
        session,
        AuditTag.NOTICE_CHECK_REQUESTED,
        actor=audit.Actor.user(requested_by),
        target=(TargetKind.NOTICE, notice.id),
        details={"reference": notice.reference, "pages": len(page_ids)},
        clock=clock,
    )
    for position, page_id in enumerate(page_ids):
        if position:
            session.commit()
        verify_page(session, page_id, fetcher, policy, requested_by=requested_by, clock=clock)
    return len(page_ids)


def time_to_removal(notice_page: NoticePage) -> timedelta | None:
    sent_at = notice_page.notice.sent_at
    if notice_page.removed_at is None or sent_at is None:
        return None
    return notice_page.removed_at - sent_at


def media_time_to_removal(noticed: NoticeMedia) -> timedelta | None:
    sent_at = noticed.notice_page.notice.sent_at
    if noticed.removed_at is None or sent_at is None:
        return None
    return noticed.removed_at - sent_at
