"""Videos against Meta's vPDQ reference lists, and against each other.

Hashes made today differ from the published lists by a few bits (decoders change),
so the lists are compared with vPDQ's match rule, plus a per-frame check that frame
numbering, timestamps and quality line up exactly and hashes nearly so.
"""

from __future__ import annotations

import statistics
from itertools import combinations

import pytest

from reclaim.domain.signals import pdq_distance
from reclaim.hashing import (
    HashingLimits,
    VideoHashes,
    hash_bytes,
    hash_file,
    match_vpdq,
)
from tests.support.testdata import VIDEO_STEMS, VIDEOS, vpdq_reference

CHAIR = "chair-orig-22-sd-bar"
CHAIR_EDITS = ("chair-22-sd-grey-bar", "chair-22-with-small-logo-bar")
DIFFERENT_VIDEOS = (CHAIR, "pattern-sd-grey-bar", "doorknob-hd-no-bar")


def test_the_sample_videos_are_all_there() -> None:
    assert set(VIDEO_STEMS) >= {CHAIR, *CHAIR_EDITS, *DIFFERENT_VIDEOS, "test-padded-dimensions"}


@pytest.mark.parametrize("stem", VIDEO_STEMS)
def test_frame_hashes_match_the_reference_list(
    stem: str, every_frame: dict[str, VideoHashes]
) -> None:
    ours = every_frame[stem]
    reference = vpdq_reference(stem)

    comparison = match_vpdq(ours.frames, reference)
    assert comparison.is_match
    assert comparison.query_percent == comparison.target_percent == 100.0
    assert [f.frame_number for f in ours.frames] == [f.frame_number for f in reference]
    for mine, theirs in zip(ours.frames, reference, strict=True):
        assert mine.timestamp == pytest.approx(theirs.timestamp, abs=0.0005)
        assert abs(mine.quality - theirs.quality) <= 1
    distances = [
        pdq_distance(mine.value, theirs.value)
        for mine, theirs in zip(ours.frames, reference, strict=True)
        if theirs.quality >= 80
    ]
    assert statistics.median(distances) <= 10  # PDQ's tolerance for a faithful port


@pytest.mark.parametrize("edit", CHAIR_EDITS)
def test_edits_of_a_video_match_the_original(
    edit: str, every_frame: dict[str, VideoHashes]
) -> None:
    assert match_vpdq(every_frame[edit].frames, every_frame[CHAIR].frames).is_match
    assert match_vpdq(every_frame[CHAIR].frames, every_frame[edit].frames).is_match


@pytest.mark.parametrize(("a", "b"), list(combinations(DIFFERENT_VIDEOS, 2)))
def test_different_videos_do_not_match(a: str, b: str, every_frame: dict[str, VideoHashes]) -> None:
    comparison = match_vpdq(every_frame[a].frames, every_frame[b].frames)
    assert not comparison.is_match
    assert comparison.query_percent < 5 and comparison.target_percent < 5


def test_one_frame_per_second_is_vpdq_s_default_sampling(
    every_frame: dict[str, VideoHashes], limits: HashingLimits
) -> None:
    stem = "pattern-sd-grey-bar"
    default = hash_file(VIDEOS / f"{stem}.mp4", limits)
    assert isinstance(default, VideoHashes)

    # 30 fps: frames 0, 30, 60, ... exactly as in the every-frame hash.
    assert default.seconds_per_hash == 1.0
    assert default.frames == every_frame[stem].frames[::30]
    assert [f.timestamp for f in default.frames] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_sampled_edits_still_match(every_frame: dict[str, VideoHashes]) -> None:
    for edit in CHAIR_EDITS:
        sampled = every_frame[edit].frames[::30]
        assert match_vpdq(sampled, every_frame[CHAIR].frames[::30]).is_match


def test_bytes_and_files_hash_alike(every_frame: dict[str, VideoHashes]) -> None:
    stem = "test-padded-dimensions"  # odd frame size: row padding must not leak in
    data = (VIDEOS / f"{stem}.mp4").read_bytes()

    from_bytes = hash_bytes(data, HashingLimits())
    assert isinstance(from_bytes, VideoHashes)
    assert from_bytes.frames == every_frame[stem].frames[::30]
    assert (from_bytes.md5, from_bytes.sha256) == (
        every_frame[stem].md5,
        every_frame[stem].sha256,
    )


def test_video_metadata_and_json_shape(every_frame: dict[str, VideoHashes]) -> None:
    video = every_frame["doorknob-hd-no-bar"]
    assert (video.format, video.width, video.height, video.frame_rate) == ("MP4", 1280, 720, 30.0)
    assert [s.type.value for s in video.signals()] == ["md5", "sha256"]

    shape = video.to_json("doorknob.mp4")
    assert list(shape) == ["path", "kind", "md5", "sha256", "vpdq"]
    assert shape["kind"] == "video"
    frames = shape["vpdq"]
    assert isinstance(frames, list)
    assert frames[1] == {
        "frame": 1,
        "timestamp": 0.033,
        "hash": video.frames[1].value,
        "quality": video.frames[1].quality,
    }


def test_seconds_per_hash_must_be_a_non_negative_number(limits: HashingLimits) -> None:
    with pytest.raises(ValueError, match="seconds_per_hash must be a number >= 0"):
        hash_file(VIDEOS / "pattern-sd-grey-bar.mp4", limits, seconds_per_hash=-1)
