"""Videos matched as videos: vPDQ frame lists, stored compactly, found through PdqIndex.

A video's vPDQ signal is its list of sampled frames, each with a PDQ hash, a quality
and a timestamp.  Consecutive frames of a video often hash alike, so a
:class:`FrameList` stores each *distinct* hash once (with its quality) and, per
sampled frame, which distinct hash it has, its frame number and its timestamp (in
milliseconds, vPDQ's precision).

vPDQ's rule (the same as :func:`reclaim.hashing.vpdq.match_vpdq`): frames of quality
below the threshold are set aside; a frame matches when some usable frame of the
other video is within ``distance`` bits; the videos match when at least the query
threshold share of the query's usable frames match the banked video *and* at least
the banked threshold share of the banked video's usable frames match the query.
Shares count frames, so a hash that fills half the video weighs half.

:class:`VideoIndex` answers "which banked videos does this video match" without
comparing against every banked video: every distinct usable frame of every banked
video is one row of an exact :class:`~reclaim.matching.PdqIndex` (its id packs the
video's id and the frame's position), so one batch search of the query's distinct
frames returns every (query frame, banked frame) pair within the distance.  Because
the index is exact, those pairs *are* the rule's evidence: the candidate videos are
the ones hit, and both percentages follow from the hits without comparing anything
else.  :func:`brute_force_video_matches` is its slow reference twin.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import PDQ_BYTES
from reclaim.matching.pdq_index import PdqIndex

DEFAULT_DISTANCE = 31
DEFAULT_QUALITY_THRESHOLD = 50
DEFAULT_MATCH_PERCENT = 80.0
#: Distinct frames per video the index can address (the frame's position takes 20 bits).
MAX_DISTINCT_FRAMES = 1 << 20
_FRAME_BITS = 20
_FRAME_MASK = MAX_DISTINCT_FRAMES - 1
_MAGIC = b"VPQ1"
_HEADER = struct.Struct("<4sII")
_FORMAT = 1

Frame = tuple[int, float, str, int]  # (frame number, timestamp in s, pdq hex, quality)


class InvalidFrameListError(ValueError):
    """Frames that do not make a vPDQ frame list (bad hash, quality, time, or too many)."""


@dataclass(frozen=True, slots=True, eq=False)
class FrameList:
    """A video's vPDQ frames, each distinct hash stored once.

    ``hashes`` (n, 32) and ``qualities`` (n,) are the distinct hashes in first-seen
    order; ``frame_hash``, ``frame_numbers`` and ``timestamps_ms`` (m,) are the sampled
    frames in order, ``frame_hash[i]`` indexing ``hashes``.
    """

    hashes: npt.NDArray[np.uint8]
    qualities: npt.NDArray[np.uint8]
    frame_hash: npt.NDArray[np.uint32]
    frame_numbers: npt.NDArray[np.uint32]
    timestamps_ms: npt.NDArray[np.uint32]

    @classmethod
    def from_frames(cls, frames: Iterable[Frame]) -> FrameList:
        """Build from ``(frame_number, timestamp_seconds, pdq_hex, quality)`` tuples."""
        position: dict[bytes, int] = {}
        qualities: list[int] = []
        frame_hash: list[int] = []
        numbers: list[int] = []
        times: list[int] = []
        for number, timestamp, value, quality in frames:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raw = b""
            if len(raw) != PDQ_BYTES:
                raise InvalidFrameListError(f"a PDQ hash is 64 hex characters, got {value!r}")
            if not 0 <= quality <= 100:
                raise InvalidFrameListError(f"a frame's quality is 0-100, got {quality}")
            if not (0 <= timestamp < 2**32 / 1000) or not 0 <= number < 2**32:
                raise InvalidFrameListError(f"frame {number} at {timestamp} s is out of range")
            k = position.get(raw)
            if k is None:
                k = position[raw] = len(qualities)
                qualities.append(quality)
            else:
                qualities[k] = max(qualities[k], quality)
            frame_hash.append(k)
            numbers.append(number)
            times.append(round(timestamp * 1000))
        if len(qualities) > MAX_DISTINCT_FRAMES:
            raise InvalidFrameListError(
                f"a video may have at most {MAX_DISTINCT_FRAMES:,} distinct frame hashes"
            )
        hashes = np.frombuffer(b"".join(position), dtype=np.uint8).reshape(-1, PDQ_BYTES)
        return cls(
            hashes.copy(),
            np.array(qualities, dtype=np.uint8),
            np.array(frame_hash, dtype=np.uint32),
            np.array(numbers, dtype=np.uint32),
            np.array(times, dtype=np.uint32),
        )

    def __len__(self) -> int:
        return int(self.frame_hash.shape[0])

    @property
    def distinct(self) -> int:
        return int(self.hashes.shape[0])

    def frames(self) -> list[Frame]:
        """The sampled frames as ``(frame_number, timestamp_seconds, pdq_hex, quality)``."""
        hexes = [row.tobytes().hex() for row in self.hashes]
        return [
            (int(n), int(t) / 1000, hexes[k], int(self.qualities[k]))
            for k, n, t in zip(
                self.frame_hash.tolist(),
                self.frame_numbers.tolist(),
                self.timestamps_ms.tolist(),
                strict=True,
            )
        ]

    def weights(self, quality_threshold: int) -> npt.NDArray[np.uint32]:
        """Frames having each distinct hash; 0 for hashes below ``quality_threshold``."""
        counts = np.bincount(self.frame_hash, minlength=self.distinct).astype(np.uint32)
        counts[self.qualities < quality_threshold] = 0
        return counts

    # --- compact bytes and identity ---------------------------------------------------

    def to_bytes(self) -> bytes:
        """``VPQ1``, n, m, the n hashes, n qualities, then m hash indexes, frame numbers
        and millisecond timestamps (little-endian uint32): 33 bytes per distinct hash
        and 12 per frame."""
        return b"".join(
            (
                _HEADER.pack(_MAGIC, self.distinct, len(self)),
                self.hashes.tobytes(),
                self.qualities.tobytes(),
                self.frame_hash.astype("<u4").tobytes(),
                self.frame_numbers.astype("<u4").tobytes(),
                self.timestamps_ms.astype("<u4").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> FrameList:
        if len(blob) < _HEADER.size:
            raise InvalidFrameListError("a stored frame list is too short")
        magic, n, m = _HEADER.unpack_from(blob)
        if magic != _MAGIC or len(blob) != _HEADER.size + 33 * n + 12 * m:
            raise InvalidFrameListError("a stored frame list is damaged")
        offset = _HEADER.size
        hashes = np.frombuffer(blob, np.uint8, n * PDQ_BYTES, offset).reshape(n, PDQ_BYTES)
        offset += n * PDQ_BYTES
        qualities = np.frombuffer(blob, np.uint8, n, offset)
        offset += n
        columns = np.frombuffer(blob, "<u4", 3 * m, offset).astype(np.uint32).reshape(3, m)
        if m and int(columns[0].max()) >= n:
            raise InvalidFrameListError("a stored frame list is damaged")
        return cls(hashes.copy(), qualities.copy(), columns[0], columns[1], columns[2])

    def fingerprint(self) -> str:
        """The frame list's identity (64 hex characters): SHA-256 of its compact bytes
        without the frame numbers, which python-threatexchange's vPDQ format does not
        carry (so a list keeps its identity through that format).

        This is the value of the video's ``vpdq`` signal in the banks: one row per
        distinct frame list, however many banks and media refer to it.
        """
        digest = hashlib.sha256(_HEADER.pack(_MAGIC, self.distinct, len(self)))
        for part in (self.hashes, self.qualities, self.frame_hash, self.timestamps_ms):
            digest.update(part.astype(part.dtype.newbyteorder("<")).tobytes())
        return digest.hexdigest()


# --- the rule ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoHit:
    """How the query compares with one banked video (``entry_id``) under vPDQ's rule."""

    entry_id: int
    query_percent: float
    target_percent: float
    is_match: bool


