"""Review, part 2: the network, the hashes and the quarantine, with no database open.

:func:`gather` fetches a reported URL through the safe fetcher (for a page, the media it
shows, each fetched again, all within one time budget), keeps every media object
encrypted in the quarantine with its hashes (a video's vPDQ frames, a blurred preview),
and keeps the page itself as an encrypted snapshot for evidence.  ``review`` plans
before and records after, each in its own short transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reclaim.cases import snapshots
from reclaim.cases.domain import MediaKind
from reclaim.cases.fetched_videos import preview_of, video_frames
from reclaim.domain.signals import Signal, SignalType
from reclaim.fetching import (
    FetchError,
    FetchResult,
    SafeFetcher,
    extract_author_urls,
    extract_media_urls,
)
from reclaim.fetching.quarantine import QuarantineError, QuarantineStore
from reclaim.hashing import HashingError, HashingLimits, hash_image_bytes
from reclaim.matching.video import FrameList

if TYPE_CHECKING:
    from reclaim.cases.review import ReviewPolicy

#: A page can show many pictures; review the first few, the rest can wait.
MAX_MEDIA_PER_PAGE = 10
PREVIEW_SUFFIX = "-preview"


@dataclass(frozen=True, slots=True)
class FetchProblem:
    """One URL that gave nothing to review, and why (an error class name, or
    ``HttpStatus``, ``NoMedia``, ``NotMedia``)."""

    url: str
    error: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "error": self.error, "message": self.message[:500]}


@dataclass(frozen=True, slots=True)
class FetchPlan:
    item_id: int
    url: str


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
    #: The URLs the page declares as its author's (linkage reads handles from them).
    authors: list[str] = field(default_factory=list)


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
    gathered.authors = extract_author_urls(first.content, first.final_url, charset=_charset(first))
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
