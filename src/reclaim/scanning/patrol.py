"""Patrol: re-fetch watched pages and bring re-uploads of confirmed content back to the case.

Supervisors list pages to watch (a board, a user's page, a search result) on platforms
that hosted confirmed content, each tied to the case it came from.  A scheduled run
re-fetches every watched page through the review path (``cases.gathering.gather``: the safe
fetcher, the quarantine, the hashes) with its own User-Agent
(``RECLAIM_REVIEW_USER_AGENT``, not the verifier's) and at most one fetch per host every
``RECLAIM_PATROL_HOST_INTERVAL_SECONDS``, and matches each picture against the
*verified* banks only.  A match at an address that is neither an item nor in a notice
becomes a new URL item of the original case (recorded as a re-upload), and a draft
notice for a supervisor to approve: nothing is ever sent automatically.  Pictures that
match nothing are deleted from the quarantine at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking, videos
from reclaim.banks.engine import Match, MatchEngine, VideoMatch
from reclaim.cases import gathering, pages, review, status
from reclaim.cases.domain import Classification, ItemKind
from reclaim.cases.models import Case, Item, Page, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import FetchPolicy, SafeFetcher
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.platforms.directory import domain_map, platform_id_for_url
from reclaim.scanning.models import PatrolFind, WatchedPage
from reclaim.takedown import notices
from reclaim.takedown.models import NoticePage

#: Decisions that confirm content a platform must remove (the case's classification of
#: a re-upload, most severe first).
CONFIRMED = (
    Classification.CSAM,
    Classification.SELF_GENERATED_MINOR,
    Classification.ADULT_NCII,
)
_BY_CATEGORY = {c.value: c for c in CONFIRMED}


class PatrolError(ValueError):
    """A watch that cannot be added or removed as asked (the message says why)."""


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The review fetcher's limits with the review User-Agent (the verifier has its own)."""
    return replace(review.fetch_policy(settings), user_agent=settings.review_user_agent)


# --- the watch list -----------------------------------------------------------------------


