"""Benchmark: file -> PDQ for bulk scans, Reclaim against python-threatexchange.

    .venv/bin/python benchmarks/scan.py --jobs 2           # the full run: 2,000 photos + videos
    .venv/bin/python benchmarks/scan.py --count 48          # a reduced run
    .venv/bin/python benchmarks/scan.py --data /tmp/scan-bench --count 120   # reuse the files
    .venv/bin/python benchmarks/scan.py --count 48 --scan-only --no-videos   # Dask, photos only

Data: synthetic photo-like JPEGs (``tests/support/photos.py``: smooth colour fields,
hard-edged shapes, grain), sizes cycling through 0.3, 1.2, 2, 6, 12 and 24 MP, quality
88 (2,000 by default: 333 or 334 of each size), plus the shared test videos and two
re-encoded, trimmed copies of one of them.  Generated once into ``--data`` (``--jobs``
processes) and reused.

Peers:

- ``threatexchange``: ``PdqSignal.hash_from_file`` in a loop, as HMA's hasher does (one
  process, one core);
- ``reclaim-exact``: ``reclaim.hashing.hash_file`` (the reference path: full decode,
  Meta's PDQ, dihedral hashes) in a loop, one core;
- ``reclaim-fast``: ``hash_file`` with a ``HashRequest`` (reduced JPEG decode, compiled
  PDQ on luminance) in a loop, one core;
- ``scan-1`` and ``scan-2``: the whole ``reclaim scan`` pipeline (hash, match against a
  bank snapshot of 100,000 PDQ hashes and 1,000 banked videos, write part files) on a
  Dask LocalCluster of 1 and 2 worker processes, then the streaming merge of the
  results (JSON lines, CSV, Parquet).

The two slow peers (about 0.1-0.3 files/s at the large sizes) are timed on a
*stratified sample*: the first ``--sample`` photos of each size (5 by default: 30
photos), and the fast path on the same sample *and* on every photo.  Per size the
sample gives seconds per file; the whole mix's figure is the mean over sizes weighted
by each size's share of the photos (the sample, its size and the weighting are printed).
``--sample 0`` times every photo on every peer (hours at 2,000 photos).

Printed: files/s and MB/s per peer; per-size seconds and ratios (6 MP among them);
the fast path's agreement with the reference on the sample (PDQ distance: mean, p99,
max; photos whose fast hash is more than 31 bits from their reference hash, i.e. a
lost match); the scans' files/s, the matches of the banked videos' copies, the merge
time; peak RSS per Dask worker.  Videos are hashed by vPDQ on every path (not part of
the fast path), so they are counted in the scan peers only.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.photos import MEGAPIXELS, photo_jpeg  # noqa: E402

from reclaim.domain.signals import pdq_distance  # noqa: E402
from reclaim.hashing import (  # noqa: E402
    HashingLimits,
    HashRequest,
    ImageHashes,
    VideoHashes,
    hash_file,
)

VIDEOS = REPO.parent / "shared" / "testdata" / "threatexchange" / "video"
#: The banked video (and the source of the edited copies among the scanned files).
BANKED_VIDEO = VIDEOS / "chair-orig-22-sd-bar.mp4"
LIMITS = HashingLimits(max_image_pixels=100_000_000)
Hasher = Callable[[Path], str]


def _photo(path: Path, number: int, megapixels: float) -> None:
    if not path.exists():
        temporary = path.with_suffix(".part")
        temporary.write_bytes(photo_jpeg(number, megapixels))
        temporary.replace(path)


def generate(data: Path, count: int, jobs: int) -> list[Path]:
    data.mkdir(parents=True, exist_ok=True)
    planned = []
    for number in range(count):
        megapixels = MEGAPIXELS[number % len(MEGAPIXELS)]
        planned.append((data / f"photo-{number:05}-{megapixels:g}mp.jpg", number, megapixels))
    missing = [item for item in planned if not item[0].exists()]
    if missing:
        print(f"generating {len(missing)} photos in {data} ({jobs} processes)...", flush=True)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_photo, *zip(*missing, strict=True), chunksize=4))
    return [path for path, _n, _mp in planned]


def edited_videos(data: Path) -> list[Path]:
    """Two edited copies of the banked video (the vPDQ rule's test in the scan)."""
    from tests.support.videos import variant

    made = []
    for name, options in (
        ("copy-trimmed.mp4", {"skip_seconds": 2.0, "max_seconds": 21.0}),
        ("copy-reencoded.mp4", {"crf": 36}),
    ):
        path = data / "videos" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(variant(BANKED_VIDEO, **options))  # type: ignore[arg-type]
        made.append(path)
    return made


def mean(values: list[float] | list[int]) -> float:
    # Not statistics.mean: benchmarks/statistics.py shadows the standard library here.
    return float(np.mean(values))


def size_of(path: Path) -> float:
    return float(path.name.rsplit("-", 1)[1].removesuffix("mp.jpg"))


def stratified(photos: list[Path], per_size: int) -> list[Path]:
    """The first ``per_size`` photos of each size (every photo when 0)."""
    if per_size <= 0:
        return list(photos)
    chosen: dict[float, list[Path]] = {}
    for path in photos:
        group = chosen.setdefault(size_of(path), [])
        if len(group) < per_size:
            group.append(path)
    return [path for group in chosen.values() for path in group]


def timed(
    label: str, paths: list[Path], hasher: Hasher
) -> tuple[dict[Path, str], dict[Path, float]]:
    hashes, seconds = {}, {}
    for path in paths:
        start = time.perf_counter()
        hashes[path] = hasher(path)
        seconds[path] = time.perf_counter() - start
    elapsed = sum(seconds.values())
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"{label:22} {len(paths) / elapsed:8.2f} files/s {size / elapsed:8.2f} MB/s "
        f"({len(paths)} photos, {elapsed:.1f} s)",
        flush=True,
    )
    return hashes, seconds


