"""The server's match engine: the banks' active signals in memory, kept in step.

One engine holds every active entry of every bank: PDQ hashes in the exact
:class:`~reclaim.matching.PdqIndex` and MD5/SHA-256 digests in
:class:`~reclaim.matching.ExactIndex`, all keyed by bank-entry id.  Restricting a
lookup to a set of banks is a filter on the (few) matches, so one index serves every
bank set without holding a hash twice.

The engine follows the bank feed: every add and withdrawal carries a `change_seq`, so
`sync` reads the changes after the last one it applied and adds or removes exactly
those.  Banked videos (``vpdq`` signals) are in a
:class:`~reclaim.matching.video.VideoIndex`: their distinct frame hashes in a PdqIndex
of their own, so ``match_video`` finds the candidate videos from frame hits and
applies vPDQ's rule to those only.

`save` writes the index and the position it reflects; `load` on restart reads
them back and syncs only what changed since, instead of rebuilding from the database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks import videos
from reclaim.banks.domain import Category
from reclaim.banks.models import Bank, BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.domain.signals import Signal, SignalType
from reclaim.matching import MD5_BYTES, SHA256_BYTES, ExactIndex, PdqIndex
from reclaim.matching.video import FrameList, VideoIndex, VideoRule
from reclaim.storage import counters
from reclaim.storage.models import Counter

SYNC_BATCH = 50_000
_META = "meta.json"
_FORMAT = 3
_DIGEST_BYTES = {SignalType.MD5: MD5_BYTES, SignalType.SHA256: SHA256_BYTES}


@dataclass(frozen=True, slots=True)
class Match:
    """One bank entry a query matched."""

    query_index: int
    entry_id: int
    bank: str
    signal: Signal
    distance: int
    verified: bool
    category: Category = Category.UNKNOWN


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """A banked video (``vpdq`` entry) a video matched under vPDQ's rule."""

    entry_id: int
    bank: str
    signal: Signal
    query_percent: float
    target_percent: float
    verified: bool
    category: Category = Category.UNKNOWN


