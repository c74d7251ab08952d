"""Video frames -> vPDQ-compatible frame hashes, decoded with PyAV (FFmpeg).

This follows Meta's vPDQ (``vpdq/cpp/hashing/filehasher.cpp``) rather than using its
package: decode every frame of the first video stream, number frames in decoding
output order from 0, keep the frames whose number is a multiple of
``int(seconds_per_hash * frame_rate)`` (every frame when that is 0), convert each to
RGB at full size, and hash it with PDQ; a frame's timestamp is its number divided by
the stream's average frame rate.  vPDQ's default is one frame per second, which is
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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

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
from reclaim.hashing.pdq import pdq_of_pixels
from reclaim.hashing.results import VpdqFeature

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
) -> VideoFrames:
    """vPDQ frame hashes of the video in ``source`` (a path or a seekable binary file).

    ``media`` is the sniffed format; its demuxer is the only one FFmpeg may use.
    """
    if not (seconds_per_hash >= 0 and math.isfinite(seconds_per_hash)):
        raise ValueError(f"seconds_per_hash must be a number >= 0, got {seconds_per_hash!r}")
    deadline = time.monotonic() + limits.timeout_seconds
    target = str(source) if isinstance(source, Path) else source
    try:
        container = av.open(target, mode="r", format=media.decoder)
    except av.FFmpegError as exc:
        raise CorruptFileError(
            f"the {media.name} video could not be opened; it is damaged or truncated "
            f"({_reason(exc)})"
        ) from exc
    with container:
        return _Decoding(container, media, limits, seconds_per_hash, deadline).run()


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

    def run(self) -> VideoFrames:
        self._check_metadata()
        return VideoFrames(
            width=self.stream.codec_context.width,
            height=self.stream.codec_context.height,
            frame_rate=self.frame_rate,
            frames=self._decode(),
        )

    def _frame_rate(self) -> float:
        # vPDQ uses the average frame rate and falls back to the base (r_frame) rate.
        for rate in (self.stream.average_rate, self.stream.base_rate):
            if isinstance(rate, Fraction) and rate > 0:
                return float(rate)
        raise CorruptFileError(f"the {self.media.name} video does not say its frame rate")

    def _check_metadata(self) -> None:
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

    def _decode(self) -> tuple[VpdqFeature, ...]:
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
                _check_frame_size(frame.width, frame.height, self.limits)
                pdq = pdq_of_pixels(frame.to_ndarray(format="rgb24"))
                features.append(VpdqFeature(frame_number, timestamp, pdq.value, pdq.quality))
        except av.FFmpegError as exc:
            raise CorruptFileError(
                f"the {self.media.name} video is damaged or truncated: decoding failed "
                f"after {frame_number + 1:,} frames ({_reason(exc)})"
            ) from exc
        if not features:
            raise CorruptFileError(f"no frame of the {self.media.name} video could be decoded")
        return tuple(features)

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