def threatexchange(path: Path) -> str:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    return str(PdqSignal.hash_from_file(path))


def reclaim(request: HashRequest | None) -> Hasher:
    def run(path: Path) -> str:
        result = hash_file(path, LIMITS, request=request)
        assert isinstance(result, ImageHashes)
        return result.pdq.value

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "reclaim-scan-bench"
    )
    parser.add_argument("--bank", type=int, default=100_000, help="PDQ hashes in the bank")
    parser.add_argument("--bank-videos", type=int, default=1000, help="videos in the bank")
    parser.add_argument(
        "--sample",
        type=int,
        default=5,
        help="photos of each size timed on the slow peers (0: every photo)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="processes generating photos")
    parser.add_argument(
        "--scan-only", action="store_true", help="only the Dask scans (skip the one-core peers)"
    )
    parser.add_argument("--no-videos", action="store_true", help="scan the photos only")
    args = parser.parse_args()

    photos = generate(args.data, args.count, max(1, args.jobs))
    videos = [] if args.no_videos else sorted(VIDEOS.glob("*.mp4")) + edited_videos(args.data)
    size = sum(p.stat().st_size for p in photos) / 1e6
    print(
        f"{len(photos)} photos ({size:.0f} MB, {', '.join(f'{m:g}' for m in MEGAPIXELS)} MP "
        f"in turn), {len(videos)} videos; bank {args.bank:,} PDQ hashes and "
        f"{args.bank_videos:,} videos"
    )
    reclaim(HashRequest())(photos[0])  # compile / load numba's kernels before timing
    if not args.scan_only:
        one_core(photos, args.sample)
    scans(interleaved(photos, videos), args.bank, args.bank_videos)


def interleaved(photos: list[Path], videos: list[Path]) -> list[Path]:
    """The videos spread evenly among the photos (so batches share the slow ones)."""
    mixed = list(photos)
    for number, video in enumerate(videos):
        mixed.insert((number + 1) * len(mixed) // (len(videos) + 1), video)
    return mixed


def one_core(photos: list[Path], per_size: int) -> None:
    sample = stratified(photos, per_size)
    print(
        f"one core. threatexchange and reclaim-exact on a stratified sample: {len(sample)} "
        f"of {len(photos)} photos (the first {per_size or 'all'} of each size); "
        "reclaim-fast on the sample and on every photo"
    )
    tx, tx_s = timed("threatexchange (sample)", sample, threatexchange)
    exact, exact_s = timed("reclaim-exact (sample)", sample, reclaim(None))
    fast, fast_s = timed("reclaim-fast (sample)", sample, reclaim(HashRequest()))
    if len(sample) < len(photos):
        timed("reclaim-fast (all)", photos, reclaim(HashRequest()))

    # Per size, seconds a file; the mix weighted by each size's share of the photos.
    sizes = sorted({size_of(p) for p in photos})
    share = {m: sum(size_of(p) == m for p in photos) / len(photos) for m in sizes}
    megabytes = {
        m: mean([p.stat().st_size for p in photos if size_of(p) == m]) / 1e6 for m in sizes
    }
    print(
        f"{'size':>7} {'share':>6} {'MB':>5} {'tx s':>7} {'exact s':>8} {'fast s':>7} "
        f"{'fast/tx':>8} {'exact/tx':>9}"
    )
    mix = {"tx": 0.0, "exact": 0.0, "fast": 0.0}
    for m in sizes:
        chosen = [p for p in sample if size_of(p) == m]
        if not chosen:
            continue
        per = {
            name: mean([times[p] for p in chosen])
            for name, times in (("tx", tx_s), ("exact", exact_s), ("fast", fast_s))
        }
        for name, seconds in per.items():
            mix[name] += share[m] * seconds
        print(
            f"{m:>5g}MP {share[m]:>6.1%} {megabytes[m]:>5.2f} {per['tx']:>7.3f} "
            f"{per['exact']:>8.3f} {per['fast']:>7.3f} {per['tx'] / per['fast']:>7.1f}x "
            f"{per['tx'] / per['exact']:>8.2f}x"
        )
    mb = sum(share[m] * megabytes[m] for m in sizes)
    print(
        "whole mix (sample, weighted by share): "
        + ", ".join(
            f"{name} {1 / seconds:.2f} files/s {mb / seconds:.2f} MB/s"
            for name, seconds in mix.items()
        )
        + f"; per core: fast {mix['tx'] / mix['fast']:.1f}x threatexchange, "
        f"exact {mix['tx'] / mix['exact']:.2f}x"
    )

    distances = [pdq_distance(fast[p], exact[p]) for p in sample]
    tx_distances = [pdq_distance(fast[p], tx[p]) for p in sample]
    print(
        f"agreement fast vs reference ({len(sample)} sampled photos): "
        f"mean {mean(distances):.2f}, p99 {np.percentile(distances, 99):.0f}, "
        f"max {max(distances)}, lost at 31: {sum(d > 31 for d in distances)}; "
        f"vs threatexchange: mean {mean(tx_distances):.2f}, max {max(tx_distances)}"
    )


def bank_snapshot(folder: Path, bank_size: int, bank_videos: int) -> None:
    """100,000 random PDQ hashes and 1,000 videos (random frame lists and the banked one)."""
    from reclaim.domain.signals import Signal, SignalType
    from reclaim.matching.video import FrameList
    from reclaim.scanning.snapshot import Entry, video_frames, write_snapshot

    rng = np.random.default_rng(7)
    bank = rng.integers(0, 256, size=(bank_size, 32), dtype=np.uint8)
    entries = [
        Entry(i, "bench", "unknown", False, Signal(SignalType.PDQ, bytes(row).hex()))
        for i, row in enumerate(bank)
    ]
    banked = hash_file(BANKED_VIDEO, LIMITS)
    assert isinstance(banked, VideoHashes)
    frame_lists = [video_frames(banked)]
    for _ in range(bank_videos - 1):
        length = int(rng.integers(10, 120))
        hashes = rng.integers(0, 256, size=(length, 32), dtype=np.uint8)
        frame_lists.append(
            FrameList.from_frames((i, float(i), bytes(h).hex(), 90) for i, h in enumerate(hashes))
        )
    for number, frames in enumerate(frame_lists):
        entries.append(
            Entry(
                bank_size + number,
                "bench-videos",
                "unknown",
                False,
                Signal(SignalType.VPDQ, frames.fingerprint()),
                frames,
            )
        )
    write_snapshot(folder, entries)


def peak_megabytes() -> int:
    """This process's peak resident memory.  Not ``ru_maxrss``: Linux carries the
    parent's high-water mark across fork and exec into it, so a worker spawned by a
    big client would report the client's peak."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


def warm(job: object, paths: list[Path]) -> None:
    """On a worker: open the snapshot and hash a photo and a video, untimed."""
    from reclaim.scanning.snapshot import open_snapshot
    from reclaim.scanning.worker import ScanJob

    assert isinstance(job, ScanJob)
    open_snapshot(job.snapshot)
    for path in paths:
        hash_file(path, LIMITS, request=HashRequest())


def scan(
    paths: list[Path], workers: int, bank_size: int, bank_videos: int
) -> tuple[float, list[int], str]:
    from distributed import Client, LocalCluster

    from reclaim.scanning import merge
    from reclaim.scanning.domain import Unit, UnitKind, batches
    from reclaim.scanning.reports import write_outputs
    from reclaim.scanning.runner import run_batches
    from reclaim.scanning.worker import ScanJob

    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder)
        bank_snapshot(results / "index", bank_size, bank_videos)
        job = ScanJob(results, results / "index", LIMITS, HashRequest(), 31)
        units = [Unit(UnitKind.FILE, str(p)) for p in paths]
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,  # a worker's lost heartbeat as the cluster closes
            ) as cluster,
            Client(cluster) as client,
        ):
            # Warm every worker (imports, numba's cached kernels, the snapshot, PyAV).
            first = [p for p in paths if p.suffix == ".jpg"][:1]
            client.run(warm, job, [*first, BANKED_VIDEO])
            start = time.perf_counter()
            run_batches(client, batches(units, 8), job, lambda *_: None)
            elapsed = time.perf_counter() - start
            peaks = client.run(peak_megabytes)
        start = time.perf_counter()
        summary = write_outputs(results, merge.merged(results))
        merging = time.perf_counter() - start
        videos = []
        with (results / "results.jsonl").open("rb") as lines:
            for line in lines:
                record = json.loads(line)
                if any(m["by"] == "vpdq" for m in record.get("matches") or []):
                    videos.append(Path(record["source"]).name)
        outcome = (
            f"{summary.files} results merged and written in {merging:.2f} s; "
            f"videos matching the banked video (vpdq): {', '.join(sorted(videos)) or 'none'}"
        )
    return elapsed, [int(mb) for mb in peaks.values()], outcome


def scans(everything: list[Path], bank: int, bank_videos: int) -> None:
    one, peaks_one, outcome = scan(everything, 1, bank, bank_videos)
    print(outcome)
    two, peaks_two, _ = scan(everything, 2, bank, bank_videos)
    total = sum(p.stat().st_size for p in everything) / 1e6
    for label, elapsed in (("scan-1", one), ("scan-2", two)):
        print(f"{label:22} {len(everything) / elapsed:8.2f} files/s {total / elapsed:8.2f} MB/s")
    print(
        f"2 workers / 1 worker: {one / two:.2f}x; peak RSS per worker: "
        f"{max(peaks_one)} MB (1 worker), {max(peaks_two)} MB (2 workers)"
    )


if __name__ == "__main__":
    main()
