"""vPDQ's match rule and hash-list format, on synthetic frame hashes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.domain.signals import pdq_distance
from reclaim.hashing import (
    InvalidVpdqListError,
    VpdqFeature,
    format_vpdq_line,
    match_vpdq,
    parse_vpdq_lines,
)
from reclaim.hashing.vpdq import _frames_with_a_match
from tests.support.testdata import VIDEOS

ZERO = "0" * 64


def flipped(bits: int) -> str:
    """A hash at Hamming distance ``bits`` from ZERO."""
    return f"{(1 << bits) - 1:064x}"


def frames(*values: str, quality: int = 100) -> list[VpdqFeature]:
    return [VpdqFeature(i, i / 30, value, quality) for i, value in enumerate(values)]


def test_a_frame_matches_at_distance_31_not_32() -> None:
    assert pdq_distance(ZERO, flipped(31)) == 31
    assert match_vpdq(frames(ZERO), frames(flipped(31))).is_match
    assert not match_vpdq(frames(ZERO), frames(flipped(32))).is_match
    assert match_vpdq(frames(ZERO), frames(flipped(32)), distance_threshold=32).is_match


def test_eighty_percent_of_each_video_must_match() -> None:
    far = f"{(1 << 256) - 1:064x}"  # distance 256 from ZERO
    four_of_five = frames(ZERO, ZERO, ZERO, ZERO, far)

    result = match_vpdq(four_of_five, frames(ZERO))
    assert (result.query_percent, result.target_percent, result.is_match) == (80.0, 100.0, True)
    three_of_five = frames(ZERO, ZERO, ZERO, far, far)
    assert not match_vpdq(three_of_five, frames(ZERO)).is_match
    assert match_vpdq(three_of_five, frames(ZERO), match_percent=60).is_match


def test_both_directions_must_match() -> None:
    # A one-frame clip is entirely inside a long video, but most of the long video is
    # not in the clip: vPDQ's rule says no match, and the percentages say why.
    clip = frames(ZERO)
    long_video = frames(ZERO, *["f" * 64] * 9)

    result = match_vpdq(clip, long_video)
    assert result.query_percent == 100.0
    assert result.target_percent == 10.0
    assert not result.is_match


def test_low_quality_frames_are_set_aside() -> None:
    noise = frames("f" * 64, quality=49)
    good = frames(ZERO)

    assert match_vpdq(good + noise, good).is_match
    assert not match_vpdq(good + noise, good, quality_threshold=0).is_match
    assert match_vpdq(noise, noise) == match_vpdq([], good)
    assert not match_vpdq(noise, noise).is_match  # nothing left to compare: no match


def brute_force(a: list[str], b: list[str], threshold: int) -> tuple[list[bool], list[bool]]:
    """The obvious definition the blocked numpy version must agree with."""
    return (
        [any(pdq_distance(x, y) <= threshold for y in b) for x in a],
        [any(pdq_distance(y, x) <= threshold for x in a) for y in b],
    )


hashes = st.integers(0, (1 << 256) - 1).map(lambda n: f"{n:064x}")
# Near-duplicates of a few seeds, so that matches are common, not astronomically rare.
near = st.tuples(st.sampled_from([0, (1 << 256) - 1, 0xF0F0 << 100]), st.integers(0, 255)).map(
    lambda pair: f"{pair[0] ^ ((1 << (pair[1] % 40)) - 1):064x}"
)


@settings(max_examples=200, deadline=None)
@given(
    a=st.lists(hashes | near, min_size=1, max_size=12),
    b=st.lists(hashes | near, min_size=1, max_size=12),
    threshold=st.integers(0, 256),
    block_bytes=st.sampled_from([1, 64, 1 << 24]),
)
def test_blocked_matching_agrees_with_brute_force(
    a: list[str], b: list[str], threshold: int, block_bytes: int
) -> None:
    packed_a = np.frombuffer(bytes.fromhex("".join(a)), dtype=np.uint8).reshape(-1, 32)
    packed_b = np.frombuffer(bytes.fromhex("".join(b)), dtype=np.uint8).reshape(-1, 32)

    a_hits, b_hits = _frames_with_a_match(packed_a, packed_b, threshold, block_bytes)

    assert (a_hits.tolist(), b_hits.tolist()) == brute_force(a, b, threshold)


def test_hash_lists_round_trip() -> None:
    text = (VIDEOS / "pattern-sd-grey-bar.vpdq.txt").read_text(encoding="utf-8")

    features = parse_vpdq_lines(text.splitlines())
    assert len(features) == 206
    assert features[1] == VpdqFeature(
        1, 0.033, "b6da98dae76e894705be12815edcdaa1d20995562fb69ff8668ba1050f449b86", 100
    )
    assert [format_vpdq_line(f) for f in features] == text.splitlines()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("0,100,abc", "expected frame_number,quality,pdq_hex,timestamp"),
        (f"0,100,{'g' * 64},0.000", "64 hexadecimal characters"),
        (f"x,100,{ZERO},0.000", "invalid literal"),
        (f"0,101,{ZERO},0.000", "out of range"),
        (f"-1,100,{ZERO},0.000", "out of range"),
    ],
)
def test_bad_hash_list_lines_are_named(line: str, says: str) -> None:
    with pytest.raises(InvalidVpdqListError, match=f"line 2: .*{says}"):
        parse_vpdq_lines([f"0,100,{ZERO},0.000", line])
