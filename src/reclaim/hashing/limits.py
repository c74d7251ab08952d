"""Hard limits on what the hashers will decode (settings feed these in)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HashingLimits:
    """Bounds that keep hostile files from exhausting memory or time.

    ``max_image_pixels`` guards against decompression bombs (a small file that claims a
    huge canvas); byte limits are checked before anything is decoded.  The video limits
    bound decoding work (``max_video_frames`` counts the frames that are hashed), and
    ``timeout_seconds`` is the last line of defence for a video whose metadata lies
    about its length: hashing stops with an error once it has run that long.
    """

    max_file_bytes: int = 64 * 1024 * 1024
    max_video_bytes: int = 2 * 1024 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_video_seconds: float = 3 * 60 * 60
    max_video_frames: int = 20_000
    timeout_seconds: float = 120.0
