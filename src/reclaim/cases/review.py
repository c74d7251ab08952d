"""Safe review of a reported URL: fetch, quarantine, hash, record each media object.

"Fetch for review" retrieves the URL through the safe fetcher.  A media URL is one
media object; a web page is read for the media it shows, each fetched through the
fetcher again (which re-checks every address), all within one time budget
(``RECLAIM_FETCH_TOTAL_TIMEOUT_SECONDS`` covers the page and its media together).
Every picture or video found is stored encrypted in the quarantine, hashed, and
recorded as a media object of the page with its own hashes, so that each can be
matched, decided, noticed and verified on its own.  Images also get a blurred greyscale
preview (``viewing`` shows both, audited).

No database transaction is open while the network is used: :func:`plan` reads what
to fetch, :func:`gather` fetches, hashes and stores in the quarantine, and only then
:func:`record` writes, in one short transaction.  A slow page never holds the
database (on SQLite, a transaction holds its write lock from its first statement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking, videos
from reclaim.banks.engine import Match, MatchEngine, VideoMatch
from reclaim.cases import decisions, pages, snapshots, status
from reclaim.cases.domain import ItemKind
from reclaim.cases.gathering import (
    FetchPlan,
    FetchProblem,
    Gathered,
    gather,
)
from reclaim.cases.models import Item, Media, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import (
    FetchPolicy,
    SafeFetcher,
)
from reclaim.fetching.quarantine import (
    QuarantineStore,
)
from reclaim.hashing import HashingLimits
from reclaim.matching.video import VideoRule
from reclaim.security.field_crypto import keyring


class ReviewError(ValueError):
    """A review action that cannot be done; ``code`` names the problem for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    retention: timedelta
    limits: HashingLimits
    max_distance: int = 31
    decisions: decisions.DecisionPolicy = field(default_factory=decisions.DecisionPolicy)
    video_rule: VideoRule = field(default_factory=VideoRule)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(
            retention=timedelta(days=settings.quarantine_retention_days),
            limits=settings.hashing_limits(),
            max_distance=settings.match_max_distance,
            decisions=decisions.DecisionPolicy.from_settings(settings),
            video_rule=settings.video_rule(),
        )


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The fetcher's limits, from settings (the entry points build the fetcher)."""
    return FetchPolicy(
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_total_timeout_seconds,
        connect_timeout=settings.fetch_connect_timeout_seconds,
        read_timeout=settings.fetch_read_timeout_seconds,
        max_redirects=settings.fetch_max_redirects,
        user_agent=settings.fetch_user_agent,
    ).allowing(settings.fetch_allowlist, settings.fetch_allowed_ports)


def quarantine_store(settings: Settings) -> QuarantineStore:
    return QuarantineStore(settings.data_dir / "quarantine", keyring(settings))


# --- 1. what to fetch (a short read) ---------------------------------------------------


def plan(session: Session, item_id: int) -> FetchPlan:
    """Check that the item can be fetched; the caller ends the transaction before
    :func:`gather` goes to the network."""
    item = session.get(Item, item_id)
    if item is None:
        raise ReviewError("no_item", "no such item")
    if item.kind is not ItemKind.URL or not item.url:
        raise ReviewError("not_a_url", "only URL items can be fetched for review")
    if item.withdrawn_at is not None:
        raise ReviewError("item_withdrawn", "the reporter withdrew this item")
    return FetchPlan(item.id, item.url)


# --- 3. recording it (one short transaction) -------------------------------------------


@dataclass(slots=True)
class ReviewedMedia:
    """One media object the fetch found, with what matched it."""

    media: Media
    kept: QuarantinedMedia
    matches: list[Match] = field(default_factory=list)
    video_matches: list[VideoMatch] = field(default_factory=list)


@dataclass(slots=True)
class ReviewOutcome:
    found: list[ReviewedMedia] = field(default_factory=list)
    problems: list[FetchProblem] = field(default_factory=list)
    was_page: bool = False
    #: The page (its final URL) and the URLs it declares as its author's.
    page_url: str | None = None
    authors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.found)

    @property
    def media(self) -> list[QuarantinedMedia]:
        return [one.kept for one in self.found]

    @property
    def matches(self) -> list[Match]:
        return [match for one in self.found for match in one.matches]


