"""Video frames -> vPDQ-compatible frame hashes, decoded with PyAV (FFmpeg).

This follows Meta's vPDQ (``vpdq/cpp/hashing/filehasher.cpp``) rather than using its
package: decode every frame of the first video stream, number frames in decoding
output order from 0, keep the frames whose number is a multiple of
``int(seconds_per_hash * frame_rate)`` (every frame when that is 0), convert each to
RGB at full size, and hash it with PDQ; a frame's timestamp is its number divided by
the stream's average frame rate.  Reclaim gets the same frames without decoding the
ones nobody needs (:mod:`reclaim.hashing.video_plan`), and hashes them with the numba
PDQ of :mod:`reclaim.hashing.pdq_luma` (``pdqhash``'s result on PDQ's own luminance).
vPDQ's default is one frame per second, which is
also what python-threatexchange (and so Hasher-Matcher-Actioner) uses; Meta's
published reference lists hash every frame (``seconds_per_hash=0``).

Decoding is bounded: the claimed frame size is checked against the pixel limit, the
claimed duration and the number of frames to hash against the video limits before
decoding starts, and again while decoding (metadata can lie), with a wall-clock
deadline as the last resort.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import av.container
import av.video.stream

from reclaim.hashing.errors import (
    CorruptFileError,
    HashingTimeoutError,
    ImageTooLargeError,
    UnsupportedFormatError,
    VideoTooLongError,
)
from reclaim.hashing.formats import MediaFormat
from reclaim.hashing.limits import HashingLimits
from reclaim.hashing.pdq_luma import pdq_of_rgb
from reclaim.hashing.results import VpdqFeature
from reclaim.hashing.video_plan import (
    NONREF_CODECS,
    DecodePlan,
    PacketInfo,
    is_reset_packet,
    nal_length_size,
    plan_decode,
    plannable,
)

#: vPDQ's default sampling: one hashed frame per second of video.
DEFAULT_SECONDS_PER_HASH = 1.0


@dataclass(frozen=True, slots=True)
class VideoFrames:
    """The frame hashes of one video, with what vPDQ needs to know about the stream."""

    width: int
    height: int
    frame_rate: float
    frames: tuple[VpdqFeature, ...]


def hash_video_frames(
    source: Path | BinaryIO,
    media: MediaFormat,
    limits: HashingLimits,
    *,
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH,
    selective: bool = True,
) -> VideoFrames:
    """vPDQ frame hashes of the video in ``source`` (a path or a seekable binary file).

    ``media`` is the sniffed format; its demuxer is the only one FFmpeg may use.
    ``selective`` decodes only the frames the sampled ones need (``video_plan``: the
    same hashes, bit for bit); False decodes every frame as vPDQ's reference does.
    """
    if not (seconds_per_hash >= 0 and math.isfinite(seconds_per_hash)):
        raise ValueError(f"seconds_per_hash must be a number >= 0, got {seconds_per_hash!r}")
    deadline = time.monotonic() + limits.timeout_seconds
    with _open(source, media) as container:
        decoding = _Decoding(container, media, limits, seconds_per_hash, deadline)
        decoding.check_metadata()
        plan = decoding.plan() if selective else None
    if plan is not None:
        with _open(source, media) as container:
            decoding = _Decoding(container, media, limits, seconds_per_hash, deadline)
            frames = decoding.decode_planned(plan)
            if frames is not None:
                return decoding.result(frames)
    with _open(source, media) as container:
        decoding = _Decoding(container, media, limits, seconds_per_hash, deadline)
        return decoding.result(decoding.decode_all())


def _open(source: Path | BinaryIO, media: MediaFormat) -> av.container.InputContainer:
    if not isinstance(source, Path):
        source.seek(0)
    target = str(source) if isinstance(source, Path) else source
    try:
        return av.open(target, mode="r", format=media.decoder)
    except av.FFmpegError as exc:
        raise CorruptFileError(
            f"the {media.name} video could not be opened; it is damaged or truncated "
            f"({_reason(exc)})"
        ) from exc


def frame_step(seconds_per_hash: float, frame_rate: float) -> int:
    """Hash every n-th frame: vPDQ truncates ``seconds_per_hash * frame_rate``, min 1."""
    return max(1, int(seconds_per_hash * frame_rate))


class _Decoding:
    """One pass over one video stream, refusing as early as the limits allow."""

    def __init__(
        self,
        container: av.container.InputContainer,
        media: MediaFormat,
        limits: HashingLimits,
        seconds_per_hash: float,
        deadline: float,
    ) -> None:
        if not container.streams.video:
            raise UnsupportedFormatError(
                f"the {media.name} file has no video stream (is it audio only?)"
            )
        self.container = container
        self.stream: av.video.stream.VideoStream = container.streams.video[0]
        # PyAV leaves the codec context unset when FFmpeg has no decoder for the
        # stream's codec (its type stubs do not say so).
        if self.stream.codec_context is None:
            raise UnsupportedFormatError(
                f"the {media.name} video uses a codec Reclaim cannot decode"
            )
        self.media = media
        self.limits = limits
        self.deadline = deadline
        self.frame_rate = self._frame_rate()
        self.step = frame_step(seconds_per_hash, self.frame_rate)

    def result(self, frames: tuple[VpdqFeature, ...]) -> VideoFrames:
        return VideoFrames(
            width=self.stream.codec_context.width,
            height=self.stream.codec_context.height,
            frame_rate=self.frame_rate,
            frames=frames,
        )

    def _frame_rate(self) -> float:
        # vPDQ uses the average frame rate and falls back to the base (r_frame) rate.
        for rate in (self.stream.average_rate, self.stream.base_rate):
            if isinstance(rate, Fraction) and rate > 0:
                return float(rate)
        raise CorruptFileError(f"the {self.media.name} video does not say its frame rate")

    def check_metadata(self) -> None:
        """Refuse from what the container claims, before decoding anything."""
        width, height = self.stream.codec_context.width, self.stream.codec_context.height
        if width <= 0 or height <= 0:
            raise CorruptFileError(
                f"the {self.media.name} video claims frames of {width} x {height}"
            )
        _check_frame_size(width, height, self.limits)
        duration = _claimed_duration(self.container, self.stream)
        if duration is None:
            return
        if duration > self.limits.max_video_seconds:
            raise VideoTooLongError(
                f"the video lasts {_describe_seconds(duration)}; the limit is "
                f"{_describe_seconds(self.limits.max_video_seconds)}"
            )
        to_hash = math.ceil(duration * self.frame_rate / self.step)
        if to_hash > self.limits.max_video_frames:
            raise VideoTooLongError(
                f"the video would need about {to_hash:,} frames hashed; the limit is "
                f"{self.limits.max_video_frames:,} (hash fewer frames per second?)"
            )

    def decode_all(self) -> tuple[VpdqFeature, ...]:
        features: list[VpdqFeature] = []
        frame_number = -1
        try:
            for frame in self.container.decode(self.stream):
                frame_number += 1
                timestamp = frame_number / self.frame_rate
                self._check_progress(timestamp)
                if frame_number % self.step:
                    continue
                if len(features) >= self.limits.max_video_frames:
                    raise VideoTooLongError(
                        f"the video has more than {self.limits.max_video_frames:,} frames to hash"
                    )
                features.append(self._hash(frame, frame_number))
        except av.FFmpegError as exc:
            raise CorruptFileError(
                f"the {self.media.name} video is damaged or truncated: decoding failed "
                f"after {frame_number + 1:,} frames ({_reason(exc)})"
            ) from exc
        if not features:
            raise CorruptFileError(f"no frame of the {self.media.name} video could be decoded")
        return tuple(features)

    def _hash(self, frame: av.VideoFrame, frame_number: int) -> VpdqFeature:
        _check_frame_size(frame.width, frame.height, self.limits)
        value, quality = pdq_of_rgb(frame.to_ndarray(format="rgb24"))
        return VpdqFeature(frame_number, frame_number / self.frame_rate, value, quality)

    def plan(self) -> DecodePlan | None:
        """Read the packets' metadata (no decoding) and plan a selective decode, or None."""
        codec = self.stream.codec_context.name
        if self.step == 1 or not plannable(codec):
            return None
        length_size = nal_length_size(codec, self.stream.codec_context.extradata)
        packets: list[PacketInfo] = []
        for packet in self.container.demux(self.stream):
            if not packet.size:
                continue
            if packet.pts is None:
                return None
            keyframe = packet.is_keyframe
            reset = keyframe and is_reset_packet(codec, bytes(packet), length_size)
            packets.append(PacketInfo(packet.pts, reset, packet.is_discard))
            if len(packets) % 256 == 0:
                self._check_progress(len(packets) / self.frame_rate)
        plan = plan_decode(packets, self.step)
        if plan is not None:
            self._check_progress((plan.frame_count - 1) / self.frame_rate)
            if len(plan.sampled) > self.limits.max_video_frames:
                raise VideoTooLongError(
                    f"the video has more than {self.limits.max_video_frames:,} frames to hash"
                )
        return plan

    def decode_planned(self, plan: DecodePlan) -> tuple[VpdqFeature, ...] | None:
        """Decode what ``plan`` says; None if the video does not behave as planned."""
        context = self.stream.codec_context
        skip_nonref = context.name in NONREF_CODECS
        found: dict[int, VpdqFeature] = {}
        try:
            for packet, restart in self._planned_packets(plan):
                decoded = []
                if restart:
                    decoded.extend(context.decode(None))
                    context.flush_buffers()
                if skip_nonref:
                    context.skip_frame = "DEFAULT" if packet.pts in plan.sampled else "NONREF"
                decoded.extend(context.decode(packet))
                if not self._take(decoded, plan, found):
                    return None
            context.skip_frame = "DEFAULT"
            if not self._take(context.decode(None), plan, found):
                return None
        except av.FFmpegError:
            return None  # the full decode says where it breaks, in its own words
        if found.keys() != plan.sampled.keys():
            return None
        return tuple(found[pts] for pts in sorted(found))

    def _planned_packets(self, plan: DecodePlan) -> Iterator[tuple[av.Packet[Any], bool]]:
        """The packets to feed, each with whether the decoder restarts before it."""
        last = max(plan.feed, default=-1)
        position = -1
        for packet in self.container.demux(self.stream):
            if not packet.size:
                continue
            position += 1
            if position > last:
                return
            if position in plan.feed:
                yield packet, position in plan.restarts

    def _take(
        self,
        frames: Iterable[av.VideoFrame],
        plan: DecodePlan,
        found: dict[int, VpdqFeature],
    ) -> bool:
        for frame in frames:
            if time.monotonic() > self.deadline:
                self._check_progress(0.0)
            if frame.pts is None or frame.pts in found:
                return False
            number = plan.sampled.get(frame.pts)
            if number is not None:
                found[frame.pts] = self._hash(frame, number)
        return True

    def _check_progress(self, timestamp: float) -> None:
        if timestamp > self.limits.max_video_seconds:
            raise VideoTooLongError(
                "the video runs past the limit of "
                f"{_describe_seconds(self.limits.max_video_seconds)}"
            )
        if time.monotonic() > self.deadline:
            raise HashingTimeoutError(
                f"hashing the video took longer than {self.limits.timeout_seconds:g} "
                "seconds and was abandoned"
            )


def _check_frame_size(width: int, height: int, limits: HashingLimits) -> None:
    if width * height > limits.max_image_pixels:
        raise ImageTooLargeError(
            f"the video's frames are {width:,} x {height:,} pixels ({width * height:,}); "
            f"the limit is {limits.max_image_pixels:,} pixels"
        )


def _claimed_duration(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _describe_seconds(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{seconds:.1f} s"


def _reason(exc: av.FFmpegError) -> str:
    return exc.strerror or str(exc)


__all__ = ["DEFAULT_SECONDS_PER_HASH", "VideoFrames", "frame_step", "hash_video_frames"]