def add_watch(
    session: Session,
    url: str,
    case_number: str,
    *,
    actor: audit.Actor,
    platform_id: int | None = None,
    clock: Clock = system_clock,
) -> WatchedPage:
    """Watch ``url`` for re-uploads of the content of case ``case_number``; audited.

    The page's platform (who gets the notices) is ``platform_id``, else the one its host
    belongs to in the directory, else the one that hosted the case's content there."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PatrolError("a watched page is an http or https address")
    case = session.scalar(select(Case).where(Case.number == case_number.strip().upper()))
    if case is None:
        raise PatrolError(f"no case {case_number}")
    if not any(item.classification in CONFIRMED for item in case.items):
        raise PatrolError("the case has no confirmed content to watch for")
    address = pages.page_url(url.strip())
    duplicate = session.scalar(
        select(WatchedPage).where(
            WatchedPage.url == address,
            WatchedPage.case_id == case.id,
            WatchedPage.removed_at.is_(None),
        )
    )
    if duplicate is not None:
        raise PatrolError("this page is already watched for this case")
    watch = WatchedPage(
        url=address,
        host=parts.hostname.lower(),
        case_id=case.id,
        platform_id=platform_id or _platform_of(session, case, address),
        added_by_id=actor.id if actor.id else None,
        added_at=clock(),
    )
    session.add(watch)
    session.flush()
    _audit_watch(session, AuditTag.PATROL_WATCH_ADDED, watch, actor, clock)
    return watch


def _platform_of(session: Session, case: Case, address: str) -> int | None:
    found = platform_id_for_url(address, domain_map(session))
    if found is not None:
        return found
    host = urlsplit(address).hostname
    for item in case.items:
        if item.page is not None and urlsplit(item.page.url).hostname == host:
            return item.page.platform_id
    return None


def active_watches(session: Session) -> list[WatchedPage]:
    return list(
        session.scalars(
            select(WatchedPage).where(WatchedPage.removed_at.is_(None)).order_by(WatchedPage.id)
        )
    )


def remove_watch(
    session: Session, watch_id: int, *, actor: audit.Actor, clock: Clock = system_clock
) -> WatchedPage:
    """Stop watching a page (its finds stay); audited."""
    watch = session.get(WatchedPage, watch_id)
    if watch is None or watch.removed_at is not None:
        raise PatrolError(f"no watched page {watch_id}")
    watch.removed_at = clock()
    _audit_watch(session, AuditTag.PATROL_WATCH_REMOVED, watch, actor, clock)
    return watch


def finds_of_case(session: Session, case_id: int) -> dict[int, PatrolFind]:
    """item id -> its re-upload record, for the case page."""
    rows = session.scalars(
        select(PatrolFind).join(Item, Item.id == PatrolFind.item_id).where(Item.case_id == case_id)
    )
    return {find.item_id: find for find in rows}


def _audit_watch(
    session: Session, tag: AuditTag, watch: WatchedPage, actor: audit.Actor, clock: Clock
) -> None:
    audit.record(
        session,
        tag,
        actor=actor,
        target=(TargetKind.CASE, watch.case_id),
        details={"watch": watch.id, "url": watch.url},
        clock=clock,
    )


# --- per-host pacing ---------------------------------------------------------------------


@dataclass(slots=True)
class HostPacer:
    """At most one fetch per host every ``interval`` seconds (``monotonic`` and
    ``sleep`` are injected so that tests never wait)."""

    interval: float
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: dict[str, float] = field(default_factory=dict)

    def wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            remaining = last + self.interval - self.monotonic()
            if remaining > 0:
                self.sleep(remaining)
        self._last[host] = self.monotonic()


# --- a run ---------------------------------------------------------------------------------


@dataclass(slots=True)
class PatrolOutcome:
    watched: int = 0
    fetched: int = 0
    media: int = 0
    matched: int = 0
    added: list[int] = field(default_factory=list)  # item ids
    drafted: list[int] = field(default_factory=list)  # notice ids
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "watched": self.watched,
            "fetched": self.fetched,
            "media": self.media,
            "matched": self.matched,
            "added": len(self.added),
            "drafted": len(self.drafted),
            "problems": len(self.problems),
        }


def run(
    session: Session,
    *,
    fetcher: SafeFetcher,
    store: QuarantineStore,
    matcher: MatchEngine,
    policy: review.ReviewPolicy,
    pacer: HostPacer,
    clock: Clock = system_clock,
) -> PatrolOutcome:
    """Re-fetch every watched page once; commits after each page (no transaction is
    open while the network is used)."""
    outcome = PatrolOutcome()
    plans = [(w.id, w.host, w.url, _anchor_item(w)) for w in active_watches(session)]
    matcher.sync(session)
    session.commit()
    for watch_id, host, url, anchor in plans:
        outcome.watched += 1
        if anchor is None:
            continue
        pacer.wait(host)
        gathered = gathering.gather(
            gathering.FetchPlan(anchor, url), fetcher=fetcher, store=store, policy=policy
        )
        if gathered.snapshot is not None:  # the watched page itself is not evidence
            store.delete(gathered.snapshot.object_id)
        outcome.fetched += 1
        _record(
            session,
            watch_id,
            gathered,
            outcome,
            matcher=matcher,
            store=store,
            policy=policy,
            clock=clock,
        )
        session.commit()
    return outcome


def _anchor_item(watch: WatchedPage) -> int | None:
    """The case's item whose id the quarantine records for what the patrol keeps."""
    items = [item for item in watch.case.items if item.classification in CONFIRMED]
    return items[0].id if items else None


def _record(
    session: Session,
    watch_id: int,
    gathered: gathering.Gathered,
    outcome: PatrolOutcome,
    *,
    matcher: MatchEngine,
    store: QuarantineStore,
    policy: review.ReviewPolicy,
    clock: Clock,
) -> None:
    watch = session.get_one(WatchedPage, watch_id)
    now = clock()
    watch.last_run_at = now
    watch.last_problem = gathered.problems[0].message[:500] if gathered.problems else None
    outcome.problems += [p.message for p in gathered.problems]
    for kept in gathered.kept:
        outcome.media += 1
        signals = list(dict.fromkeys(signal for signal, _quality in kept.hashes))
        found: list[Match | VideoMatch] = [
            m
            for m in matcher.match(session, signals, max_distance=policy.max_distance)
            if m.verified
        ]
        if kept.frames is not None:  # a video: vPDQ's rule against banked videos
            found += [
                m
                for m in matcher.match_video(session, kept.frames, policy.video_rule)
                if m.verified
            ]
        if found:
            outcome.matched += 1
        if not found or _already_known(session, kept.url):
            store.delete(kept.object_id)
            store.delete(kept.object_id + gathering.PREVIEW_SUFFIX)
            continue
        _add_reupload(session, watch, kept, found, outcome, now=now, clock=clock, policy=policy)