class MatchEngine:
    """Active bank entries in memory; thread-safe; follows the bank feed."""

    def __init__(self) -> None:
        self._pdq = PdqIndex.build(np.empty(0, np.int64), np.empty((0, 32), np.uint8))
        self._exact = {kind: ExactIndex(size) for kind, size in _DIGEST_BYTES.items()}
        self._video = VideoIndex()
        self._position = 0
        self._lock = threading.RLock()

    @property
    def position(self) -> int:
        """The last bank-feed change this engine reflects."""
        return self._position

    def __len__(self) -> int:
        exact = sum(len(index) for index in self._exact.values())
        return len(self._pdq) + exact + len(self._video)

    # --- following the feed --------------------------------------------------------

    def sync(self, session: Session) -> int:
        """Apply every bank change after `position`; return how many were applied."""
        with self._lock:
            latest = session.scalar(select(Counter.value).where(Counter.name == counters.BANK_FEED))
            if latest is None or latest <= self._position:
                return 0
            applied = 0
            while True:
                rows = session.execute(
                    select(
                        BankEntry.id,
                        BankEntry.change_seq,
                        BankEntry.withdrawn_at.is_(None),
                        SignalRow.type,
                        SignalRow.value,
                        SignalRow.id,
                    )
                    .join(SignalRow, SignalRow.id == BankEntry.signal_id)
                    .where(BankEntry.change_seq > self._position)
                    .order_by(BankEntry.change_seq)
                    .limit(SYNC_BATCH)
                ).all()
                if not rows:
                    return applied
                self._apply(rows)
                self._apply_videos(session, rows)
                applied += len(rows)
                self._position = rows[-1][1]

    def _apply_videos(
        self, session: Session, rows: Sequence[tuple[int, int, bool, str, str, int]]
    ) -> None:
        changed = [row for row in rows if row[3] == SignalType.VPDQ.value]
        if not changed:
            return
        self._video.remove(row[0] for row in changed if not row[2])
        added = [row for row in changed if row[2]]
        frames = videos.frames_of(session, [row[5] for row in added])
        self._video.add_many((row[0], frames[row[5]]) for row in added if row[5] in frames)

    def _apply(self, rows: Sequence[tuple[int, int, bool, str, str, int]]) -> None:
        """Add active entries and remove withdrawn ones, per signal type.

        Rows carry each entry's current state, so applying a change twice (after a
        save that was interrupted before its position was written) is harmless.
        """
        added: dict[SignalType, tuple[list[int], list[bytes]]] = {}
        removed: dict[SignalType, list[int]] = {}
        for entry_id, _seq, active, kind, value, _signal_id in rows:
            signal_type = SignalType(kind)
            if signal_type is SignalType.VPDQ:
                continue  # _apply_videos
            if active:
                ids, values = added.setdefault(signal_type, ([], []))
                ids.append(entry_id)
                values.append(bytes.fromhex(value))
            else:
                removed.setdefault(signal_type, []).append(entry_id)
        for signal_type, entry_ids in removed.items():
            self._index_for(signal_type).remove(np.array(entry_ids, np.int64))
        for signal_type, (entry_ids, values) in added.items():
            width = 32 if signal_type is SignalType.PDQ else _DIGEST_BYTES[signal_type]
            rows_array = np.frombuffer(b"".join(values), np.uint8).reshape(-1, width)
            self._index_for(signal_type).add(np.array(entry_ids, np.int64), rows_array)

    def _index_for(self, signal_type: SignalType) -> PdqIndex | ExactIndex:
        return self._pdq if signal_type is SignalType.PDQ else self._exact[signal_type]

    # --- matching ------------------------------------------------------------------

    def match(
        self,
        session: Session,
        signals: Sequence[Signal],
        *,
        max_distance: int = 31,
        dihedral: Sequence[Sequence[str]] | None = None,
        banks: Collection[str] | None = None,
    ) -> list[Match]:
        """Match signals (PDQ within `max_distance`, MD5/SHA-256 exactly).

        `dihedral`, when given, holds for each PDQ signal in `signals` (in order) the
        hex hashes of its 8 rotations and flips; a PDQ query then also matches through
        any of them, at the best distance.
        """
        self.sync(session)
        hits: list[tuple[int, int, int]] = []  # (query index, entry id, distance)
        pdq_positions = [i for i, s in enumerate(signals) if s.type is SignalType.PDQ]
        with self._lock:
            if pdq_positions:
                hits.extend(self._match_pdq(signals, pdq_positions, max_distance, dihedral))
            for signal_type, index in self._exact.items():
                hits.extend(_lookup_exact(index, signals, signal_type))
        return _describe(session, hits, banks)

    def match_video(
        self,
        session: Session,
        frames: FrameList,
        rule: VideoRule,
        *,
        banks: Collection[str] | None = None,
        include_partial: bool = False,
    ) -> list[VideoMatch]:
        """Banked videos ``frames`` matches under vPDQ's rule, best first.

        ``include_partial``: also the candidates that share frames without reaching
        both thresholds (the analyst's view shows how close they came)."""
        self.sync(session)
        with self._lock:
            hits = self._video.search(frames, rule)
        hits = [h for h in hits if include_partial or h.is_match]
        if not hits:
            return []
        found = {
            m.entry_id: m for m in _describe(session, [(0, h.entry_id, 0) for h in hits], banks)
        }
        return [
            VideoMatch(
                h.entry_id,
                found[h.entry_id].bank,
                found[h.entry_id].signal,
                h.query_percent,
                h.target_percent,
                found[h.entry_id].verified,
                found[h.entry_id].category,
            )
            for h in hits
            if h.entry_id in found
        ]

    def _match_pdq(
        self,
        signals: Sequence[Signal],
        positions: list[int],
        max_distance: int,
        dihedral: Sequence[Sequence[str]] | None,
    ) -> Iterable[tuple[int, int, int]]:
        if dihedral is not None:
            if len(dihedral) != len(positions) or any(len(v) != 8 for v in dihedral):
                raise ValueError("dihedral needs 8 hashes for each PDQ signal")
            queries = np.array(
                [[list(bytes.fromhex(h)) for h in variants] for variants in dihedral], np.uint8
            )
            result = self._pdq.search(queries, max_distance, dihedral=True)
        else:
            queries = np.array([list(signals[i].to_bytes()) for i in positions], np.uint8)
            result = self._pdq.search(queries, max_distance)
        for q, entry_id, distance in zip(
            result.query_index.tolist(), result.ids.tolist(), result.distances.tolist(), strict=True
        ):
            yield positions[q], entry_id, distance

    # --- persistence ---------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the indexes, then the feed position they reflect.

        The position is written last: if saving stops half-way, the files on disk are
        at least as new as the recorded position, and the next `load` re-applies the
        changes after it, which `_apply` tolerates.  `PdqIndex.save` replaces its files
        by renaming, so saving over the directory an engine was loaded from is safe.
        """
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            self._pdq.save(directory / "pdq")
            for signal_type, index in self._exact.items():
                ids, digests = index.items()
                staging = directory / f"{signal_type.value}.new.npz"
                with staging.open("wb") as out:
                    np.savez(out, ids=ids, digests=digests)
                staging.replace(directory / f"{signal_type.value}.npz")
            self._video.save(directory / "video")
            meta = {"format": _FORMAT, "position": self._position}
            (directory / _META).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, session: Session) -> MatchEngine:
        """Load a saved engine and sync it; rebuild from the database if unusable."""
        engine = cls()
        try:
            meta = json.loads((directory / _META).read_text(encoding="utf-8"))
            latest = session.scalar(select(Counter.value).where(Counter.name == counters.BANK_FEED))
            # A position beyond the database's counter means another database: rebuild.
            if meta.get("format") == _FORMAT and meta["position"] <= (latest or 0):
                engine._pdq = PdqIndex.load(directory / "pdq")
                for signal_type in _DIGEST_BYTES:
                    with np.load(directory / f"{signal_type.value}.npz") as saved:
                        engine._exact[signal_type] = ExactIndex.build(
                            saved["ids"], saved["digests"]
                        )
                engine._video = VideoIndex.load(directory / "video")
                engine._position = int(meta["position"])
        except (OSError, ValueError, KeyError):
            engine = cls()
        engine.sync(session)
        return engine


def _lookup_exact(
    index: ExactIndex, signals: Sequence[Signal], signal_type: SignalType
) -> Iterable[tuple[int, int, int]]:
    positions = [i for i, s in enumerate(signals) if s.type is signal_type]
    if not positions:
        return []
    digests = np.frombuffer(b"".join(signals[i].to_bytes() for i in positions), np.uint8)
    result = index.lookup(digests.reshape(len(positions), index.digest_size))
    return [
        (positions[q], entry_id, 0)
        for q, entry_id in zip(result.query_index.tolist(), result.ids.tolist(), strict=True)
    ]


def _describe(
    session: Session, hits: list[tuple[int, int, int]], banks: Collection[str] | None
) -> list[Match]:
    if not hits:
        return []
    entry_ids = sorted({entry_id for _, entry_id, _ in hits})
    details = {}
    for start in range(0, len(entry_ids), 2000):
        rows = session.execute(
            select(
                BankEntry.id,
                Bank.name,
                SignalRow.type,
                SignalRow.value,
                BankEntry.verified,
                BankEntry.category,
            )
            .join(Bank, Bank.id == BankEntry.bank_id)
            .join(SignalRow, SignalRow.id == BankEntry.signal_id)
            .where(BankEntry.id.in_(entry_ids[start : start + 2000]))
            .where(BankEntry.withdrawn_at.is_(None))
        )
        for entry_id, bank, kind, value, verified, category in rows:
            details[entry_id] = (bank, Signal(SignalType(kind), value), verified, category)
    matches = []
    for query_index, entry_id, distance in sorted(hits, key=lambda h: (h[0], h[2], h[1])):
        found = details.get(entry_id)
        # An entry withdrawn since the last sync is not reported.
        if found is None or (banks is not None and found[0] not in banks):
            continue
        bank, signal, verified, category = found
        matches.append(Match(query_index, entry_id, bank, signal, distance, verified, category))
    return matches
