"""Benchmark: file -> PDQ for bulk scans, Reclaim against python-threatexchange.

    .venv/bin/python benchmarks/scan.py                   # 2,000 photos + videos (slow to generate)
    .venv/bin/python benchmarks/scan.py --count 120       # a reduced run
    .venv/bin/python benchmarks/scan.py --data /tmp/scan-bench --count 120   # reuse the files
    .venv/bin/python benchmarks/scan.py --count 48 --scan-only --no-videos   # Dask, photos only

Data: synthetic photo-like JPEGs (``tests/support/photos.py``: smooth colour fields,
hard-edged shapes, grain), sizes cycling through 0.3, 1.2, 2, 6, 12 and 24 MP, quality
88, plus the shared test videos.  Generated once into ``--data`` and reused.

Peers, each over the same files:

- ``threatexchange``: ``PdqSignal.hash_from_file`` in a loop, as HMA's hasher does (one
  process, one core);
- ``reclaim-exact``: ``reclaim.hashing.hash_file`` (the reference path: full decode,
  Meta's PDQ, dihedral hashes) in a loop, one core;
- ``reclaim-fast``: ``hash_file`` with a ``HashRequest`` (reduced JPEG decode, compiled
  PDQ on luminance) in a loop, one core;
- ``scan-1`` and ``scan-2``: the whole ``reclaim scan`` pipeline (hash, match against a
  100,000-hash bank snapshot, write part files) on a Dask LocalCluster of 1 and 2 worker
  processes.

Printed: files/s and MB/s per peer; ratios; the 6 MP figures separately; the fast
path's agreement with the reference (PDQ distance: mean, p99, max; files whose fast
hash is more than 31 bits from their reference hash, i.e. a lost match); peak RSS per
Dask worker.  Videos are hashed by vPDQ on every path (not part of the fast path), so
they are counted in the scan peers only.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.photos import MEGAPIXELS, photo_jpeg  # noqa: E402

from reclaim.domain.signals import pdq_distance  # noqa: E402
from reclaim.hashing import HashingLimits, HashRequest, ImageHashes, hash_file  # noqa: E402

VIDEOS = REPO.parent / "shared" / "testdata" / "threatexchange" / "video"
LIMITS = HashingLimits(max_image_pixels=100_000_000)


def generate(data: Path, count: int) -> list[Path]:
    data.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        megapixels = MEGAPIXELS[number % len(MEGAPIXELS)]
        path = data / f"photo-{number:05}-{megapixels:g}mp.jpg"
        if not path.exists():
            path.write_bytes(photo_jpeg(number, megapixels))
        paths.append(path)
    return paths


def timed(
    label: str, paths: list[Path], hasher: Callable[[Path], str]
) -> tuple[dict[Path, str], float]:
    hashes = {}
    start = time.perf_counter()
    for path in paths:
        hashes[path] = hasher(path)
    elapsed = time.perf_counter() - start
    size = sum(p.stat().st_size for p in paths) / 1e6
    rate = len(paths) / elapsed
    print(f"{label:16} {rate:8.2f} files/s {size / elapsed:8.2f} MB/s ({elapsed:.1f} s)")
    return hashes, elapsed


def threatexchange(path: Path) -> str:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    return str(PdqSignal.hash_from_file(path))


def reclaim(request: HashRequest | None) -> Callable[[Path], str]:
    def run(path: Path) -> str:
        result = hash_file(path, LIMITS, request=request)
        assert isinstance(result, ImageHashes)
        return result.pdq.value

    return run


def per_file_seconds(paths: list[Path], hasher: Callable[[Path], str]) -> float:
    start = time.perf_counter()
    for path in paths:
        hasher(path)
    return (time.perf_counter() - start) / len(paths)


def scan(paths: list[Path], workers: int, bank_size: int) -> tuple[float, list[int]]:
    from distributed import Client, LocalCluster

    from reclaim.domain.signals import Signal, SignalType
    from reclaim.scanning.domain import Unit, UnitKind, batches
    from reclaim.scanning.runner import run_batches
    from reclaim.scanning.snapshot import Entry, write_snapshot
    from reclaim.scanning.worker import ScanJob

    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder)
        bank = rng.integers(0, 256, size=(bank_size, 32), dtype=np.uint8)
        write_snapshot(
            results / "index",
            [
                Entry(i, "bench", "unknown", False, Signal(SignalType.PDQ, bytes(row).hex()))
                for i, row in enumerate(bank)
            ],
        )
        job = ScanJob(results, results / "index", LIMITS, HashRequest(), 31)
        units = [Unit(UnitKind.FILE, str(p)) for p in paths]
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            # Warm every worker (imports, numba's cached kernels, the snapshot).
            run_batches(client, batches(units[:workers], 1), job, lambda *_: None)
            shutil.rmtree(results / "parts")
            start = time.perf_counter()
            run_batches(client, batches(units, 8), job, lambda *_: None)
            elapsed = time.perf_counter() - start
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return elapsed, [int(kb) // 1024 for kb in peaks.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "reclaim-scan-bench"
    )
    parser.add_argument("--bank", type=int, default=100_000)
    parser.add_argument(
        "--scan-only", action="store_true", help="only the Dask scans (skip the one-core peers)"
    )
    parser.add_argument("--no-videos", action="store_true", help="scan the photos only")
    args = parser.parse_args()

    photos = generate(args.data, args.count)
    videos = [] if args.no_videos else sorted(VIDEOS.glob("*.mp4"))
    size = sum(p.stat().st_size for p in photos) / 1e6
    print(f"{len(photos)} photos ({size:.0f} MB), {len(videos)} videos; bank {args.bank:,} hashes")
    reclaim(HashRequest())(photos[0])  # compile / load numba's kernels before timing
    if not args.scan_only:
        one_core(photos)
    scans(photos + videos, args.bank)


def one_core(photos: list[Path]) -> None:
    tx, tx_seconds = timed("threatexchange", photos, threatexchange)
    exact, exact_seconds = timed("reclaim-exact", photos, reclaim(None))
    fast, fast_seconds = timed("reclaim-fast", photos, reclaim(HashRequest()))
    print(
        f"per core: fast {tx_seconds / fast_seconds:.1f}x threatexchange, "
        f"exact {tx_seconds / exact_seconds:.2f}x threatexchange"
    )

    six = [p for p in photos if p.name.endswith("-6mp.jpg")]
    if six:
        tx6 = per_file_seconds(six, threatexchange)
        fast6 = per_file_seconds(six, reclaim(HashRequest()))
        print(
            f"6 MP: threatexchange {1 / tx6:.2f} files/s, fast {1 / fast6:.2f} files/s: "
            f"{tx6 / fast6:.1f}x per core"
        )

    distances = [pdq_distance(fast[p], exact[p]) for p in photos]
    tx_distances = [pdq_distance(fast[p], tx[p]) for p in photos]
    print(
        f"agreement fast vs reference: mean {statistics.mean(distances):.2f}, "
        f"p99 {np.percentile(distances, 99):.0f}, max {max(distances)}, "
        f"lost at 31: {sum(d > 31 for d in distances)}; "
        f"vs threatexchange: mean {statistics.mean(tx_distances):.2f}, max {max(tx_distances)}"
    )


def scans(everything: list[Path], bank: int) -> None:
    one, peaks_one = scan(everything, 1, bank)
    two, peaks_two = scan(everything, 2, bank)
    total = sum(p.stat().st_size for p in everything) / 1e6
    for label, elapsed in (("scan-1", one), ("scan-2", two)):
        print(f"{label:16} {len(everything) / elapsed:8.2f} files/s {total / elapsed:8.2f} MB/s")
    print(
        f"2 workers / 1 worker: {one / two:.2f}x; peak RSS per worker: "
        f"{max(peaks_one)} MB (1 worker), {max(peaks_two)} MB (2 workers)"
    )


if __name__ == "__main__":
    main()
