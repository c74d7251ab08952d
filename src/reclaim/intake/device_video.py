"""A video's vPDQ frame list as the reporter's device sends it (pure).

The portal's hasher (``/static/hashing/vpdq.js``) plays a chosen video on the device
and hashes one frame a second; the report form carries the list in the video's file
field (see :func:`reclaim.intake.domain.parse_file`).  Nothing here trusts it: it is
bounded and checked, and banked unverified like every hash from a device.
"""

from __future__ import annotations

from reclaim.domain.signals import Signal, SignalType

#: At most this many frames (an hour at one frame a second; the match API's bound).
MAX_VIDEO_FRAMES = 3600
#: ``pdq_hex,quality,timestamp``: 64 hex digits, up to 3 digits, up to 12 characters.
MAX_FRAME_LENGTH = 64 + 1 + 3 + 1 + 12
MAX_TIMESTAMP = 2**32 / 1000


def parse_frames(text: str) -> tuple[tuple[float, str, int], ...]:
    """A video's vPDQ frames as the portal's hasher writes them (vpdq.js):
    ``pdq_hex,quality,timestamp`` joined by ``;``, timestamps in seconds, not
    decreasing; at most :data:`MAX_VIDEO_FRAMES`.  Raises ValueError otherwise."""
    items = text.split(";")
    if not text or len(items) > MAX_VIDEO_FRAMES:
        raise ValueError(f"a frame list has 1 to {MAX_VIDEO_FRAMES} frames")
    frames: list[tuple[float, str, int]] = []
    previous = 0.0
    for item in items:
        fields = item.split(",")
        if len(fields) != 3 or len(item) > MAX_FRAME_LENGTH or not fields[1].isdigit():
            raise ValueError("a frame is pdq,quality,timestamp")
        pdq = Signal.parse(SignalType.PDQ, fields[0]).value
        quality, timestamp = int(fields[1]), float(fields[2])
        if not (0 <= quality <= 100 and previous <= timestamp < MAX_TIMESTAMP):
            raise ValueError("a frame's quality or time is out of range")
        previous = timestamp
        frames.append((timestamp, pdq, quality))
    return tuple(frames)
