"""How much partners match: signals and videos asked about and matched, per partner,
day, bank and category, for the statistics (docs/statistics.md).  Counts only, never
the hashes (partners' uploads are not Reclaim's to keep).

The match API answers thousands of signals a second; a database write per request
would contend for SQLite's one write lock with reporters' submissions.  So each server
process counts in memory (:class:`VolumeTally`, under a lock: requests are answered on
the event loop and in worker threads) and writes what it gathered at most every
``interval`` seconds, and when it shuts down, with an upsert that *adds* to the rows
(:func:`write`), so any number of processes write the same rows safely.  What a process
gathered since its last write is lost if it dies hard (killed, out of memory, power
cut): these are statistics, not acknowledged data, and the interval bounds the loss.

Counted per answered request: a request the API refused (422, 404) counts nothing;
a request sent again counts again, since the hashes that would recognise it are not
kept.  The day is the operator's calendar day when the request was answered (not
when the counts are written), so a month's figures are exact whatever the zone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from reclaim.banks.domain import Category
from reclaim.banks.engine import Match, VideoMatch
from reclaim.partners.domain import ALL_BANKS
from reclaim.partners.models import MatchVolume
from reclaim.storage.bulk import insert_adding

logger = logging.getLogger(__name__)

COUNTS = ("signals", "signals_matched", "videos", "videos_matched")
TABLE: Table = MatchVolume.__table__  # type: ignore[assignment]


class VolumeKey(NamedTuple):
    """One row of ``partner_match_volumes`` (a tuple: made and hashed on every request)."""

    day: date
    partner_id: int
    bank: str = ALL_BANKS
    category: str = ALL_BANKS


@dataclass(slots=True)
class Volume:
    signals: int = 0
    signals_matched: int = 0
    videos: int = 0
    videos_matched: int = 0

    def add(self, other: Volume) -> None:
        self.signals += other.signals
        self.signals_matched += other.signals_matched
        self.videos += other.videos
        self.videos_matched += other.videos_matched


Volumes = dict[VolumeKey, Volume]


def count_answer(
    partner_id: int,
    day: date,
    found: Sequence[Sequence[Match]],
    video_found: Sequence[Sequence[VideoMatch]] = (),
) -> Volumes:
    """The counts of one answered request: ``found`` holds each signal's matches,
    ``video_found`` each video's (as the API answers them)."""
    signals, signal_banks = _matched(found)
    videos, video_banks = _matched(video_found)
    counted: Volumes = {
        VolumeKey(day, partner_id): Volume(len(found), signals, len(video_found), videos)
    }
    for (bank, category), n in signal_banks.items():
        counted[VolumeKey(day, partner_id, bank, category.value)] = Volume(signals_matched=n)
    for (bank, category), n in video_banks.items():
        key = VolumeKey(day, partner_id, bank, category.value)
        counted.setdefault(key, Volume()).videos_matched = n
    return counted


def _matched(
    found: Sequence[Sequence[Match | VideoMatch]],
) -> tuple[int, Counter[tuple[str, Category]]]:
    """How many inputs matched any bank, and how many matched each (bank, category)."""
    per_bank: Counter[tuple[str, Category]] = Counter()
    matched = 0
    for matches in found:
        if not matches:  # most inputs match nothing
            continue
        matched += 1
        if len(matches) == 1:
            per_bank[matches[0].bank, matches[0].category] += 1
        else:
            per_bank.update({(m.bank, m.category) for m in matches})
    return matched, per_bank


class VolumeTally:
    """One process's counts not yet written.  ``add`` on every answered request;
    ``take_if_due`` hands them over at most every ``interval`` seconds (to the one
    caller that asks first), ``take`` whenever asked (at shutdown)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._volumes: Volumes = {}
        self._taken_at = clock()

    def add(self, volumes: Mapping[VolumeKey, Volume]) -> None:
        with self._lock:
            for key, volume in volumes.items():
                held = self._volumes.get(key)
                if held is None:
                    self._volumes[key] = replace(volume)
                else:
                    held.add(volume)

    def take_if_due(self) -> Volumes | None:
        """Everything gathered, if ``interval`` has passed since the last hand-over
        (None otherwise, or if nothing was gathered)."""
        with self._lock:
            now = self._clock()
            if now - self._taken_at < self.interval:
                return None
            self._taken_at = now
            taken, self._volumes = self._volumes, {}
        return taken or None

    def take(self) -> Volumes:
        with self._lock:
            self._taken_at = self._clock()
            taken, self._volumes = self._volumes, {}
        return taken

    def pending(self) -> Volumes:
        """A copy of what is gathered (for tests and diagnostics)."""
        with self._lock:
            return {key: replace(volume) for key, volume in self._volumes.items()}


def write(session: Session, volumes: Mapping[VolumeKey, Volume]) -> int:
    """Add the counts to their rows (creating them); how many rows were written."""
    if not volumes:
        return 0
    # In key order: two processes adding to the same rows lock them in the same order
    # (on PostgreSQL, opposite orders could deadlock).
    rows = [
        {
            "day": key.day,
            "partner_id": key.partner_id,
            "bank": key.bank,
            "category": key.category,
            **{c: getattr(volume, c) for c in COUNTS},
        }
        for key, volume in sorted(volumes.items())
    ]
    insert_adding(session, TABLE, rows, key=VolumeKey._fields, counts=COUNTS)
    return len(rows)


def flush(
    sessions: Callable[[], Session],
    tally: VolumeTally,
    volumes: Mapping[VolumeKey, Volume] | None = None,
) -> int:
    """Write ``volumes`` (by default everything ``tally`` holds) in one transaction.

    If the database cannot take them now (locked past the busy timeout, unreachable),
    they go back into the tally for the next write.  If it never will (a constraint
    refuses them: a partner that no longer exists), they are dropped and logged, so
    that one bad row does not hold every later count back."""
    taken = tally.take() if volumes is None else volumes
    if not taken:
        return 0
    try:
        with sessions() as session:
            written = write(session, taken)
            session.commit()
    except IntegrityError:
        logger.error("match volumes refused by the database; dropped", exc_info=True)
        return 0
    except SQLAlchemyError:
        tally.add(taken)  # with the next write
        logger.warning("match volumes not written; kept for the next write", exc_info=True)
        return 0
    return written
