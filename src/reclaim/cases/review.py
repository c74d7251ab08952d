"""Safe review of a reported URL: fetch, quarantine, hash, match.

"Fetch for review" retrieves the URL through the safe fetcher.  Media (an image or a
video) is stored encrypted in the quarantine; a web page is read for the media it
shows, and each of those is fetched through the fetcher again (which re-checks every
address).  Every stored object gets a QuarantinedMedia row that expires after the
retention period, its hashes become the item's signals, and the signals are matched
against the banks so that the analyst knows, before looking, whether the content is
already confirmed.  Images also get a blurred greyscale preview, stored in the
quarantine beside the original (services/viewing.py shows both, audited).

Fetching runs in the analyst's request (see docs/analysts.md): each fetch is capped
by the fetcher's own time limit, and a page's media are fetched only while the
overall budget lasts.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking
from reclaim.banks.engine import Match, MatchEngine
from reclaim.cases import decisions
from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Item, ItemSignal, QuarantinedMedia
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
    PreviewError,
    QuarantineError,
    QuarantineStore,
    make_preview,
)
from reclaim.hashing import HashingError, HashingLimits, hash_image_bytes
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

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(
            retention=timedelta(days=settings.quarantine_retention_days),
            limits=settings.hashing_limits(),
            max_distance=settings.match_max_distance,
            decisions=decisions.DecisionPolicy.from_settings(settings),
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


# --- fetching for review ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchProblem:
    """One URL that gave nothing to review, and why (an error class name, or
    ``HttpStatus``, ``NoMedia``, ``NotMedia``)."""

    url: str
    error: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "error": self.error, "message": self.message[:500]}


@dataclass(slots=True)
class ReviewOutcome:
    media: list[QuarantinedMedia] = field(default_factory=list)
    problems: list[FetchProblem] = field(default_factory=list)
    # The fetched media's hashes, with PDQ quality where there is one.
    hashes: list[tuple[Signal, int | None]] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    was_page: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.media)

    @property
    def signals(self) -> list[Signal]:
        return list(dict.fromkeys(signal for signal, _quality in self.hashes))


@dataclass(frozen=True, slots=True)
class _Hashed:
    signals: list[tuple[Signal, int | None]]
    problem: str | None = None


def fetch_for_review(
    session: Session,
    item: Item,
    *,
    fetcher: SafeFetcher,
    store: QuarantineStore,
    matcher: MatchEngine,
    policy: ReviewPolicy,
    actor_id: int,
    clock: Clock = system_clock,
) -> ReviewOutcome:
    """Fetch a URL item into the quarantine; audited ITEM_FETCHED or ITEM_FETCH_FAILED."""
    if item.kind is not ItemKind.URL or not item.url:
        raise ReviewError("not_a_url", "only URL items can be fetched for review")
    if item.withdrawn_at is not None:
        raise ReviewError("item_withdrawn", "the reporter withdrew this item")
    outcome = ReviewOutcome()
    budget_ends = time.monotonic() + fetcher.policy.total_timeout
    for result in _fetch_media(fetcher, item.url, outcome, budget_ends):
        _keep(
            session,
            item,
            result,
            outcome,
            store=store,
            policy=policy,
            actor_id=actor_id,
            clock=clock,
        )
    new_signal_ids = _attach_signals(session, item, outcome, clock)
    _bank_if_confirmed(session, item, new_signal_ids, policy, clock)
    if outcome.hashes:
        outcome.matches = matcher.match(session, outcome.signals, max_distance=policy.max_distance)
    _audit_fetch(session, item, outcome, actor_id, clock)
    return outcome


def _fetch_media(
    fetcher: SafeFetcher, url: str, outcome: ReviewOutcome, budget_ends: float
) -> list[FetchResult]:
    """The media a URL leads to: itself, or what its page shows."""
    first = _fetch_one(fetcher, url, outcome)
    if first is None:
        return []
    if first.kind != "page":
        return [first]
    outcome.was_page = True
    candidates = extract_media_urls(first.content, first.final_url, charset=_charset(first))
    if not candidates:
        outcome.problems.append(
            FetchProblem(first.final_url, "NoMedia", "the page shows no images or videos")
        )
        return []
    found = []
    for candidate in candidates[:MAX_MEDIA_PER_PAGE]:
        if time.monotonic() > budget_ends:
            outcome.problems.append(
                FetchProblem(candidate, "FetchTimeoutError", "time ran out before this fetch")
            )
            continue
        result = _fetch_one(fetcher, candidate, outcome)
        if result is None:
            continue
        if result.kind == "page":
            outcome.problems.append(
                FetchProblem(candidate, "NotMedia", "a page, not an image or a video")
            )
            continue
        found.append(result)
    return found


def _fetch_one(fetcher: SafeFetcher, url: str, outcome: ReviewOutcome) -> FetchResult | None:
    try:
        result = fetcher.fetch_sync(url)
    except FetchError as exc:
        outcome.problems.append(FetchProblem(url, type(exc).__name__, str(exc)))
        return None
    if not result.is_success:
        gone = " (the content is gone)" if result.is_gone else ""
        outcome.problems.append(
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
    session: Session,
    item: Item,
    result: FetchResult,
    outcome: ReviewOutcome,
    *,
    store: QuarantineStore,
    policy: ReviewPolicy,
    actor_id: int,
    clock: Clock,
) -> None:
    now = clock()
    object_id = secrets.token_hex(16)
    content_type = result.content_type or "application/octet-stream"
    try:
        stored = store.put(
            object_id,
            result.content,
            {"item": str(item.id), "url": result.final_url, "content_type": content_type},
        )
    except QuarantineError as exc:
        outcome.problems.append(FetchProblem(result.final_url, "QuarantineError", str(exc)))
        return
    record = QuarantinedMedia(
        item_id=item.id,
        object_id=object_id,
        final_url=result.final_url,
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        fetched_by_id=actor_id,
        fetched_at=now,
        expires_at=now + policy.retention,
    )
    session.add(record)
    outcome.media.append(record)
    hashed = _hash(result, policy.limits)
    if hashed.problem:
        outcome.problems.append(FetchProblem(result.final_url, "HashingError", hashed.problem))
    outcome.hashes.extend(hashed.signals)
    if result.kind == "image":
        try:
            preview = make_preview(result.content, max_pixels=policy.limits.max_image_pixels)
            store.put(object_id + PREVIEW_SUFFIX, preview, {"preview_of": object_id})
        except (PreviewError, QuarantineError):
            pass  # no preview: the page says so, and the reveal still works


def _hash(result: FetchResult, limits: HashingLimits) -> _Hashed:
    data = result.content
    exact: list[tuple[Signal, int | None]] = [
        (Signal(SignalType.MD5, hashlib.md5(data, usedforsecurity=False).hexdigest()), None),
        (Signal(SignalType.SHA256, hashlib.sha256(data).hexdigest()), None),
    ]
    if result.kind != "image":
        # Videos are matched exactly here; their frame hashes are not signals.
        return _Hashed(exact)
    try:
        hashes = hash_image_bytes(data, limits)
    except HashingError as exc:
        return _Hashed(exact, str(exc))
    found: list[tuple[Signal, int | None]] = [(hashes.pdq.signal, hashes.pdq.quality)]
    if hashes.pdq_threatexchange is not None:
        extra = hashes.pdq_threatexchange
        found.append((extra.signal, extra.quality))
    return _Hashed(exact + found)


def _attach_signals(
    session: Session, item: Item, outcome: ReviewOutcome, clock: Clock
) -> list[int]:
    """Link the fetched media's signals to the item; return the ids newly linked."""
    session.flush()
    if not outcome.hashes:
        return []
    wanted: dict[Signal, int | None] = {}
    for signal, quality in outcome.hashes:
        wanted.setdefault(signal, quality)
    ids = banking.signal_ids(session, wanted, clock=clock)
    existing = set(
        session.scalars(select(ItemSignal.signal_id).where(ItemSignal.item_id == item.id))
    )
    added = []
    for signal, quality in wanted.items():
        signal_id = ids[signal]
        if signal_id not in existing:
            session.add(ItemSignal(item_id=item.id, signal_id=signal_id, quality=quality))
            added.append(signal_id)
    session.flush()
    return added


def _bank_if_confirmed(
    session: Session, item: Item, new_ids: list[int], policy: ReviewPolicy, clock: Clock
) -> None:
    """An item already confirmed banks the signals a later fetch finds, under the same
    decision (its provenance)."""
    if not new_ids or item.classification is None or not item.classification.is_confirming:
        return
    decision = decisions.in_force(session, item)
    if decision is not None:
        decisions.bank_item_signals(
            session, item, decision, policy.decisions, signal_ids=new_ids, clock=clock
        )


def _audit_fetch(
    session: Session, item: Item, outcome: ReviewOutcome, actor_id: int, clock: Clock
) -> None:
    details: dict[str, Any] = {
        "url": item.url,
        "page": outcome.was_page,
        "media": [
            {"id": m.id, "sha256": m.sha256, "type": m.content_type, "size": m.size}
            for m in outcome.media
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
