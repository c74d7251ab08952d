"""Each picture or video an item shows, as the analyst sees it before deciding.

For every media object: its hashes and their bank matches, whether anyone has seen it
(and so whether deciding it would bank it as verified, and why), the latest
quarantined copy to preview or reveal, and whether the decision in force covers it.
"No need to view" is said per media object: only for one whose own hashes match a
verified entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim.banks import videos
from reclaim.banks.domain import Category
from reclaim.banks.engine import Match, MatchEngine, VideoMatch
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases import pages, trust
from reclaim.cases.domain import DecisionStatus
from reclaim.cases.models import Decision, Item, Media, MediaSignal, QuarantinedMedia
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching.video import VideoRule


@dataclass(frozen=True, slots=True)
class MediaMatch:
    """A bank entry one of the media's hashes matched."""

    bank: str
    entry_id: int
    signal: Signal  # the media's hash that matched
    distance: int
    verified: bool
    category: str

    @property
    def no_need_to_view(self) -> bool:
        """A verified entry: someone saw this picture (or one within the distance)."""
        return self.verified


@dataclass(slots=True)
class MediaView:
    media: Media
    signals: list[tuple[Signal, int | None]] = field(default_factory=list)
    matches: list[MediaMatch] = field(default_factory=list)
    copy: QuarantinedMedia | None = None  # the latest quarantined copy
    covered: bool = False  # by the decision in force
    trust: trust.Trust | None = None
    # Banked videos this video matches under vPDQ's rule (percentages both ways).
    video_matches: list[VideoMatch] = field(default_factory=list)

    @property
    def verified_match(self) -> MediaMatch | None:
        found = [m for m in self.matches if m.no_need_to_view]
        return min(found, key=lambda m: (m.distance, m.entry_id)) if found else None


def media_views(
    session: Session,
    items: Sequence[Item],
    *,
    in_force: dict[int, Decision | None],
    matcher: MatchEngine,
    max_distance: int,
    video_rule: VideoRule | None = None,
) -> dict[int, list[MediaView]]:
    """item id -> its media, each with hashes, matches, copy, coverage and trust (a fixed
    number of queries and one engine call for all of them)."""
    by_item = pages.media_of_items(session, items)
    views: dict[int, MediaView] = {}
    for media_list in by_item.values():
        for media in media_list:
            views.setdefault(media.id, MediaView(media))
    if not views:
        return {item_id: [] for item_id in by_item}
    _attach_signals(session, views, matcher, max_distance)
    _attach_video_matches(session, views, matcher, video_rule or VideoRule())
    _attach_copies(session, views)
    for view in views.values():
        view.trust = trust.trust_of(
            session,
            view.media,
            [_as_match(m) for m in view.matches],
        )
    found: dict[int, list[MediaView]] = {}
    for item_id, media_list in by_item.items():
        decision = in_force.get(item_id)
        covered = {m.id for m in decision.media} if decision is not None else set()
        found[item_id] = [
            MediaView(
                view.media,
                view.signals,
                view.matches,
                view.copy,
                view.media.id in covered,
                view.trust,
                view.video_matches,
            )
            for view in (views[m.id] for m in media_list)
        ]
    return found


def _attach_signals(
    session: Session, views: dict[int, MediaView], matcher: MatchEngine, max_distance: int
) -> None:
    rows = session.execute(
        select(MediaSignal.media_id, SignalRow.type, SignalRow.value, MediaSignal.quality)
        .join(SignalRow, SignalRow.id == MediaSignal.signal_id)
        .where(MediaSignal.media_id.in_(list(views)))
        .order_by(MediaSignal.media_id, SignalRow.type, SignalRow.value)
    ).all()
    queries: list[tuple[int, Signal]] = []
    for media_id, kind, value, quality in rows:
        signal = Signal(SignalType(kind), value)
        views[media_id].signals.append((signal, quality))
        queries.append((media_id, signal))
    if not queries:
        return
    for match in matcher.match(session, [s for _m, s in queries], max_distance=max_distance):
        media_id, signal = queries[match.query_index]
        views[media_id].matches.append(
            MediaMatch(
                match.bank,
                match.entry_id,
                signal,
                match.distance,
                match.verified,
                match.category.value,
            )
        )
    for view in views.values():
        view.matches.sort(key=lambda m: (not m.no_need_to_view, m.distance, m.bank))


def _attach_video_matches(
    session: Session, views: dict[int, MediaView], matcher: MatchEngine, rule: VideoRule
) -> None:
    """Match each video's vPDQ frames against the banked videos (its own entry, once
    banked, included: the analyst sees where it went)."""
    rows = session.execute(
        select(MediaSignal.media_id, MediaSignal.signal_id)
        .join(SignalRow, SignalRow.id == MediaSignal.signal_id)
        .where(MediaSignal.media_id.in_(list(views)), SignalRow.type == SignalType.VPDQ)
    ).all()
    frames = videos.frames_of(session, [signal_id for _m, signal_id in rows])
    for media_id, signal_id in rows:
        if signal_id in frames:
            views[media_id].video_matches = matcher.match_video(session, frames[signal_id], rule)


def _attach_copies(session: Session, views: dict[int, MediaView]) -> None:
    copies = session.scalars(
        select(QuarantinedMedia)
        .where(QuarantinedMedia.media_id.in_(list(views)))
        .options(selectinload(QuarantinedMedia.item))
        .order_by(QuarantinedMedia.id)
    )
    for copy in copies:
        current = views[copy.media_id].copy
        # The newest copy still kept, else the newest purged one (to say when it went).
        if current is None or copy.purged_at is None or current.purged_at is not None:
            views[copy.media_id].copy = copy


def _as_match(match: MediaMatch) -> Match:
    return Match(
        query_index=0,
        entry_id=match.entry_id,
        bank=match.bank,
        signal=match.signal,
        distance=match.distance,
        verified=match.verified,
        category=Category(match.category),
    )


def copy_view(
    session: Session,
    copy: QuarantinedMedia,
    *,
    matcher: MatchEngine,
    max_distance: int,
    video_rule: VideoRule | None = None,
) -> MediaView:
    """One quarantined copy's media object, for its review page."""
    item = copy.item
    decision = session.scalar(
        select(Decision)
        .where(Decision.item_id == item.id, Decision.status == DecisionStatus.RECORDED)
        .options(selectinload(Decision.media))
    )
    views = media_views(
        session,
        [item],
        in_force={item.id: decision},
        matcher=matcher,
        max_distance=max_distance,
        video_rule=video_rule,
    )
    view = next((v for v in views[item.id] if v.media.id == copy.media_id), None)
    if view is None:  # a copy of a media object no longer on the item's page
        view = MediaView(copy.media, trust=trust.trust_of(session, copy.media))
    view.copy = copy
    return view