def record(
    session: Session,
    fetch_plan: FetchPlan,
    gathered: Gathered,
    *,
    matcher: MatchEngine,
    policy: ReviewPolicy,
    actor_id: int,
    clock: Clock = system_clock,
) -> ReviewOutcome:
    """Write what :func:`gather` found: media objects of the item's page with their
    hashes, their quarantine records, the matches; audited ITEM_FETCHED (or
    ITEM_FETCH_FAILED).  The caller commits."""
    item = session.get_one(Item, fetch_plan.item_id)
    now = clock()
    outcome = ReviewOutcome(
        problems=list(gathered.problems),
        was_page=gathered.was_page,
        page_url=gathered.page.final_url if gathered.page is not None else None,
        authors=list(gathered.authors),
    )
    page = item.page or pages.page_for(session, fetch_plan.url, now=now)
    item.page = page
    for kept in gathered.kept:
        media = pages.fetched_media(
            session, page, url=kept.url, sha256=kept.sha256, kind=kept.kind, now=now
        )
        if kept.frames is not None:
            frame_signal = videos.signal_of(kept.frames)
            ids = banking.signal_ids(session, [frame_signal], clock=lambda: now)
            videos.store_frames(session, {ids[frame_signal]: kept.frames})
        pages.attach_signals(session, media, kept.hashes, now=now)
        quarantined = QuarantinedMedia(
            item_id=item.id,
            media_id=media.id,
            object_id=kept.object_id,
            final_url=kept.url,
            content_type=kept.content_type,
            size=kept.size,
            sha256=kept.sha256,
            fetched_by_id=actor_id,
            fetched_at=now,
            expires_at=now + policy.retention,
        )
        session.add(quarantined)
        signals = list(dict.fromkeys(signal for signal, _quality in kept.hashes))
        matches = (
            matcher.match(session, signals, max_distance=policy.max_distance) if signals else []
        )
        video_matches = (
            matcher.match_video(session, kept.frames, policy.video_rule)
            if kept.frames is not None
            else []
        )
        outcome.found.append(ReviewedMedia(media, quarantined, matches, video_matches))
    if gathered.snapshot is not None:
        snapshots.record(
            session, item.id, gathered.snapshot, now=now, expires_at=now + policy.retention
        )
    session.flush()
    _audit_fetch(session, item, outcome, actor_id, clock)
    status.follow_work(session, item.case, actor=audit.Actor.user(actor_id), clock=clock)
    return outcome


def fetch_for_review(
    session: Session,
    item_id: int,
    *,
    fetcher: SafeFetcher,
    store: QuarantineStore,
    matcher: MatchEngine,
    policy: ReviewPolicy,
    actor_id: int,
    clock: Clock = system_clock,
) -> ReviewOutcome:
    """Plan, gather and record, ending the read transaction before the network; the
    caller commits the record."""
    fetch_plan = plan(session, item_id)
    session.commit()  # nothing is held while the page is fetched
    gathered = gather(fetch_plan, fetcher=fetcher, store=store, policy=policy)
    return record(
        session,
        fetch_plan,
        gathered,
        matcher=matcher,
        policy=policy,
        actor_id=actor_id,
        clock=clock,
    )


def _audit_fetch(
    session: Session, item: Item, outcome: ReviewOutcome, actor_id: int, clock: Clock
) -> None:
    details: dict[str, Any] = {
        "url": item.url,
        "page": outcome.was_page,
        "media": [
            {
                "id": one.kept.id,
                "media": one.media.id,
                "sha256": one.kept.sha256,
                "type": one.kept.content_type,
                "size": one.kept.size,
            }
            for one in outcome.found
        ],
        "problems": [p.to_json() for p in outcome.problems],
    }
    if outcome.matches:
        banks: dict[str, int] = {}
        for match in outcome.matches:
            banks[match.bank] = banks.get(match.bank, 0) + 1
        details["matches"] = banks
    if not outcome.ok:
        first = outcome.problems[0] if outcome.problems else FetchProblem(item.url or "", "", "")
        details["error"] = first.error
        details["message"] = first.message[:500]
    audit.record(
        session,
        AuditTag.ITEM_FETCHED if outcome.ok else AuditTag.ITEM_FETCH_FAILED,
        actor=audit.Actor.user(actor_id),
        target=(TargetKind.ITEM, item.id),
        details=details,
        clock=clock,
    )
