"""The banks a scan matches against, frozen into files the workers memory-map.

The client writes the snapshot once, at the start of a scan, from the database: the
active entries of the chosen banks, PDQ hashes as a saved :class:`PdqIndex` (the
matching engine's own memory-mapped format), banked videos (``vpdq`` entries) as a
saved :class:`VideoIndex` (their distinct frame hashes in a PdqIndex of its own, also
memory-mapped), MD5 and SHA-256 digests, and for each entry its bank, category and
whether it is verified.  Workers never touch the
database: each worker process opens the snapshot once (the big arrays are mapped, so
several workers on one machine share one copy in the page cache) and keeps it for
every batch.  A scan's results therefore reflect one fixed state of the banks, which
``--resume`` keeps using.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reclaim.domain.signals import Signal, SignalType
from reclaim.hashing import ImageHashes, VideoHashes
from reclaim.matching import MD5_BYTES, SHA256_BYTES, ExactIndex, PdqIndex, SearchResult
from reclaim.matching.video import FrameList, VideoIndex, VideoRule

_META = "snapshot.json"
_VIDEO = "video"
_DIGESTS = {SignalType.MD5: MD5_BYTES, SignalType.SHA256: SHA256_BYTES}


@dataclass(frozen=True, slots=True)
class Entry:
    """One active bank entry, as written into the snapshot."""

    id: int
    bank: str
    category: str
    verified: bool
    signal: Signal
    frames: FrameList | None = None  # a ``vpdq`` entry's frame list


def write_snapshot(directory: Path, entries: Sequence[Entry]) -> None:
    """Write the snapshot files (the client does this once per scan)."""
    directory.mkdir(parents=True, exist_ok=True)
    pdq = [e for e in entries if e.signal.type is SignalType.PDQ]
    PdqIndex.build(
        np.array([e.id for e in pdq], np.int64),
        _rows([e.signal.value for e in pdq], 32),
    ).save(directory / "pdq")
    videos = VideoIndex()
    videos.add_many(
        (e.id, e.frames)
        for e in entries
        if e.signal.type is SignalType.VPDQ and e.frames is not None
    )
    videos.save(directory / _VIDEO)
    for kind, width in _DIGESTS.items():
        chosen = [e for e in entries if e.signal.type is kind]
        ids = np.array([e.id for e in chosen], np.int64)
        np.savez(
            directory / f"{kind.value}.npz",
            ids=ids,
            digests=_rows([e.signal.value for e in chosen], width),
        )
    banks = sorted({e.bank for e in entries})
    categories = sorted({e.category for e in entries})
    np.savez(
        directory / "entries.npz",
        ids=np.array([e.id for e in entries], np.int64),
        bank=np.array([banks.index(e.bank) for e in entries], np.int32),
        category=np.array([categories.index(e.category) for e in entries], np.int32),
        verified=np.array([e.verified for e in entries], np.bool_),
    )
    meta = {"banks": banks, "categories": categories, "size": len(entries)}
    (directory / _META).write_text(json.dumps(meta), encoding="utf-8")


def _rows(values: list[str], width: int) -> npt.NDArray[np.uint8]:
    if not values:
        return np.empty((0, width), np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), np.uint8).reshape(-1, width)


class Snapshot:
    """A snapshot opened for matching (workers hold one per process)."""

    def __init__(self, directory: Path) -> None:
        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        self.pdq = PdqIndex.load(directory / "pdq")
        # A snapshot written before banks held videos has no video index.
        has_videos = (directory / _VIDEO).is_dir()
        self.videos = VideoIndex.load(directory / _VIDEO) if has_videos else VideoIndex()
        self.exact: dict[SignalType, ExactIndex] = {}
        for kind in _DIGESTS:
            with np.load(directory / f"{kind.value}.npz") as saved:
                self.exact[kind] = ExactIndex.build(saved["ids"], saved["digests"])
        with np.load(directory / "entries.npz") as saved:
            ids = saved["ids"]
            banks, categories = meta["banks"], meta["categories"]
            self.entries = {
                int(i): (banks[b], categories[c], bool(v))
                for i, b, c, v in zip(
                    ids.tolist(),
                    saved["bank"].tolist(),
                    saved["category"].tolist(),
                    saved["verified"].tolist(),
                    strict=True,
                )
            }

    def match_image(
        self, hashes: ImageHashes, max_distance: int, *, dihedral: bool
    ) -> list[dict[str, Any]]:
        found: list[tuple[str, int, int]] = []
        pdq_values = [hashes.pdq.value]
        if hashes.pdq_threatexchange is not None:
            pdq_values.append(hashes.pdq_threatexchange.value)
        if dihedral and hashes.dihedral is not None:
            variants = b"".join(bytes.fromhex(h.value) for h in hashes.dihedral.hashes())
            queries = np.frombuffer(variants, np.uint8).reshape(1, 8, 32)
            result = self.pdq.search(queries, max_distance, dihedral=True)
            found.extend(_hits("pdq", result))
            pdq_values = pdq_values[1:]
        if pdq_values:
            result = self.pdq.search(_rows(pdq_values, 32), max_distance)
            found.extend(_hits("pdq", result))
        found.extend(self._exact(hashes.md5, hashes.sha256))
        return self._describe(found)

    def match_video(self, hashes: VideoHashes, rule: VideoRule) -> list[dict[str, Any]]:
        """Banked videos this video matches under vPDQ's rule, and MD5/SHA-256 entries.

        A video is matched as a video only: its frames are not looked up among the
        single PDQ entries (pictures), as the portal's review and the patrol do."""
        return self.match_frames(hashes.md5, hashes.sha256, video_frames(hashes), rule)

    def match_frames(
        self, md5: str, sha256: str, frames: FrameList, rule: VideoRule
    ) -> list[dict[str, Any]]:
        """:meth:`match_video` for a video whose frame list is already built."""
        exact = self._describe(self._exact(md5, sha256))
        known = {m["entry"] for m in exact}
        videos = []
        for hit in self.videos.search(frames, rule):
            described = self.entries.get(hit.entry_id)
            if not hit.is_match or described is None or hit.entry_id in known:
                continue
            bank, category, verified = described
            videos.append(
                {
                    "entry": hit.entry_id,
                    "bank": bank,
                    "category": category,
                    "verified": verified,
                    "by": "vpdq",
                    "query_percent": round(hit.query_percent, 2),
                    "target_percent": round(hit.target_percent, 2),
                }
            )
        return exact + videos

    def _exact(self, md5: str, sha256: str) -> list[tuple[str, int, int]]:
        found: list[tuple[str, int, int]] = []
        for kind, value in ((SignalType.MD5, md5), (SignalType.SHA256, sha256)):
            index = self.exact[kind]
            result = index.lookup(_rows([value], index.digest_size))
            found.extend((kind.value, i, 0) for i in result.ids.tolist())
        return found

    def _describe(self, found: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
        best: dict[int, tuple[str, int]] = {}
        for how, entry_id, distance in found:
            if entry_id not in best or distance < best[entry_id][1]:
                best[entry_id] = (how, distance)
        matches = []
        for entry_id, (how, distance) in sorted(best.items(), key=lambda x: (x[1][1], x[0])):
            described = self.entries.get(entry_id)
            if described is None:
                continue
            bank, category, verified = described
            matches.append(
                {
                    "entry": entry_id,
                    "bank": bank,
                    "category": category,
                    "verified": verified,
                    "by": how,
                    "distance": distance,
                }
            )
        return matches


def video_frames(hashes: VideoHashes) -> FrameList:
    """A hashed video's frames as a vPDQ frame list."""
    return FrameList.from_frames(
        (f.frame_number, f.timestamp, f.value, f.quality) for f in hashes.frames
    )


def _hits(how: str, result: SearchResult) -> list[tuple[str, int, int]]:
    return [
        (how, i, d) for i, d in zip(result.ids.tolist(), result.distances.tolist(), strict=True)
    ]


@functools.lru_cache(maxsize=4)
def _opened(directory: str, stamp: float) -> Snapshot:
    return Snapshot(Path(directory))


def open_snapshot(directory: Path) -> Snapshot:
    """The snapshot in ``directory``, opened once per process (and again if rewritten)."""
    return _opened(str(directory), (directory / _META).stat().st_mtime)


def bank_entries(session: Any, banks: Collection[str] | None) -> list[Entry]:
    """The active entries of ``banks`` (every bank when None), read from the database."""
    from sqlalchemy import select

    from reclaim.banks import videos
    from reclaim.banks.models import Bank, BankEntry
    from reclaim.banks.models import Signal as SignalRow

    query = (
        select(
            BankEntry.id,
            Bank.name,
            BankEntry.category,
            BankEntry.verified,
            SignalRow.type,
            SignalRow.value,
            SignalRow.id,
        )
        .join(Bank, Bank.id == BankEntry.bank_id)
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .where(BankEntry.withdrawn_at.is_(None))
        .order_by(BankEntry.id)
    )
    if banks is not None:
        query = query.where(Bank.name.in_(sorted(banks)))
    rows = session.execute(query).all()
    # Banked videos' frame lists, stored once per vpdq signal beside it.
    frames = videos.frames_of(
        session, [signal_id for *_, kind, _v, signal_id in rows if kind == SignalType.VPDQ]
    )
    return [
        Entry(
            int(i),
            str(bank),
            str(category),
            bool(verified),
            Signal(SignalType(kind), value),
            frames.get(signal_id) if kind == SignalType.VPDQ else None,
        )
        for i, bank, category, verified, kind, value, signal_id in rows
    ]


__all__ = [
    "Entry",
    "Snapshot",
    "bank_entries",
    "open_snapshot",
    "video_frames",
    "write_snapshot",
]
