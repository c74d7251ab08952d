"""What hashing a file produces: frozen values, and their one JSON shape.

The JSON shape is the contract of ``reclaim hash --json`` (one object per file) and
of anything else that prints hashes, so it lives here, next to the values, rather
than in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from reclaim.domain.signals import Signal, SignalType
from reclaim.hashing.formats import MediaKind

JsonObject = dict[str, object]

#: vPDQ writes timestamps with millisecond precision; so does Reclaim's JSON.
TIMESTAMP_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash as 64 lower-case hex characters, and PDQ's quality score (0-100).

    Quality below 50 means the picture is too flat or too small for the hash to be
    trusted; matchers discard such hashes rather than the hashers.
    """

    value: str
    quality: int

    @property
    def signal(self) -> Signal:
        return Signal(SignalType.PDQ, self.value)

    def to_json(self) -> JsonObject:
        return {"hash": self.value, "quality": self.quality}


@dataclass(frozen=True, slots=True)
class PdqDihedral:
    """The PDQ hashes of a picture's eight rotations and flips, from one pass.

    Each field is the hash the transformed picture would have (``rotate_90`` is the
    hash of the picture turned 90 degrees), in the order and with the names PDQ uses.
    A matcher looks all eight up to catch rotated or mirrored re-uploads.
    """

    original: PdqHash
    rotate_90: PdqHash
    rotate_180: PdqHash
    rotate_270: PdqHash
    flip_x: PdqHash
    flip_y: PdqHash
    flip_plus_1: PdqHash
    flip_minus_1: PdqHash

    def hashes(self) -> tuple[PdqHash, ...]:
        return (
            self.original,
            self.rotate_90,
            self.rotate_180,
            self.rotate_270,
            self.flip_x,
            self.flip_y,
            self.flip_plus_1,
            self.flip_minus_1,
        )


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """Everything Reclaim computes for one image file.

    ``pdq`` hashes the picture (converted to RGB, EXIF orientation not applied).
    ``pdq_threatexchange`` is set only when python-threatexchange, which feeds
    Pillow's raw channel values to PDQ, gets a different hash or quality for the same
    file (palette, CMYK and bilevel images); banks keep it so that hashes platforms
    computed that way still match.  ``dihedral`` is always set by the reference path;
    the fast path (:mod:`reclaim.hashing.fast`) sets it, and ``pdq_threatexchange``,
    only when asked.
    """

    kind: ClassVar[MediaKind] = MediaKind.IMAGE

    format: str
    width: int
    height: int
    md5: str
    sha256: str
    pdq: PdqHash
    pdq_threatexchange: PdqHash | None
    dihedral: PdqDihedral | None

    def signals(self) -> tuple[Signal, ...]:
        """The hashes to bank or look up, as signals (each value once)."""
        found = [
            Signal(SignalType.MD5, self.md5),
            Signal(SignalType.SHA256, self.sha256),
            self.pdq.signal,
        ]
        if self.pdq_threatexchange is not None:
            found.append(self.pdq_threatexchange.signal)
        return tuple(dict.fromkeys(found))

    def to_json(self, path: str) -> JsonObject:
        shape: JsonObject = {
            "path": path,
            "kind": self.kind.value,
            "md5": self.md5,
            "sha256": self.sha256,
            "pdq": self.pdq.to_json(),
        }
        if self.pdq_threatexchange is not None:
            shape["pdq_threatexchange"] = self.pdq_threatexchange.to_json()
        return shape


@dataclass(frozen=True, slots=True)
class VpdqFeature:
    """One hashed video frame, as vPDQ lists it."""

    frame_number: int
    timestamp: float
    value: str
    quality: int

    def to_json(self) -> JsonObject:
        return {
            "frame": self.frame_number,
            "timestamp": round(self.timestamp, TIMESTAMP_DECIMALS),
            "hash": self.value,
            "quality": self.quality,
        }


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """Everything Reclaim computes for one video file.

    ``frames`` are vPDQ-compatible: the PDQ hash of every decoded frame whose number
    is a multiple of ``seconds_per_hash`` x frame rate (every frame when 0), with
    vPDQ's frame numbers and timestamps.
    """

    kind: ClassVar[MediaKind] = MediaKind.VIDEO

    format: str
    width: int
    height: int
    frame_rate: float
    seconds_per_hash: float
    md5: str
    sha256: str
    frames: tuple[VpdqFeature, ...]

    def signals(self) -> tuple[Signal, ...]:
        """The exact-match hashes; frame hashes are matched with vPDQ's rule instead."""
        return (Signal(SignalType.MD5, self.md5), Signal(SignalType.SHA256, self.sha256))

    def to_json(self, path: str) -> JsonObject:
        return {
            "path": path,
            "kind": self.kind.value,
            "md5": self.md5,
            "sha256": self.sha256,
            "vpdq": [frame.to_json() for frame in self.frames],
        }


HashResult = ImageHashes | VideoHashes

__all__ = [
    "HashResult",
    "ImageHashes",
    "JsonObject",
    "PdqDihedral",
    "PdqHash",
    "VideoHashes",
    "VpdqFeature",
]
