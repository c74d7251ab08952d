"""Videos' vPDQ frame lists as signals: stored once, read back, written as text.

A ``vpdq`` signal is a row of ``signals`` whose value is the fingerprint of a frame
list (:meth:`reclaim.matching.video.FrameList.fingerprint`); its frames are one
``video_frames`` row beside it.  Everything else (bank entries with provenance,
category, verification and withdrawal; the feed's change order) is what every other
signal has.

Two text forms travel:

- python-threatexchange's vPDQ signal string (the ``local_file`` exchange, the HMA
  plugin): a JSON list of ``"pdq_hex,quality,timestamp"``, one per frame;
- Meta's vPDQ hash list lines ``frame_number,quality,pdq_hex,timestamp`` (Reclaim's
  JSON lines carry these, so frame numbers survive).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks.models import VideoFrames
from reclaim.domain.signals import Signal, SignalType
from reclaim.hashing import VpdqFeature, format_vpdq_line, parse_vpdq_lines
from reclaim.matching.video import FrameList, InvalidFrameListError
from reclaim.storage.bulk import chunked

#: Frames one video may have in a request or an imported line (an hour at 1 frame/s,
#: or two minutes of every frame at 30 frames/s).
MAX_FRAMES = 3600


def frame_list(features: Iterable[VpdqFeature]) -> FrameList:
    return FrameList.from_frames(
        (f.frame_number, f.timestamp, f.value, f.quality) for f in features
    )


def features(frames: FrameList) -> list[VpdqFeature]:
    return [VpdqFeature(n, t, value, q) for n, t, value, q in frames.frames()]


def signal_of(frames: FrameList) -> Signal:
    return Signal(SignalType.VPDQ, frames.fingerprint())


def best_quality(frames: FrameList) -> int:
    """A vPDQ entry's quality: its best frame's (below the banking threshold, no frame
    of the video could match anything)."""
    return int(frames.qualities.max()) if frames.distinct else 0


def store_frames(session: Session, frames_by_signal: dict[int, FrameList]) -> None:
    """Store the frames of these ``vpdq`` signal ids, those not stored yet."""
    if not frames_by_signal:
        return
    have = set(stored_signal_ids(session, list(frames_by_signal)))
    for signal_id, frames in frames_by_signal.items():
        if signal_id not in have:
            session.add(
                VideoFrames(
                    signal_id=signal_id,
                    frame_count=len(frames),
                    distinct_count=frames.distinct,
                    frames=frames.to_bytes(),
                )
            )
    session.flush()


def stored_signal_ids(session: Session, signal_ids: Sequence[int]) -> list[int]:
    found: list[int] = []
    for part in chunked(list(signal_ids)):
        found.extend(
            session.scalars(select(VideoFrames.signal_id).where(VideoFrames.signal_id.in_(part)))
        )
    return found


def frames_of(session: Session, signal_ids: Iterable[int]) -> dict[int, FrameList]:
    """signal id -> its frames, for the ids that have them."""
    found: dict[int, FrameList] = {}
    for part in chunked(list(set(signal_ids))):
        rows = session.execute(
            select(VideoFrames.signal_id, VideoFrames.frames).where(VideoFrames.signal_id.in_(part))
        )
        for signal_id, blob in rows:
            found[signal_id] = FrameList.from_bytes(blob)
    return found


# --- text forms -----------------------------------------------------------------------


def compact_frames(frames: FrameList) -> list[str]:
    """The frames as python-threatexchange's ``VpdqCompactFeature`` strings."""
    return [
        f"{value},{quality},{timestamp:.3f}" for _n, timestamp, value, quality in frames.frames()
    ]


def to_threatexchange(frames: FrameList) -> str:
    """python-threatexchange's vPDQ signal string (``vpdq_util.vpdq_to_json``'s form)."""
    return json.dumps(compact_frames(frames))


def from_threatexchange(text: str) -> FrameList:
    """Read python-threatexchange's vPDQ signal string; frames are numbered in order."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidFrameListError(f"a vPDQ signal is a JSON list: {exc.msg}") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidFrameListError('a vPDQ signal is a JSON list of "pdq_hex,quality,timestamp"')
    _check_size(len(items))
    frames = []
    for number, item in enumerate(items):
        parts = item.split(",")
        if len(parts) != 3:
            raise InvalidFrameListError(f'frame {number}: expected "pdq_hex,quality,timestamp"')
        try:
            frames.append((number, float(parts[2]), parts[0].strip().lower(), int(parts[1])))
        except ValueError:
            raise InvalidFrameListError(f"frame {number}: {item[:100]!r} is not valid") from None
    return FrameList.from_frames(frames)


def to_lines(frames: FrameList) -> list[str]:
    """Meta's vPDQ hash list lines (``frame_number,quality,pdq_hex,timestamp``)."""
    return [format_vpdq_line(feature) for feature in features(frames)]


def from_lines(lines: Sequence[str]) -> FrameList:
    _check_size(len(lines))
    try:
        return frame_list(parse_vpdq_lines(lines))
    except ValueError as exc:
        raise InvalidFrameListError(str(exc)) from None


def _check_size(count: int) -> None:
    if count > MAX_FRAMES:
        raise InvalidFrameListError(
            f"a video may have at most {MAX_FRAMES:,} frames; got {count:,}"
        )
    if count == 0:
        raise InvalidFrameListError("a vPDQ signal needs at least one frame")