@dataclass(frozen=True, slots=True)
class VideoRule:
    distance: int = DEFAULT_DISTANCE
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD
    query_match_percent: float = DEFAULT_MATCH_PERCENT
    target_match_percent: float = DEFAULT_MATCH_PERCENT

    def decide(self, entry_id: int, query_percent: float, target_percent: float) -> VideoHit:
        return VideoHit(
            entry_id,
            query_percent,
            target_percent,
            is_match=query_percent >= self.query_match_percent
            and target_percent >= self.target_match_percent,
        )


def _usable(
    frames: FrameList, quality_threshold: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    weights = frames.weights(quality_threshold)
    keep = weights > 0
    return frames.hashes[keep], weights[keep]


_POPCOUNT = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)


def brute_force_video_matches(
    query: FrameList, banked: Mapping[int, FrameList], rule: VideoRule = VideoRule()
) -> list[VideoHit]:
    """The reference: compare the query with every banked video, frame by frame.

    Returns every banked video at least one usable frame of which is within the
    distance of a usable query frame (the candidates), sorted like
    :meth:`VideoIndex.search`.
    """
    q_hashes, q_weights = _usable(query, rule.quality_threshold)
    hits = []
    if not len(q_weights):
        return []
    for entry_id, video in banked.items():
        t_hashes, t_weights = _usable(video, rule.quality_threshold)
        if not len(t_weights):
            continue
        distances = _POPCOUNT[q_hashes[:, None, :] ^ t_hashes[None, :, :]].sum(
            axis=2, dtype=np.uint16
        )
        close = distances <= rule.distance
        if not close.any():
            continue
        query_percent = 100.0 * int(q_weights[close.any(axis=1)].sum()) / int(q_weights.sum())
        target_percent = 100.0 * int(t_weights[close.any(axis=0)].sum()) / int(t_weights.sum())
        hits.append(rule.decide(entry_id, query_percent, target_percent))
    return _ordered(hits)


