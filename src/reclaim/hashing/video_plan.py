"""Which packets of a video to decode so that vPDQ's sampled frames come out unchanged.

vPDQ's reference decodes every frame and hashes one a second; at 30 frames/s that is
29 frames decoded for nothing out of every 30.  A frame can be decoded without the ones
before it only from a *reset point*, and a frame nobody refers to can be skipped.  The
plan uses both, from the packets' metadata alone (read once before decoding):

- **Numbering.**  vPDQ numbers frames in the decoder's output order, which is the order
  of presentation timestamps; so a packet's frame number is the rank of its timestamp
  (packets the demuxer marks *discard*, edit-list priming, are never output and are not
  counted).  The frames to hash are those whose number is a multiple of the step.
- **Reset points.**  An H.264 or H.265 IDR picture (found by reading the NAL unit types
  of keyframe packets) or a VP8/VP9 key frame refers to nothing before it.  It is a
  usable reset point only if the group after it is *closed*: no later packet is
  presented before it (open-GOP leading pictures would need the previous group).
- **Segments.**  From each reset point, the packets up to the last frame to hash before
  the next reset point are decoded; the rest of the group is not read by the decoder.
  When the group's key frame is itself the sampled frame (phones write a key frame about
  every second), one frame of thirty is decoded.
- **Non-reference frames.**  In H.264, a frame not to hash is decoded with
  ``skip_frame = NONREF``: FFmpeg drops it if no other frame refers to it (B-frames).

Every decoded frame is bit-identical to the one the full decode produces, because
decoding from a reset point with every reference present is what the full decode does.
The plan is checked as it runs (every hashed frame's timestamp must be one the plan
expects, and all of them must come out); on any surprise the caller decodes everything.
Codecs not named here, packets without timestamps, repeated timestamps: no plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Codecs whose reset points the plan recognises (FFmpeg decoder names).
_IDR_CODECS = frozenset({"h264", "hevc"})
_KEYFRAME_CODECS = frozenset({"vp8", "vp9"})
#: Codecs whose non-reference frames FFmpeg can skip exactly (``nal_ref_idc == 0``).
NONREF_CODECS = frozenset({"h264"})

_H264_IDR = 5
_HEVC_IDR = frozenset({19, 20})  # IDR_W_RADL, IDR_N_LP (CRA has leading pictures)


@dataclass(frozen=True, slots=True)
class PacketInfo:
    """What the plan needs of one packet, in decoding order."""

    pts: int
    reset: bool
    discard: bool = False


@dataclass(frozen=True, slots=True)
class DecodePlan:
    """Packets to feed (decoding-order positions), and the frames to hash by timestamp."""

    feed: frozenset[int]
    #: Positions right after a gap: drain and reset the decoder before feeding them.
    restarts: frozenset[int]
    #: Presentation timestamp -> vPDQ frame number, for every frame to hash.
    sampled: dict[int, int]
    frame_count: int

    @property
    def decoded_share(self) -> float:
        return len(self.feed) / max(1, self.frame_count)


def plan_decode(packets: Sequence[PacketInfo], step: int) -> DecodePlan | None:
    """The plan for ``packets`` (decoding order) hashing every ``step``-th frame, or None."""
    if step < 1 or not packets or not packets[0].reset:
        return None
    shown = [p.pts for p in packets if not p.discard]
    if len({p.pts for p in packets}) != len(packets):
        return None
    number = {pts: n for n, pts in enumerate(sorted(shown))}
    sampled = {pts: n for pts, n in number.items() if n % step == 0}
    starts = _closed_reset_points(packets)
    feed: set[int] = set()
    restarts: set[int] = set()
    bounds = [*starts, len(packets)]
    for start, end in itertools.pairwise(bounds):
        last = max(
            (i for i in range(start, end) if packets[i].pts in sampled),
            default=None,
        )
        if last is None:
            continue
        if feed and start - 1 not in feed:
            restarts.add(start)
        feed.update(range(start, last + 1))
    return DecodePlan(frozenset(feed), frozenset(restarts), sampled, len(shown))


def _closed_reset_points(packets: Sequence[PacketInfo]) -> list[int]:
    """Reset points after which no packet is presented earlier than the reset point."""
    later_min: list[int | None] = [None] * len(packets)
    lowest: int | None = None
    for i in range(len(packets) - 1, -1, -1):
        later_min[i] = lowest
        lowest = packets[i].pts if lowest is None else min(lowest, packets[i].pts)
    points = [0]
    for i in range(1, len(packets)):
        after = later_min[i]
        if packets[i].reset and (after is None or after > packets[i].pts):
            points.append(i)
    return points


def is_reset_packet(codec: str, data: bytes, nal_length_size: int | None) -> bool:
    """Whether a keyframe packet of ``codec`` refers to nothing before it.

    ``nal_length_size`` is the NAL unit length prefix of MP4-style H.264/H.265 (from the
    codec's extradata), or None for Annex B byte streams (start codes).
    """
    if codec in _KEYFRAME_CODECS:
        return True
    if codec not in _IDR_CODECS:
        return False
    for header in _nal_headers(data, nal_length_size):
        if codec == "h264" and header & 0x1F == _H264_IDR:
            return True
        if codec == "hevc" and (header >> 1) & 0x3F in _HEVC_IDR:
            return True
    return False


def plannable(codec: str) -> bool:
    return codec in _IDR_CODECS or codec in _KEYFRAME_CODECS


def nal_length_size(codec: str, extradata: bytes | None) -> int | None:
    """The NAL length prefix size from avcC/hvcC extradata; None for Annex B."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 0x03) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 0x03) + 1
    return None


def _nal_headers(data: bytes, length_size: int | None) -> Iterable[int]:
    if length_size is None:
        yield from _annex_b_headers(data)
        return
    at = 0
    while at + length_size < len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        if size <= 0:
            return
        yield data[at + length_size]
        at += length_size + size


def _annex_b_headers(data: bytes) -> Iterable[int]:
    at = data.find(b"\x00\x00\x01")
    while at != -1 and at + 3 < len(data):
        yield data[at + 3]
        at = data.find(b"\x00\x00\x01", at + 3)


__all__ = [
    "NONREF_CODECS",
    "DecodePlan",
    "PacketInfo",
    "is_reset_packet",
    "nal_length_size",
    "plan_decode",
    "plannable",
]
