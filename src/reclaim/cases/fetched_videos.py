"""A fetched video's vPDQ frames, computed during review (its ``vpdq`` signal)."""

from __future__ import annotations

from reclaim.banks import videos
from reclaim.domain.signals import Signal
from reclaim.hashing import HashingError, HashingLimits, VideoHashes, hash_bytes
from reclaim.matching.video import FrameList


def video_frames(
    data: bytes, limits: HashingLimits, hashes: list[tuple[Signal, int | None]]
) -> FrameList | None:
    """A fetched video's vPDQ frames (one per second, as HMA samples); its ``vpdq``
    signal joins ``hashes``.  A video that cannot be decoded keeps its exact hashes
    (the review's other hashing reports why)."""
    try:
        decoded = hash_bytes(data, limits)
    except HashingError:
        return None
    if not isinstance(decoded, VideoHashes) or not decoded.frames:
        return None
    frames = videos.frame_list(decoded.frames)
    hashes.append((videos.signal_of(frames), videos.best_quality(frames)))
    return frames
