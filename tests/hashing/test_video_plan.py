"""Selective video decoding gives the same vPDQ lists as decoding every frame.

The plan (``reclaim.hashing.video_plan``) decodes from reset points and skips frames
nothing refers to; every hashed frame must be the one the full decode hashes, bit for
bit, whatever the encoder did: B-frames, open groups of pictures, H.265's CRA key
frames, VP8/VP9, codecs the plan does not know.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import av
import numpy as np
import pytest

from reclaim.domain.signals import pdq_distance
from reclaim.hashing import HashingLimits
from reclaim.hashing import video as video_module
from reclaim.hashing.formats import HEAD_BYTES, sniff
from reclaim.hashing.pdq import pdq_of_pixels
from reclaim.hashing.pdq_luma import pdq_of_rgb
from reclaim.hashing.video import VideoFrames, hash_video_frames
from reclaim.hashing.video_plan import (
    DecodePlan,
    PacketInfo,
    is_reset_packet,
    nal_length_size,
    plan_decode,
)
from tests.support.testdata import VIDEO_STEMS, VIDEOS


def encode(codec: str, container: str, options: Mapping[str, str], seconds: int = 5) -> bytes:
    """A 320 x 240, 30 frames/s video of moving random blocks, new blocks every 1.5 s."""
    rng = np.random.default_rng(17)
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = dict(options)
        base = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
        for number in range(seconds * 30):
            if number % 45 == 0:
                base = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
            shifted = np.roll(base, number % 45, axis=1)
            pixels = np.kron(shifted, np.ones((8, 8, 1), dtype=np.uint8))
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue()


ENCODINGS = {
    "h264, key frame every second, B-frames": ("libx264", "mp4", {"g": "30", "bf": "3"}),
    "h264, x264 default groups": ("libx264", "mp4", {"preset": "medium"}),
    "h264, open groups of pictures": (
        "libx264",
        "mp4",
        {"g": "45", "x264-params": "open-gop=1:bframes=3"},
    ),
    "h265, CRA key frames": ("libx265", "mp4", {"g": "30", "preset": "ultrafast"}),
    "vp9": ("libvpx-vp9", "webm", {"g": "30", "deadline": "realtime", "cpu-used": "8"}),
    "vp8": ("libvpx", "webm", {"g": "30"}),
}


def both_ways(data: bytes, seconds_per_hash: float) -> tuple[VideoFrames, VideoFrames]:
    media = sniff(data[:HEAD_BYTES])
    limits = HashingLimits()
    selective = hash_video_frames(
        io.BytesIO(data), media, limits, seconds_per_hash=seconds_per_hash
    )
    every = hash_video_frames(
        io.BytesIO(data), media, limits, seconds_per_hash=seconds_per_hash, selective=False
    )
    return selective, every


@pytest.fixture(scope="module")
def encoded() -> dict[str, bytes]:
    return {name: encode(*spec) for name, spec in ENCODINGS.items()}


@pytest.mark.parametrize("name", list(ENCODINGS))
@pytest.mark.parametrize("seconds_per_hash", [1.0, 0.5, 0.0])
def test_synthetic_encodings_hash_alike(
    name: str, seconds_per_hash: float, encoded: dict[str, bytes]
) -> None:
    selective, every = both_ways(encoded[name], seconds_per_hash)
    assert selective.frames == every.frames
    assert len(every.frames) >= 5


@pytest.mark.parametrize("stem", VIDEO_STEMS)
@pytest.mark.parametrize("seconds_per_hash", [1.0, 0.5])
def test_shared_test_videos_hash_alike(stem: str, seconds_per_hash: float) -> None:
    selective, every = both_ways((VIDEOS / f"{stem}.mp4").read_bytes(), seconds_per_hash)
    assert selective.frames == every.frames


def test_a_key_frame_every_second_decodes_one_frame_in_thirty(
    encoded: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[DecodePlan | None] = []
    original = video_module.plan_decode

    def recording(packets: list[PacketInfo], step: int) -> DecodePlan | None:
        plan = original(packets, step)
        plans.append(plan)
        return plan

    monkeypatch.setattr(video_module, "plan_decode", recording)
    both_ways(encoded["h264, key frame every second, B-frames"], 1.0)
    (plan,) = plans
    assert plan is not None
    assert plan.frame_count == 150
    assert len(plan.feed) == 5  # the five key frames, nothing else
    assert sorted(plan.sampled.values()) == [0, 30, 60, 90, 120]


def test_a_plan_the_video_does_not_follow_falls_back_to_decoding_everything(
    encoded: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = video_module.plan_decode

    def wrong(packets: list[PacketInfo], step: int) -> DecodePlan | None:
        plan = original(packets, step)
        assert plan is not None
        return DecodePlan(plan.feed, plan.restarts, {**plan.sampled, 10**9: 7}, 150)

    data = encoded["h264, key frame every second, B-frames"]
    _, every = both_ways(data, 1.0)
    monkeypatch.setattr(video_module, "plan_decode", wrong)
    selective, _ = both_ways(data, 1.0)
    assert selective.frames == every.frames


def packets(*spec: tuple[int, bool]) -> list[PacketInfo]:
    return [PacketInfo(pts, reset) for pts, reset in spec]


def test_plan_numbers_frames_by_presentation_order_and_skips_whole_groups() -> None:
    # Two closed groups of four, decoding order I P B B (presented I B B P).
    stream = packets(
        (0, True), (3, False), (1, False), (2, False), (4, True), (7, False), (5, False),
        (6, False),
    )  # fmt: skip
    plan = plan_decode(stream, 4)
    assert plan is not None
    assert plan.sampled == {0: 0, 4: 4}
    assert plan.feed == {0, 4}
    assert plan.restarts == {4}


def test_plan_decodes_up_to_the_last_sampled_frame_of_a_group() -> None:
    stream = packets((0, True), (3, False), (1, False), (2, False), (4, True), (5, False))
    plan = plan_decode(stream, 2)
    assert plan is not None
    assert sorted(plan.sampled.values()) == [0, 2, 4]
    assert plan.feed == {0, 1, 2, 3, 4}  # frame 2 is decoded after P(3) and B(1)
    assert plan.restarts == frozenset()


def test_open_groups_are_not_reset_points() -> None:
    # The key frame at pts 4 has a leading picture (pts 3) decoded after it.
    stream = packets((0, True), (1, False), (2, False), (4, True), (3, False), (5, False))
    plan = plan_decode(stream, 4)
    assert plan is not None
    assert plan.feed == set(range(4))  # frame 4 needs the group before it
    assert plan.restarts == frozenset()


def test_discarded_packets_are_not_numbered() -> None:
    stream = [PacketInfo(-1, True, discard=True), *packets((0, False), (1, False))]
    plan = plan_decode(stream, 2)
    assert plan is not None
    assert plan.sampled == {0: 0}
    assert plan.frame_count == 2


@pytest.mark.parametrize(
    "stream",
    [
        packets((0, False), (1, True)),  # does not start at a reset point
        packets((0, True), (0, False)),  # a repeated timestamp
        [],
    ],
)
def test_no_plan_for_streams_it_cannot_reason_about(stream: list[PacketInfo]) -> None:
    assert plan_decode(stream, 2) is None


def nal(*payloads: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in payloads)


def test_reset_packets_are_read_from_nal_unit_types() -> None:
    sei, idr, non_idr = b"\x06\x05\x10", b"\x65\x88\x84", b"\x41\x9a\x02"
    assert is_reset_packet("h264", nal(sei, idr), 4)
    assert not is_reset_packet("h264", nal(sei, non_idr), 4)
    assert is_reset_packet("h264", b"\x00\x00\x00\x01" + sei + b"\x00\x00\x01" + idr, None)
    cra, idr_w_radl = bytes([21 << 1, 1, 0]), bytes([19 << 1, 1, 0])
    assert is_reset_packet("hevc", nal(idr_w_radl), 4)
    assert not is_reset_packet("hevc", nal(cra), 4)
    assert is_reset_packet("vp9", b"\x82\x49\x83", None)
    assert not is_reset_packet("mpeg4", b"\x00\x00\x01\xb6", None)
    assert nal_length_size("h264", b"\x01\x4d\x40\x1f\xff") == 4
    assert nal_length_size("h264", b"\x00\x00\x00\x01") is None


def test_frames_hash_as_pdqhash_does() -> None:
    """The frame hasher (float32 luminance, numba) against Meta's C++ through pdqhash."""
    distances, quality_gaps = [], []
    for stem in VIDEO_STEMS:
        with av.open(str(VIDEOS / f"{stem}.mp4")) as container:
            for number, frame in enumerate(container.decode(video=0)):
                if number % 10:
                    continue
                pixels = frame.to_ndarray(format="rgb24")
                reference = pdq_of_pixels(pixels)
                value, quality = pdq_of_rgb(pixels)
                distances.append(pdq_distance(value, reference.value))
                quality_gaps.append(abs(quality - reference.quality))
    assert len(distances) > 200
    assert sum(d == 0 for d in distances) >= 0.99 * len(distances)  # measured: all
    assert max(distances) <= 2
    assert max(quality_gaps) == 0
