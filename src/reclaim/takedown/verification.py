"""Checking noticed URLs until the content is gone (Project Arachnid's loop).

Each noticed item is re-fetched through the safe fetcher on a schedule (+1 h, +6 h,
+24 h, then daily; see domain/notices.py) until it is removed or the follow-up period
ends.  An outcome is one of:

- removed: 404/410/451, the host no longer resolves, or the page no longer shows the
  media we noticed.  The first such check is the removal time; *time to removal* is it
  minus the notice's sending time.
- still up: the same bytes as when noticed (SHA-256).
- changed: different bytes; an analyst looks (the platform may have swapped the image,
  or the page simply changed).
- failed: we could not tell (time-outs, 5xx, refused connections); checked again later.

A platform's own claim (through the partner API) never settles an item: only a check
does, which is why verification continues after a platform says "removed".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases.models import QuarantinedMedia
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import (
    FetchError,
    FetchResult,
    ResolutionError,
    SafeFetcher,
    extract_media_urls,
)
from reclaim.takedown.domain import (
    OPEN_NOTICE_STATUSES,
    ItemOutcome,
    VerificationOutcome,
    next_verification,
    summarise,
)
from reclaim.takedown.models import Notice, NoticeItem, Verification
from reclaim.takedown.notices import move


@dataclass(frozen=True, slots=True)
class Finding:
    outcome: VerificationOutcome
    http_status: int | None = None
    sha256: str | None = None
    detail: str | None = None


def _look(fetcher: SafeFetcher, url: str) -> FetchResult | Finding:
    """The response to judge further, or a finding already (gone, failed)."""
    try:
        result = fetcher.fetch_sync(url)
    except ResolutionError as exc:
        return Finding(VerificationOutcome.REMOVED, detail=f"host gone: {exc}")
    except FetchError as exc:
        return Finding(VerificationOutcome.FAILED, detail=f"{type(exc).__name__}: {exc}")
    if result.is_gone:
        return Finding(VerificationOutcome.REMOVED, result.status_code, detail="gone")
    if not result.is_success:
        return Finding(VerificationOutcome.FAILED, result.status_code, detail="no answer to judge")
    return result


def check_url(
    fetcher: SafeFetcher, url: str, *, baseline_sha256: str | None, media_url: str | None
) -> Finding:
    """What a URL shows now, compared with what was noticed."""
    seen = _look(fetcher, url)
    if isinstance(seen, FetchResult) and seen.kind == "page" and media_url is not None:
        if media_url not in extract_media_urls(seen.content, seen.final_url):
            return Finding(
                VerificationOutcome.REMOVED,
                seen.status_code,
                detail="the page no longer shows the media",
            )
        seen = _look(fetcher, media_url)
    if isinstance(seen, Finding):
        return seen
    digest = hashlib.sha256(seen.content).hexdigest()
    if baseline_sha256 is None or digest == baseline_sha256:
        return Finding(VerificationOutcome.STILL_UP, seen.status_code, digest)
    return Finding(VerificationOutcome.CHANGED, seen.status_code, digest, "content changed")


def due_items(session: Session, *, clock: Clock = system_clock, limit: int = 200) -> list[int]:
    return list(
        session.scalars(
            select(NoticeItem.id)
            .join(Notice)
            .where(
                NoticeItem.next_check_at <= clock(),
                NoticeItem.outcome != ItemOutcome.REMOVED,
                Notice.status.in_(OPEN_NOTICE_STATUSES),
            )
            .order_by(NoticeItem.next_check_at)
            .limit(limit)
        )
    )


def verify_item(
    session: Session,
    notice_item: NoticeItem,
    fetcher: SafeFetcher,
    *,
    follow_up: timedelta,
    clock: Clock = system_clock,
) -> Verification:
    """Check one noticed item now, record the check, and move the notice if it is done."""
    quarantined = session.scalars(
        select(QuarantinedMedia)
        .where(QuarantinedMedia.item_id == notice_item.item_id)
        .order_by(QuarantinedMedia.id.desc())
    ).first()
    url = notice_item.item.url or ""
    media_url = quarantined.final_url if quarantined and quarantined.final_url != url else None
    if notice_item.baseline_sha256 is None and quarantined is not None:
        notice_item.baseline_sha256 = quarantined.sha256
    finding = check_url(
        fetcher, url, baseline_sha256=notice_item.baseline_sha256, media_url=media_url
    )
    now = clock()
    if notice_item.baseline_sha256 is None and finding.outcome == VerificationOutcome.STILL_UP:
        notice_item.baseline_sha256 = finding.sha256  # the first look sets the baseline
    check = Verification(
        notice_item_id=notice_item.id,
        checked_at=now,
        outcome=finding.outcome,
        http_status=finding.http_status,
        content_sha256=finding.sha256,
        detail=finding.detail,
    )
    session.add(check)
    notice = notice_item.notice
    notice_item.checks_done += 1
    if finding.outcome == VerificationOutcome.REMOVED:
        notice_item.outcome = ItemOutcome.REMOVED
        notice_item.removed_at = notice_item.removed_at or now
        notice_item.next_check_at = None
        settled = summarise([i.outcome for i in notice.items])
        if settled is not None and settled != notice.status:
            move(
                session,
                notice,
                settled,
                actor=audit.SYSTEM,
                clock=clock,
                details={"by": "verification"},
            )
    else:
        sent_at = notice.sent_at or now
        due = next_verification(sent_at, notice_item.checks_done)
        notice_item.next_check_at = due if due <= sent_at + follow_up else None
    session.flush()
    return check


def time_to_removal(notice_item: NoticeItem) -> timedelta | None:
    sent_at = notice_item.notice.sent_at
    if notice_item.removed_at is None or sent_at is None:
        return None
    return notice_item.removed_at - sent_at
