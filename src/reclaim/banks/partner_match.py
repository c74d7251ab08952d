"""The partner match API's use case: a batch of signals against every bank, in memory.

The web layer has already parsed every signal (validate at the boundary); this checks
what depends on settings and on the banks, then asks the match engine once for the
whole batch.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks.engine import Match, MatchEngine, VideoMatch
from reclaim.banks.feed import UnknownBankError
from reclaim.banks.models import Bank
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching.video import FrameList, VideoRule

#: PDQ's standard threshold; the API never reports matches further away than this.
API_MAX_DISTANCE = 31


class MatchRequestError(ValueError):
    """A request the settings do not allow; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """One input: a signal and, for PDQ with dihedral matching, its 8 variants."""

    signal: Signal
    dihedral: tuple[str, ...] | None = None


def allowed_distance(requested: int | None, configured: int) -> int:
    """The radius to search: what was asked, never beyond the operator's setting."""
    ceiling = min(API_MAX_DISTANCE, configured)
    if requested is None:
        return ceiling
    if requested > ceiling:
        raise MatchRequestError(
            "max_distance_too_large",
            f"max_distance may be at most {ceiling} on this server; got {requested}",
        )
    return requested


def match_videos(
    session: Session,
    engine: MatchEngine,
    videos: Sequence[FrameList],
    rule: VideoRule,
    *,
    banks: Collection[str] | None = None,
) -> list[list[VideoMatch]]:
    """The banked videos each video matches under vPDQ's rule, in the videos' order."""
    wanted = set(banks) if banks else None
    return [engine.match_video(session, video, rule, banks=wanted) for video in videos]


def match_batch(
    session: Session,
    engine: MatchEngine,
    queries: Sequence[MatchQuery],
    *,
    max_distance: int,
    dihedral: bool,
    banks: Collection[str] | None = None,
) -> list[list[Match]]:
    """The matches of each query, in the queries' order (best first within each)."""
    if banks:
        known = set(session.scalars(select(Bank.name).where(Bank.name.in_(list(banks)))))
        missing = sorted(set(banks) - known)
        if missing:
            raise UnknownBankError(f"no bank named {', '.join(map(repr, missing))}")
    if not queries:
        return []
    variants = None
    if dihedral:
        variants = [q.dihedral or () for q in queries if q.signal.type is SignalType.PDQ]
    found = engine.match(
        session,
        [q.signal for q in queries],
        max_distance=max_distance,
        dihedral=variants,
        banks=set(banks) if banks else None,
    )
    results: list[list[Match]] = [[] for _ in queries]
    for match in found:
        results[match.query_index].append(match)
    return results
