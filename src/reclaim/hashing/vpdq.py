"""vPDQ's video match rule, and its text format for frame hash lists.

Two videos match when enough of each one's good frames have a near-identical frame
in the other: frames of quality below ``quality_threshold`` are set aside; a frame
matches when some frame of the other video is within ``distance_threshold`` bits;
the videos match when at least ``match_percent`` % of the query's frames match the
target *and* at least that share of the target's frames match the query.  Checking
both directions keeps a short clip from "matching" a long video it is merely part of
(and vice versa); a caller that wants containment looks at one percentage.

Meta's C++ ``matchTwoHashBrute`` compares with ``distance < tolerance``; Reclaim, like
python-threatexchange's PDQ matching, counts ``distance <= threshold`` as a match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reclaim.domain.signals import Signal, SignalType
from reclaim.hashing.results import TIMESTAMP_DECIMALS, VpdqFeature

DEFAULT_DISTANCE_THRESHOLD = 31
DEFAULT_QUALITY_THRESHOLD = 50
DEFAULT_MATCH_PERCENT = 80.0

_HASH_BYTES = 32
# Bits set in each byte value: Hamming distance is the popcount of the XOR.
_POPCOUNT = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)
# Work in row blocks so that comparing two long videos stays within a few tens of MB.
_BLOCK_BYTES = 16 * 1024 * 1024


class InvalidVpdqListError(ValueError):
    """A vPDQ hash list line that is not ``frame_number,quality,pdq_hex,timestamp``."""


@dataclass(frozen=True, slots=True)
class VpdqMatch:
    """How two videos compare under vPDQ's rule.

    ``query_percent`` is the share (0-100) of the query's frames of sufficient quality
    that have a match in the target; ``target_percent`` the same the other way round.
    """

    query_percent: float
    target_percent: float
    is_match: bool


def match_vpdq(
    query: Sequence[VpdqFeature],
    target: Sequence[VpdqFeature],
    *,
    distance_threshold: int = DEFAULT_DISTANCE_THRESHOLD,
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD,
    match_percent: float = DEFAULT_MATCH_PERCENT,
) -> VpdqMatch:
    """Compare two videos' frame hashes with vPDQ's rule (see the module docstring)."""
    query_bits = _packed(query, quality_threshold)
    target_bits = _packed(target, quality_threshold)
    if len(query_bits) == 0 or len(target_bits) == 0:
        # vPDQ's rule: a video with no usable frame matches nothing.
        return VpdqMatch(0.0, 0.0, is_match=False)
    query_hits, target_hits = _frames_with_a_match(query_bits, target_bits, distance_threshold)
    query_percent = 100.0 * int(query_hits.sum()) / len(query_bits)
    target_percent = 100.0 * int(target_hits.sum()) / len(target_bits)
    return VpdqMatch(
        query_percent,
        target_percent,
        is_match=query_percent >= match_percent and target_percent >= match_percent,
    )


def _packed(features: Sequence[VpdqFeature], quality_threshold: int) -> npt.NDArray[np.uint8]:
    """The hashes of frames of sufficient quality, one row of 32 bytes each."""
    raw = b"".join(bytes.fromhex(f.value) for f in features if f.quality >= quality_threshold)
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, _HASH_BYTES)


def _frames_with_a_match(
    a: npt.NDArray[np.uint8],
    b: npt.NDArray[np.uint8],
    distance_threshold: int,
    block_bytes: int = _BLOCK_BYTES,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For each row of ``a`` and of ``b``: is some row of the other within the threshold?"""
    a_hits = np.zeros(len(a), dtype=np.bool_)
    b_hits = np.zeros(len(b), dtype=np.bool_)
    rows = max(1, block_bytes // (len(b) * _HASH_BYTES))
    for start in range(0, len(a), rows):
        block = a[start : start + rows]
        distances = _POPCOUNT[block[:, None, :] ^ b[None, :, :]].sum(axis=2, dtype=np.uint16)
        close = distances <= distance_threshold
        a_hits[start : start + rows] = close.any(axis=1)
        b_hits |= close.any(axis=0)
    return a_hits, b_hits


def parse_vpdq_lines(lines: Iterable[str]) -> list[VpdqFeature]:
    """Read vPDQ's hash list text: ``frame_number,quality,pdq_hex,timestamp`` per line.

    Blank lines are ignored.  Raises :class:`InvalidVpdqListError` naming the first
    bad line.
    """
    features = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text:
            features.append(_parse_line(text, number))
    return features


def _parse_line(text: str, number: int) -> VpdqFeature:
    fields = text.split(",")
    if len(fields) != 4:
        raise InvalidVpdqListError(
            f"line {number}: expected frame_number,quality,pdq_hex,timestamp; got {text[:120]!r}"
        )
    frame, quality, value, timestamp = fields
    try:
        feature = VpdqFeature(
            frame_number=int(frame),
            timestamp=float(timestamp),
            value=Signal.parse(SignalType.PDQ, value).value,
            quality=int(quality),
        )
    except ValueError as exc:  # InvalidSignalError is a ValueError too
        raise InvalidVpdqListError(f"line {number}: {exc}") from exc
    if feature.frame_number < 0 or not 0 <= feature.quality <= 100 or feature.timestamp < 0:
        raise InvalidVpdqListError(f"line {number}: values out of range in {text[:120]!r}")
    return feature


def format_vpdq_line(feature: VpdqFeature) -> str:
    """One line of vPDQ's hash list text for ``feature``."""
    return (
        f"{feature.frame_number},{feature.quality},{feature.value},"
        f"{feature.timestamp:.{TIMESTAMP_DECIMALS}f}"
    )


__all__ = [
    "DEFAULT_DISTANCE_THRESHOLD",
    "DEFAULT_MATCH_PERCENT",
    "DEFAULT_QUALITY_THRESHOLD",
    "InvalidVpdqListError",
    "VpdqMatch",
    "format_vpdq_line",
    "match_vpdq",
    "parse_vpdq_lines",
]
