"""What review computes from a fetched video: its vPDQ frames (its ``vpdq`` signal)
and its preview, a strip of blurred greyscale keyframes (pictures get one blurred
greyscale picture).  The preview is stored and shown exactly as a picture's is: behind
a click, audited, and seeing it counts as seeing the media."""

from __future__ import annotations

import io

import av
from PIL import Image

from reclaim.banks import videos
from reclaim.domain.signals import Signal
from reclaim.fetching.quarantine import PreviewError, make_preview
from reclaim.hashing import HashingError, HashingLimits, VideoHashes, hash_bytes, sniff
from reclaim.hashing.formats import HEAD_BYTES
from reclaim.matching.video import FrameList

#: Keyframes in a video's preview strip, and keyframes decoded at most to pick them.
STRIP_FRAMES = 6
MAX_KEYFRAMES = 240


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


def preview_of(kind: str | None, data: bytes, limits: HashingLimits) -> bytes | None:
    """A JPEG preview of a fetched picture or video, or None when none can be made."""
    try:
        if kind == "image":
            return make_preview(data, max_pixels=limits.max_image_pixels)
        if kind == "video":
            return keyframe_strip(data, limits)
    except PreviewError:
        pass
    return None


def keyframe_strip(data: bytes, limits: HashingLimits) -> bytes | None:
    """Up to :data:`STRIP_FRAMES` keyframes spread over the video, each blurred and
    greyscale as a picture's preview, side by side.  Only keyframes are decoded (the
    decoder skips every other frame), within the hashing limits' pixel bound."""
    try:
        media = sniff(data[:HEAD_BYTES])
        with av.open(io.BytesIO(data), mode="r", format=media.decoder) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            keyframes: list[Image.Image] = []
            for frame in container.decode(stream):
                if frame.width * frame.height > limits.max_image_pixels:
                    return None
                keyframes.append(frame.to_image())  # type: ignore[no-untyped-call]
                if len(keyframes) >= MAX_KEYFRAMES:
                    break
    except (HashingError, av.FFmpegError, IndexError, AttributeError):
        return None
    if not keyframes:
        return None
    step = max(1, len(keyframes) // STRIP_FRAMES)
    tiles = []
    for picture in keyframes[::step][:STRIP_FRAMES]:
        png = io.BytesIO()
        picture.save(png, format="PNG")
        tiles.append(Image.open(io.BytesIO(make_preview(png.getvalue()))))
    strip = Image.new("L", (sum(t.width for t in tiles), max(t.height for t in tiles)))
    left = 0
    for tile in tiles:
        strip.paste(tile, (left, 0))
        left += tile.width
    out = io.BytesIO()
    strip.save(out, format="JPEG", quality=70)
    return out.getvalue()
