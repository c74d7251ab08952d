""" "Verified" has one meaning: a person at the hotline saw this picture, or it matched
an entry someone saw (exactly, or within the operator's PDQ distance).

This module is the one place that says whether a media object's hashes may enter a
verified bank, and why (the reason travels with the bank entry as ``verified_via``).
Files hashed on a reporter's device were never seen here, whatever is decided about
them: their hashes stay in ``self-reported``.  A picture decided without being seen goes
into ``unverified`` and moves to its category's verified bank when someone looks at it
(:func:`promote_seen`, called when a preview or the original is shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks import banking
from reclaim.banks.domain import UNVERIFIED_BANK, Category, EntrySource
from reclaim.banks.engine import Match, MatchEngine
from reclaim.banks.models import BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import DecisionStatus, SeenHow
from reclaim.cases.models import Decision, DecisionMedia, Media, MediaSignal
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import Signal, SignalType


@dataclass(frozen=True, slots=True)
class Trust:
    """Whether a media object's hashes are verified, and why (or why not)."""

    verified: bool
    reason: str
    match: Match | None = None

    @property
    def device_only(self) -> bool:
        return self.reason == DEVICE_ONLY


DEVICE_ONLY = "hashed on the reporter's device: nobody at the hotline has seen it"
NOT_SEEN = "nobody at the hotline has seen it, and it matches no verified entry"


def media_signals(session: Session, media: Media) -> list[tuple[Signal, int | None]]:
    rows = session.execute(
        select(SignalRow.type, SignalRow.value, MediaSignal.quality)
        .join(MediaSignal, MediaSignal.signal_id == SignalRow.id)
        .where(MediaSignal.media_id == media.id)
        .order_by(SignalRow.type, SignalRow.value)
    )
    return [(Signal(SignalType(kind), value), quality) for kind, value, quality in rows]


def trust_of(session: Session, media: Media, matches: Sequence[Match] | None = None) -> Trust:
    """``matches``: this media's matches against the banks (from the match engine)."""
    if media.from_device:
        return Trust(False, DEVICE_ONLY)
    if media.seen_at is not None:
        who = media.seen_by.display_name if media.seen_by is not None else "staff"
        how = "the original" if media.seen_how is SeenHow.ORIGINAL else "the blurred preview"
        return Trust(True, f"seen by {who} ({how}) on {media.seen_at:%Y-%m-%d %H:%M} UTC")
    verified = sorted(
        (m for m in matches or () if m.verified), key=lambda m: (m.distance, m.entry_id)
    )
    if verified:
        best = verified[0]
        how = (
            "exactly" if best.signal.type is not SignalType.PDQ else f"PDQ distance {best.distance}"
        )
        return Trust(
            True,
            f"matches verified entry {best.entry_id} in the {best.bank} bank ({how})",
            best,
        )
    return Trust(False, NOT_SEEN)


def matches_of(
    session: Session, media: Media, matcher: MatchEngine, *, max_distance: int
) -> list[Match]:
    signals = [signal for signal, _quality in media_signals(session, media)]
    return matcher.match(session, signals, max_distance=max_distance) if signals else []


def mark_seen(
    session: Session,
    media: Media,
    *,
    user_id: int,
    how: SeenHow,
    min_pdq_quality: int,
    clock: Clock = system_clock,
) -> int:
    """Record that a person saw ``media`` (the first time counts, an original look
    upgrades a preview); hashes a decision banked unverified move to their category's
    verified bank.  Returns how many entries moved."""
    now = clock()
    if media.seen_at is None or (how is SeenHow.ORIGINAL and media.seen_how is SeenHow.PREVIEW):
        media.seen_by_id, media.seen_at, media.seen_how = user_id, media.seen_at or now, how
        session.flush()
    return promote_seen(session, media, min_pdq_quality=min_pdq_quality, clock=clock)


def promote_seen(
    session: Session, media: Media, *, min_pdq_quality: int, clock: Clock = system_clock
) -> int:
    """Move ``media``'s entries from ``unverified`` to its category's verified bank,
    now that someone saw it."""
    if media.seen_at is None or media.from_device:
        return 0
    unverified = banking.get_bank(session, UNVERIFIED_BANK)
    signal_ids = select(MediaSignal.signal_id).where(MediaSignal.media_id == media.id)
    entries = list(
        session.scalars(
            select(BankEntry).where(
                BankEntry.bank_id == unverified.id,
                BankEntry.withdrawn_at.is_(None),
                BankEntry.signal_id.in_(signal_ids),
                BankEntry.category != Category.UNKNOWN,
            )
        )
    )
    decision = _banking_decision(session, media)
    if not entries or decision is None or decision.classification.category is None:
        return 0
    category = decision.classification.category
    trust = trust_of(session, media)
    quality = dict(media_signals(session, media))
    banking.add_signals(
        session,
        banking.verified_bank(session, category),
        [
            banking.NewEntry(
                Signal(entry.signal.type, entry.signal.value),
                quality.get(Signal(entry.signal.type, entry.signal.value)),
                verified=True,
                category=category,
                verified_via=trust.reason,
            )
            for entry in entries
        ],
        source=EntrySource.DECISION,
        source_ref=entries[0].source_ref,
        min_pdq_quality=min_pdq_quality,
        clock=clock,
    )
    banking.withdraw_entries(
        session,
        [entry.id for entry in entries],
        reason=f"verified ({trust.reason}): moved to the {category.value} bank",
        clock=clock,
    )
    return len(entries)


def _banking_decision(session: Session, media: Media) -> Decision | None:
    """The decision in force that covers ``media`` and banks it (the newest)."""
    return session.scalar(
        select(Decision)
        .join(DecisionMedia, DecisionMedia.decision_id == Decision.id)
        .where(
            DecisionMedia.media_id == media.id,
            Decision.status == DecisionStatus.RECORDED,
        )
        .order_by(Decision.id.desc())
    )
