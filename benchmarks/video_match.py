"""Benchmark: videos matched as videos (vPDQ), and vPDQ hashing throughput.

    .venv/bin/python benchmarks/video_match.py                  # 100,000 banked videos
    .venv/bin/python benchmarks/video_match.py --videos 20000   # smaller, quicker
    .venv/bin/python benchmarks/video_match.py --hashing-only

**Matching.** A bank of ``--videos`` videos of 60 s sampled at 1 frame/s (60 frames,
about 6 M frame hashes at 100,000 videos): each video has 10-20 scenes, and each
scene's frames are its base hash with 0-8 bits flipped (still scenes hash alike, as
real ones do).  Queries: 50 edited copies of banked videos (every frame 0-20 bits
away, the first 5 s trimmed) and 50 unrelated videos.  Peers, one thread:

- ``reclaim``: :class:`reclaim.matching.video.VideoIndex` (every distinct banked frame
  in the exact PdqIndex, candidates from frame hits, the rule on candidates only);
  its kernels are warmed before timing.
- ``brute``: :func:`reclaim.matching.video.brute_force_video_matches` (every banked
  video compared frame by frame, as python-threatexchange's
  ``VPDQBruteMatcher`` does), timed on a sample of banked videos and scaled up.

Both must find the same videos on the sample (checked).

**Hashing.** A synthetic 1080p H.264 video (``--hash-seconds`` long, 30 frames/s, High
profile with B-frames) made with PyAV, twice: a key frame every second (as phones
write) and every 250 frames (x264's default).  Each is hashed at 1 frame/s by the
server's hashing, selectively (the default: only the frames the sampled ones need,
``reclaim.hashing.video_plan``) and decoding every frame as vPDQ's reference does;
the two lists must be identical (checked).  Seconds of video per second of hashing
(target: at least 10), wall clock and CPU.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from reclaim.matching.video import (
    FrameList,
    VideoIndex,
    VideoRule,
    brute_force_video_matches,
)

SECONDS = 60


def flip(rows: np.ndarray, max_bits: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(rows, axis=1)
    counts = rng.integers(0, max_bits + 1, rows.shape[0])
    for row, count in enumerate(counts.tolist()):
        bits[row, rng.choice(256, size=count, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def fast_flip(rows: np.ndarray, max_bits: int, rng: np.random.Generator) -> np.ndarray:
    """Flip up to ``max_bits`` random bits per row (positions may repeat: cheap)."""
    out = rows.copy()
    for _ in range(max_bits):
        pick = rng.random(rows.shape[0]) < 0.5
        bit = rng.integers(0, 256, rows.shape[0])
        idx = np.flatnonzero(pick)
        out[idx, bit[idx] // 8] ^= (128 >> (bit[idx] % 8)).astype(np.uint8)
    return out


def make_video(rng: np.random.Generator) -> np.ndarray:
    scenes = int(rng.integers(10, 21))
    bases = rng.integers(0, 256, size=(scenes, 32), dtype=np.uint8)
    cuts = np.sort(rng.choice(np.arange(1, SECONDS), size=scenes - 1, replace=False))
    scene_of = np.searchsorted(cuts, np.arange(SECONDS), side="right")
    return fast_flip(bases[scene_of], 8, rng)


def frame_list(hashes: np.ndarray, quality: int = 90) -> FrameList:
    return FrameList.from_frames(
        (i * 30, float(i), row.tobytes().hex(), quality) for i, row in enumerate(hashes)
    )


def bench_matching(videos: int, seed: int, brute_sample: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    banked_hashes = [make_video(rng) for _ in range(videos)]
    lists = [frame_list(h) for h in banked_hashes]
    made = time.perf_counter() - t0
    index = VideoIndex()
    warm = VideoIndex()
    warm.add_many((i, lists[i]) for i in range(min(50, videos)))
    warm.search(lists[0])
    t0 = time.perf_counter()
    index.add_many(enumerate(lists))
    index._frames.compact()
    built = time.perf_counter() - t0
    targets = rng.choice(videos, size=50, replace=False)
    queries = [
        frame_list(fast_flip(banked_hashes[t][5:], 20, rng), quality=80) for t in targets
    ] + [frame_list(make_video(rng)) for _ in range(50)]
    rule = VideoRule()
    index.search(queries[0], rule)
    times, cpu, found = [], [], []
    for query in queries:
        start, start_cpu = time.perf_counter(), time.process_time()
        hits = index.search(query, rule)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        found.append({h.entry_id for h in hits if h.is_match})
    hit_rate = sum(int(t) in f for t, f in zip(targets.tolist(), found[:50], strict=True)) / 50
    false = sum(len(f) for f in found[50:])
    # The brute-force twin on a sample (the targets included), scaled to the bank.
    sample_ids = sorted({*targets.tolist(), *rng.choice(videos, size=brute_sample).tolist()})
    sample = {i: lists[i] for i in sample_ids}
    start = time.perf_counter()
    agree = True
    for query, matched in zip(queries[:10], found[:10], strict=True):
        brute = {h.entry_id for h in brute_force_video_matches(query, sample, rule) if h.is_match}
        agree &= brute == (matched & set(sample_ids))
    brute_per_video = (time.perf_counter() - start) / 10 * videos / len(sample)
    ms = np.array(times) * 1000
    return {
        "videos": videos,
        "frames": index.frame_count,
        "make_s": round(made, 1),
        "build_s": round(built, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "mean_cpu_ms": round(float(np.mean(cpu)) * 1000, 2),
        "edited_copies_found": hit_rate,
        "unrelated_false_matches": false,
        "brute_s_per_video_scaled": round(brute_per_video, 1),
        "brute_agrees_on_sample": agree,
    }


#: The encodings hashed: (label, libx264 options).  Phones' hardware encoders write a
#: key frame about every second; x264's own default allows up to 250 frames between
#: key frames, the worst case for skipping (B-frames are still skipped).
ENCODINGS = (
    ("key frame every 1 s (phone-like)", {"preset": "veryfast", "g": "30"}),
    ("key frame every 250 frames (x264 default)", {"preset": "veryfast", "g": "250"}),
)


def synthetic_1080p(seconds: int, seed: int, options: dict[str, str]) -> bytes:
    """A 1080p H.264 (High profile, CABAC, B-frames) video of moving random blocks."""
    import av

    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = options
        base = rng.integers(0, 256, size=(135, 240, 3), dtype=np.uint8)
        for number in range(seconds * 30):
            if number % 90 == 0:
                base = rng.integers(0, 256, size=(135, 240, 3), dtype=np.uint8)
            shifted = np.roll(base, number % 90, axis=1)
            pixels = np.kron(shifted, np.ones((8, 8, 1), dtype=np.uint8))
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def bench_hashing(seconds: int, seed: int) -> dict[str, Any]:
    """Selective decoding (the default) against decoding every frame (vPDQ's way)."""
    from reclaim.hashing import HashingLimits
    from reclaim.hashing.formats import HEAD_BYTES, sniff
    from reclaim.hashing.video import hash_video_frames

    figures: dict[str, Any] = {"video_s": seconds}
    for label, options in ENCODINGS:
        data = synthetic_1080p(seconds, seed, options)
        media = sniff(data[:HEAD_BYTES])
        hash_video_frames(io.BytesIO(synthetic_1080p(1, seed, options)), media, HashingLimits())
        row: dict[str, Any] = {"mb": round(len(data) / 1e6, 1)}
        lists = []
        for name, selective in (("selective", True), ("every_frame", False)):
            start, start_cpu = time.perf_counter(), time.process_time()
            frames = hash_video_frames(
                io.BytesIO(data), media, HashingLimits(), selective=selective
            ).frames
            spent, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            lists.append(frames)
            row[name] = {
                "hashing_s": round(spent, 2),
                "realtime_x": round(seconds / spent, 1),
                "realtime_x_cpu": round(seconds / cpu, 1),
            }
        row["frames_hashed"] = len(lists[0])
        row["identical"] = lists[0] == lists[1]
        row["speedup"] = round(row["every_frame"]["hashing_s"] / row["selective"]["hashing_s"], 2)
        figures[label] = row
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--brute-sample", type=int, default=2000)
    parser.add_argument("--hash-seconds", type=int, default=30)
    parser.add_argument("--hashing-only", action="store_true")
    parser.add_argument("--matching-only", action="store_true")
    args = parser.parse_args()
    if not args.hashing_only:
        print("matching:", bench_matching(args.videos, args.seed, args.brute_sample), flush=True)
    if not args.matching_only:
        print("hashing:", bench_hashing(args.hash_seconds, args.seed), flush=True)


if __name__ == "__main__":
    main()