def _already_known(session: Session, url: str) -> bool:
    """An address that is already an item (of any case) or named by a notice."""
    key = pages.page_url(url)
    page = session.scalar(select(Page).where(Page.url == key))
    if page is None:
        return False
    as_item = session.scalar(select(exists().where(Item.page_id == page.id)))
    noticed = session.scalar(select(exists().where(NoticePage.page_id == page.id)))
    return bool(as_item or noticed)


def _classification(case: Case, matches: list[Match | VideoMatch]) -> Classification:
    decided = {item.classification for item in case.items}
    for classification in CONFIRMED:
        if classification in decided:
            return classification
    for match in matches:  # pragma: no cover - a watch needs a confirmed item
        if match.category.value in _BY_CATEGORY:
            return _BY_CATEGORY[match.category.value]
    return Classification.CSAM  # pragma: no cover


def _add_reupload(
    session: Session,
    watch: WatchedPage,
    kept: gathering.Kept,
    found: list[Match | VideoMatch],
    outcome: PatrolOutcome,
    *,
    now: datetime,
    clock: Clock,
    policy: review.ReviewPolicy,
) -> None:
    case = watch.case
    page = pages.page_for(session, kept.url, now=now)
    if page.platform_id is None:
        page.platform_id = watch.platform_id or platform_id_for_url(page.url, domain_map(session))
    classification = _classification(case, found)
    item = Item(
        case_id=case.id,
        kind=ItemKind.URL,
        url=kept.url,
        page=page,
        media_kind=kept.kind,
        classification=classification,
        created_at=now,
    )
    session.add(item)
    media = pages.fetched_media(
        session, page, url=kept.url, sha256=kept.sha256, kind=kept.kind, now=now
    )
    if kept.frames is not None:  # a video's vPDQ signal is stored with its frames
        frame_signal = videos.signal_of(kept.frames)
        ids = banking.signal_ids(session, [frame_signal], clock=lambda: now)
        videos.store_frames(session, {ids[frame_signal]: kept.frames})
    pages.attach_signals(session, media, kept.hashes, now=now)
    session.add(
        QuarantinedMedia(
            item_id=item.id,
            media_id=media.id,
            object_id=kept.object_id,
            final_url=kept.url,
            content_type=kept.content_type,
            size=kept.size,
            sha256=kept.sha256,
            fetched_by_id=None,
            fetched_at=now,
            expires_at=now + policy.retention,
        )
    )
    banks = sorted({m.bank for m in found})
    notice = notices.draft_page_notice(
        session,
        page,
        [media],
        classification,
        actor=audit.SYSTEM,
        clock=clock,
        details={"reupload": True, "cases": [case.number]},
    )
    session.add(
        PatrolFind(
            watch_id=watch.id,
            item_id=item.id,
            media_id=media.id,
            notice_id=notice.id if notice else None,
            bank=banks[0],
            found_at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        AuditTag.PATROL_REUPLOAD_FOUND,
        actor=audit.SYSTEM,
        target=(TargetKind.CASE, case.id),
        details={
            "item": item.id,
            "url": kept.url,
            "watch": watch.id,
            "sha256": kept.sha256,
            "banks": banks,
            "notice": notice.reference if notice else None,
        },
        clock=clock,
    )
    session.refresh(case, ["items"])  # the new item joins what the status follows
    status.follow_work(session, case, actor=audit.SYSTEM, clock=clock)
    outcome.added.append(item.id)
    if notice is not None:
        outcome.drafted.append(notice.id)
