"""The video index agrees with its brute-force twin, and with hashing's vPDQ rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.hashing import VpdqFeature, match_vpdq
from reclaim.matching.video import (
    FrameList,
    InvalidFrameListError,
    VideoIndex,
    VideoRule,
    brute_force_video_matches,
)
from tests.support.hash_banks import flip_bits

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame_list(hashes: np.ndarray, qualities: np.ndarray) -> FrameList:
    return FrameList.from_frames(
        (i, i * 1.0, row.tobytes().hex(), int(q))
        for i, (row, q) in enumerate(zip(hashes, qualities, strict=True))
    )


def video_bank(
    seed: int, videos: int, clustered: bool
) -> tuple[dict[int, FrameList], list[FrameList]]:
    """Banked videos (sparse ids) and queries: edited copies of some, and unrelated ones.

    Clustered banks share a few base frames across many videos (series, intros,
    re-uploads), so one query frame hits many videos and percentages vary.
    """
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 256, size=(6, 32), dtype=np.uint8)
    banked: dict[int, FrameList] = {}
    for _ in range(videos):
        length = int(rng.integers(1, 30))
        if clustered:
            picks = bases[rng.integers(0, len(bases), length)]
            hashes = flip_bits(picks, rng.integers(0, 24, length), rng)
        else:
            hashes = rng.integers(0, 256, size=(length, 32), dtype=np.uint8)
        # Repeated frames (a still scene) and some frames too weak to count.
        hashes = np.repeat(hashes, rng.integers(1, 4, length), axis=0)
        qualities = rng.choice([10, 49, 50, 80, 100], size=len(hashes), p=[0.1, 0.1, 0.1, 0.3, 0.4])
        banked[int(rng.integers(-(2**40), 2**40))] = frame_list(hashes, qualities)
    queries = []
    for video in list(banked.values())[:6]:
        keep = rng.random(len(video.frame_hash)) < 0.8
        chosen = video.hashes[video.frame_hash[keep]]
        if not len(chosen):
            continue
        edited = flip_bits(chosen, rng.integers(0, 40, len(chosen)), rng)
        queries.append(frame_list(edited, rng.choice([40, 60, 100], size=len(edited))))
    queries.append(frame_list(rng.integers(0, 256, size=(5, 32), dtype=np.uint8), np.full(5, 90)))
    return banked, queries


def as_features(video: FrameList) -> list[VpdqFeature]:
    return [VpdqFeature(n, t, value, q) for n, t, value, q in video.frames()]


rules = st.builds(
    VideoRule,
    distance=st.sampled_from([0, 16, 31, 32, 40]),
    query_match_percent=st.sampled_from([0.0, 50.0, 80.0, 100.0]),
    target_match_percent=st.sampled_from([0.0, 50.0, 80.0, 100.0]),
)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1), videos=st.integers(0, 40), clustered=st.booleans(), rule=rules
)
def test_index_agrees_with_brute_force(
    seed: int, videos: int, clustered: bool, rule: VideoRule
) -> None:
    banked, queries = video_bank(seed, videos, clustered)
    index = VideoIndex()
    index.add_many(banked.items())
    for query in queries:
        assert index.search(query, rule) == brute_force_video_matches(query, banked, rule)


@FAST
@given(seed=st.integers(0, 2**32 - 1), clustered=st.booleans())
def test_percentages_are_hashings_vpdq_rule(seed: int, clustered: bool) -> None:
    banked, queries = video_bank(seed, 12, clustered)
    index = VideoIndex()
    index.add_many(banked.items())
    for query in queries:
        for hit in index.search(query):
            reference = match_vpdq(as_features(query), as_features(banked[hit.entry_id]))
            assert hit.query_percent == pytest.approx(reference.query_percent)
            assert hit.target_percent == pytest.approx(reference.target_percent)
            assert hit.is_match == reference.is_match


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_removing_and_replacing_videos(seed: int) -> None:
    banked, queries = video_bank(seed, 20, clustered=True)
    index = VideoIndex()
    index.add_many(banked.items())
    ids = list(banked)
    gone = ids[::3]
    assert index.remove([*gone, 12345678]) == len(gone)
    for entry_id in gone:
        del banked[entry_id]
    if ids[1:2] and ids[1] in banked:  # replace one video's frames with another's
        banked[ids[1]] = queries[0]
        index.add(ids[1], queries[0])
    for query in queries:
        assert index.search(query) == brute_force_video_matches(query, banked)


def test_save_and_load_keep_results(tmp_path: Path) -> None:
    banked, queries = video_bank(7, 30, clustered=True)
    index = VideoIndex()
    index.add_many(banked.items())
    index.save(tmp_path / "video")
    loaded = VideoIndex.load(tmp_path / "video")
    assert len(loaded) == len(index)
    for query in queries:
        assert loaded.search(query) == index.search(query)


def test_frame_list_is_compact_and_round_trips() -> None:
    still = "ab" * 32
    frames = [(i * 30, float(i), still, 90) for i in range(60)] + [(1800, 60.0, "cd" * 32, 70)]
    video = FrameList.from_frames(frames)
    assert video.distinct == 2 and len(video) == 61
    blob = video.to_bytes()
    assert len(blob) == 12 + 2 * 33 + 61 * 12
    again = FrameList.from_bytes(blob)
    assert again.frames() == video.frames() == [(n, t, h, q) for n, t, h, q in frames]
    assert again.fingerprint() == video.fingerprint()
    assert FrameList.from_frames(frames[:-1]).fingerprint() != video.fingerprint()


def test_bad_frames_are_refused() -> None:
    with pytest.raises(InvalidFrameListError):
        FrameList.from_frames([(0, 0.0, "ab" * 31, 50)])
    with pytest.raises(InvalidFrameListError):
        FrameList.from_frames([(0, 0.0, "ab" * 32, 101)])
    with pytest.raises(InvalidFrameListError):
        FrameList.from_bytes(FrameList.from_frames([(0, 0.0, "ab" * 32, 50)]).to_bytes()[:-1])


def test_a_video_without_usable_frames_matches_nothing() -> None:
    weak = FrameList.from_frames([(0, 0.0, "ab" * 32, 10)])
    index = VideoIndex()
    index.add(1, weak)
    index.add(2, FrameList.from_frames([(0, 0.0, "ab" * 32, 90)]))
    assert index.search(weak) == []
    strong = FrameList.from_frames([(0, 0.0, "ab" * 32, 60)])
    assert [h.entry_id for h in index.search(strong)] == [2]
    assert {h.entry_id for h in index.search(strong, VideoRule(quality_threshold=0))} == {1, 2}


def test_fingerprint_ignores_frame_numbers_only() -> None:
    frames = [(i * 30, float(i), f"{i:064x}", 90) for i in range(5)]
    video = FrameList.from_frames(frames)
    renumbered = FrameList.from_frames((i, t, h, q) for i, (_n, t, h, q) in enumerate(frames))
    retimed = FrameList.from_frames((n, t + 0.5, h, q) for n, t, h, q in frames)
    assert renumbered.fingerprint() == video.fingerprint() != retimed.fingerprint()
