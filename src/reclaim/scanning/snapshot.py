"""The banks a scan matches against, frozen into files the workers memory-map.

The client writes the snapshot once, at the start of a scan, from the database: the
active entries of the chosen banks, PDQ hashes as a saved :class:`PdqIndex` (the
matching engine's own memory-mapped format), MD5 and SHA-256 digests, and for each
entry its bank, category and whether it is verified.  Workers never touch the
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

_META = "snapshot.json"
_DIGESTS = {SignalType.MD5: MD5_BYTES, SignalType.SHA256: SHA256_BYTES}
#: vPDQ skips frames below this quality, and so does the scan.
_FRAME_QUALITY = 50


@dataclass(frozen=True, slots=True)
class Entry:
    """One active bank entry, as written into the snapshot."""

    id: int
    bank: str
    category: str
    verified: bool
    signal: Signal


def write_snapshot(directory: Path, entries: Sequence[Entry]) -> None:
    """Write the snapshot files (the client does this once per scan)."""
    directory.mkdir(parents=True, exist_ok=True)
    pdq = [e for e in entries if e.signal.type is SignalType.PDQ]
    PdqIndex.build(
        np.array([e.id for e in pdq], np.int64),
        _rows([e.signal.value for e in pdq], 32),
    ).save(directory / "pdq")
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

    def match_video(self, hashes: VideoHashes, max_distance: int) -> list[dict[str, Any]]:
        found: list[tuple[str, int, int]] = list(self._exact(hashes.md5, hashes.sha256))
        frames = [f.value for f in hashes.frames if f.quality >= _FRAME_QUALITY]
        if frames:
            # Banks hold single PDQ hashes, not frame lists: a video matches an entry
            # when one of its frames (quality 50 or more, as vPDQ keeps) is within
            # the distance; _describe keeps the best frame per entry.
            found.extend(_hits("vpdq", self.pdq.search(_rows(frames, 32), max_distance)))
        return self._describe(found)

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
        )
        .join(Bank, Bank.id == BankEntry.bank_id)
        .join(SignalRow, SignalRow.id == BankEntry.signal_id)
        .where(BankEntry.withdrawn_at.is_(None))
        .order_by(BankEntry.id)
    )
    if banks is not None:
        query = query.where(Bank.name.in_(sorted(banks)))
    return [
        Entry(int(i), str(bank), str(category), bool(verified), Signal(SignalType(kind), value))
        for i, bank, category, verified, kind, value in session.execute(query)
    ]


__all__ = ["Entry", "Snapshot", "bank_entries", "open_snapshot", "write_snapshot"]