def _ordered(hits: list[VideoHit]) -> list[VideoHit]:
    return sorted(
        hits, key=lambda h: (not h.is_match, -min(h.query_percent, h.target_percent), h.entry_id)
    )


# --- the index -----------------------------------------------------------------------


class VideoIndex:
    """Banked videos' distinct frames in one exact PdqIndex; see the module docstring.

    Every distinct frame is indexed with its quality and the number of frames that
    have it, so the rule's thresholds (quality, distance, both percentages) are all per
    search.  ``add`` and ``remove`` must not overlap with searches (the caller locks).
    """

    def __init__(self) -> None:
        self._frames = PdqIndex.build(np.empty(0, np.int64), np.empty((0, PDQ_BYTES), np.uint8))
        # entry id -> (frame counts per distinct hash, their qualities)
        self._videos: dict[int, tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]] = {}

    def __len__(self) -> int:
        return len(self._videos)

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._videos

    def add(self, entry_id: int, frames: FrameList) -> None:
        self.add_many([(entry_id, frames)])

    def add_many(self, videos: Iterable[tuple[int, FrameList]]) -> None:
        """Index videos (replacing any already indexed under the same id)."""
        ids: list[npt.NDArray[np.int64]] = []
        rows: list[npt.NDArray[np.uint8]] = []
        replaced: list[int] = []
        for entry_id, frames in videos:
            if entry_id in self._videos:
                replaced.append(entry_id)
            self._videos[entry_id] = (frames.weights(0), frames.qualities.copy())
            ids.append(_frame_ids([entry_id], [frames.distinct]))
            rows.append(frames.hashes)
        if replaced:
            # Replaced videos may have had more distinct frames: forget them all first.
            self._frames.remove(_frame_ids(replaced, [MAX_DISTINCT_FRAMES] * len(replaced)))
        if ids:
            self._frames.add(np.concatenate(ids), np.concatenate(rows))

    def remove(self, entry_ids: Iterable[int]) -> int:
        """Forget videos; unknown ids are ignored.  Returns how many were removed."""
        known = [e for e in dict.fromkeys(entry_ids) if e in self._videos]
        if not known:
            return 0
        counts = [self._videos.pop(e)[0].shape[0] for e in known]
        self._frames.remove(_frame_ids(known, counts))
        return len(known)

    def search(self, query: FrameList, rule: VideoRule = VideoRule()) -> list[VideoHit]:
        """Every banked video with a usable frame near a usable query frame, with both
        percentages; matches (``is_match``) first, then by the smaller percentage."""
        q_hashes, q_weights = _usable(query, rule.quality_threshold)
        if not q_weights.shape[0] or not self._videos:
            return []
        found = self._frames.search(q_hashes, rule.distance)
        if not len(found):
            return []
        entries = found.ids >> _FRAME_BITS
        positions = found.ids & _FRAME_MASK
        order = np.argsort(entries, kind="stable")
        entries, positions, queries = entries[order], positions[order], found.query_index[order]
        starts = np.flatnonzero(np.r_[True, entries[1:] != entries[:-1]])
        ends = np.r_[starts[1:], entries.shape[0]]
        q_total = int(q_weights.sum())
        hits = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            entry_id = int(entries[start])
            weights, qualities = self._videos[entry_id]
            usable = qualities >= rule.quality_threshold
            t_total = int(weights[usable].sum())
            hit_positions = positions[start:end]
            good = usable[hit_positions]
            if not good.any():
                continue
            matched_q = np.unique(queries[start:end][good])
            matched_t = np.unique(hit_positions[good])
            query_percent = 100.0 * int(q_weights[matched_q].sum()) / q_total
            target_percent = 100.0 * int(weights[matched_t].sum()) / t_total
            hits.append(rule.decide(entry_id, query_percent, target_percent))
        return _ordered(hits)

    # --- persistence ----------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._frames.save(directory / "frames")
        entry_ids = np.array(sorted(self._videos), dtype=np.int64)
        lengths = np.array([self._videos[e][0].shape[0] for e in entry_ids], dtype=np.int64)
        weights = np.concatenate(
            [self._videos[e][0] for e in entry_ids] or [np.empty(0, np.uint32)]
        )
        qualities = np.concatenate(
            [self._videos[e][1] for e in entry_ids] or [np.empty(0, np.uint8)]
        )
        staging = directory / "videos.new.npz"
        with staging.open("wb") as out:
            np.savez(out, ids=entry_ids, lengths=lengths, weights=weights, qualities=qualities)
        staging.replace(directory / "videos.npz")
        (directory / "video-meta.json").write_text(json.dumps({"format": _FORMAT}), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> VideoIndex:
        meta = json.loads((directory / "video-meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError("a saved video index of another format")
        index = cls()
        index._frames = PdqIndex.load(directory / "frames")
        with np.load(directory / "videos.npz") as saved:
            bounds = np.r_[0, np.cumsum(saved["lengths"])]
            weights, qualities = saved["weights"], saved["qualities"]
            for i, entry_id in enumerate(saved["ids"].tolist()):
                part = slice(int(bounds[i]), int(bounds[i + 1]))
                index._videos[entry_id] = (weights[part].copy(), qualities[part].copy())
        return index


def _frame_ids(entry_ids: Sequence[int], counts: Sequence[int]) -> npt.NDArray[np.int64]:
    """Index ids of the first ``counts[i]`` distinct frames of each video."""
    if not entry_ids:
        return np.empty(0, np.int64)
    return np.concatenate(
        [
            (np.int64(e) << _FRAME_BITS) | np.arange(n, dtype=np.int64)
            for e, n in zip(entry_ids, counts, strict=True)
        ]
    )
