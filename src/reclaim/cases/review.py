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

import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking, videos
from reclaim.banks.engine import Match, MatchEngine, VideoMatch
from reclaim.cases import decisions, pages, snapshots, status
from reclaim.cases.domain import ItemKind, MediaKind
from reclaim.cases.fetched_videos import preview_of, video_frames
from reclaim.cases.models import Item, Media, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.fetching import (
    FetchError,
    FetchPolicy,
    FetchResult,
    SafeFetcher,
    extract_media_urls,
)
from reclaim.fetching.quarantine import (
    QuarantineError,
    QuarantineStore,
)
from reclaim.hashing import HashingError, HashingLimits, hash_image_bytes
from reclaim.matching.video import FrameList, VideoRule
from reclaim.security.field_crypto import keyring

#: A page can show many pictures; review the first few, the rest can wait.
MAX_MEDIA_PER_PAGE = 10
PREVIEW_SUFFIX = "-preview"


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


@dataclass(frozen=True, slots=True)
class FetchProblem:
    """One URL that gave nothing to review, and why (an error class name, or
    ``HttpStatus``, ``NoMedia``, ``NotMedia``)."""

    url: str
    error: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "error": self.error, "message": self.message[:500]}


# --- 1. what to fetch (a short read) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchPlan:
    item_id: int
    url: str


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


# --- 2. the network, the hashes, the quarantine (no database) --------------------------


@dataclass(frozen=True, slots=True)
class Kept:
    """One media object fetched, stored encrypted and hashed."""

    object_id: str
    url: str
    content_type: str
    kind: MediaKind
    size: int
    sha256: str
    hashes: list[tuple[Signal, int | None]]
    frames: FrameList | None = None  # a video's vPDQ frames (its ``vpdq`` signal)


@dataclass(slots=True)
class Gathered:
    kept: list[Kept] = field(default_factory=list)
    problems: list[FetchProblem] = field(default_factory=list)
    was_page: bool = False
    page: FetchResult | None = None
    snapshot: snapshots.Snapshot | None = None


def gather(
    fetch_plan: FetchPlan, *, fetcher: SafeFetcher, store: QuarantineStore, policy: ReviewPolicy
) -> Gathered:
    """Fetch the URL (and, for a page, the media it shows) within one time budget, hash
    each media object and keep it encrypted in the quarantine."""
    gathered = Gathered()
    deadline = time.monotonic() + fetcher.policy.total_timeout
    for result in _fetch_media(fetcher, fetch_plan.url, gathered, deadline):
        _keep(fetch_plan, result, gathered, store=store, limits=policy.limits)
    if gathered.page is not None:
        kept = snapshots.keep_page(fetch_plan.item_id, gathered.page, store=store)
        if isinstance(kept, snapshots.Snapshot):
            gathered.snapshot = kept
        else:
            gathered.problems.append(FetchProblem(gathered.page.final_url, "QuarantineError", kept))
    return gathered


def _fetch_media(
    fetcher: SafeFetcher, url: str, gathered: Gathered, deadline: float
) -> list[FetchResult]:
    """The media a URL leads to: itself, or what its page shows."""
    first = _fetch_one(fetcher, url, gathered, deadline)
    if first is None:
        return []
    if first.kind != "page":
        return [first]
    gathered.was_page = True
    gathered.page = first
    candidates = extract_media_urls(first.content, first.final_url, charset=_charset(first))
    if not candidates:
        gathered.problems.append(
            FetchProblem(first.final_url, "NoMedia", "the page shows no images or videos")
        )
        return []
    found = []
    for candidate in candidates[:MAX_MEDIA_PER_PAGE]:
        result = _fetch_one(fetcher, candidate, gathered, deadline)
        if result is None:
            continue
        if result.kind == "page":
            gathered.problems.append(
                FetchProblem(candidate, "NotMedia", "a page, not an image or a video")
            )
            continue
        found.append(result)
    return found


def _fetch_one(
    fetcher: SafeFetcher, url: str, gathered: Gathered, deadline: float
) -> FetchResult | None:
    try:
        result = fetcher.fetch_sync(url, deadline=deadline)
    except FetchError as exc:
        gathered.problems.append(FetchProblem(url, type(exc).__name__, str(exc)))
        return None
    if not result.is_success:
        gone = " (the content is gone)" if result.is_gone else ""
        gathered.problems.append(
            FetchProblem(url, "HttpStatus", f"the server answered {result.status_code}{gone}")
        )
        return None
    return result


def _charset(result: FetchResult) -> str | None:
    declared = result.headers.get("content-type", "")
    for part in declared.split(";")[1:]:
        name, _sep, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return None


def _keep(
    fetch_plan: FetchPlan,
    result: FetchResult,
    gathered: Gathered,
    *,
    store: QuarantineStore,
    limits: HashingLimits,
) -> None:
    object_id = secrets.token_hex(16)
    content_type = result.content_type or "application/octet-stream"
    try:
        stored = store.put(
            object_id,
            result.content,
            {
                "item": str(fetch_plan.item_id),
                "url": result.final_url,
                "content_type": content_type,
            },
        )
    except QuarantineError as exc:
        gathered.problems.append(FetchProblem(result.final_url, "QuarantineError", str(exc)))
        return
    hashes, problem = _hash(result, limits)
    frames = video_frames(result.content, limits, hashes) if result.kind == "video" else None
    if problem:
        gathered.problems.append(FetchProblem(result.final_url, "HashingError", problem))
    preview = preview_of(result.kind, result.content, limits)
    if preview is not None:  # without one the page says so, and the reveal still works
        with contextlib.suppress(QuarantineError):
            store.put(object_id + PREVIEW_SUFFIX, preview, {"preview_of": object_id})
    gathered.kept.append(
        Kept(
            object_id=object_id,
            url=result.final_url,
            content_type=content_type,
            kind=MediaKind.VIDEO if result.kind == "video" else MediaKind.IMAGE,
            size=stored.size,
            sha256=stored.sha256,
            hashes=hashes,
            frames=frames,
        )
    )


def _hash(
    result: FetchResult, limits: HashingLimits
) -> tuple[list[tuple[Signal, int | None]], str | None]:
    data = result.content
    exact: list[tuple[Signal, int | None]] = [
        (Signal(SignalType.MD5, hashlib.md5(data, usedforsecurity=False).hexdigest()), None),
        (Signal(SignalType.SHA256, hashlib.sha256(data).hexdigest()), None),
    ]
    if result.kind != "image":
        return exact, None  # a video's frames: _video_frames
    try:
        hashes = hash_image_bytes(data, limits)
    except HashingError as exc:
        return exact, str(exc)
    found: list[tuple[Signal, int | None]] = [(hashes.pdq.signal, hashes.pdq.quality)]
    if hashes.pdq_threatexchange is not None:
        extra = hashes.pdq_threatexchange
        found.append((extra.signal, extra.quality))
    return exact + found, None


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
    outcome = ReviewOutcome(problems=list(gathered.problems), was_page=gathered.was_page)
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
