"""Benchmark: Reclaim's exact PDQ index against FAISS and python-threatexchange.

    .venv/bin/python benchmarks/matching.py                # 1M hashes, all peers
    .venv/bin/python benchmarks/matching.py --full         # 10M hashes
    .venv/bin/python benchmarks/matching.py --size 200000 --peers reclaim,faiss-mih

The bank is random hashes plus clusters of near-duplicates (a base hash and variants
1-20 bits away).  1,000 queries: half are bank members with 0-31 random bits flipped,
half are random.  Every peer runs in its own subprocess on the same data (so its peak
memory is its own), single-threaded, and is timed after a warm-up query.  Ground truth
is FAISS IndexBinaryFlat's range search, which is exhaustive.  Needs the ``bench``
extra (faiss-cpu, threatexchange).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RADIUS = 31
PEERS = ("reclaim", "faiss-flat", "faiss-mih", "threatexchange")
CLUSTER_SIZE = 100
CLUSTERED_FRACTION = 0.05
ADDED = 10_000


# ---------------------------------------------------------------- data


def flip_bits(hashes: npt.NDArray[np.uint8], counts: Any, seed: int) -> Any:
    """Flip ``counts[i]`` distinct random bits of row ``i`` (vectorised for big banks)."""
    rng = np.random.default_rng(seed)
    out = hashes.copy()
    # A random permutation of bit positions per row; flip the first counts[i] of them.
    keys = rng.random((hashes.shape[0], 256), dtype=np.float32)
    order = np.argsort(keys, axis=1)[:, : int(counts.max(initial=0))]
    for k in range(order.shape[1]):
        rows = np.flatnonzero(counts > k)
        bit = order[rows, k]
        out[rows, bit // 8] ^= (128 >> (bit % 8)).astype(np.uint8)
    return out


def make_data(size: int, queries: int, seed: int, directory: Path) -> None:
    rng = np.random.default_rng(seed)
    clustered = int(size * CLUSTERED_FRACTION) // CLUSTER_SIZE * CLUSTER_SIZE
    bank = rng.integers(0, 256, size=(size + ADDED, 32), dtype=np.uint8)
    if clustered:
        bases = bank[: clustered // CLUSTER_SIZE]
        variants = np.repeat(bases, CLUSTER_SIZE - 1, axis=0)
        distances = rng.integers(1, 21, variants.shape[0])
        bank[bases.shape[0] : clustered] = flip_bits(variants, distances, seed + 1)
    members = bank[rng.integers(0, size, queries // 2)]
    near = flip_bits(members, rng.integers(0, RADIUS + 1, members.shape[0]), seed + 2)
    unrelated = rng.integers(0, 256, size=(queries - near.shape[0], 32), dtype=np.uint8)
    np.save(directory / "bank.npy", bank[:size])
    np.save(directory / "added.npy", bank[size:])
    np.save(directory / "queries.npy", rng.permutation(np.concatenate([near, unrelated])))


# ---------------------------------------------------------------- measuring


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets VmHWM (peak RSS) to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def time_queries(
    search: Callable[[npt.NDArray[np.uint8]], object], queries: Any
) -> dict[str, float]:
    search(queries[:1])  # warm-up: numba loads its cached code, caches fill
    latencies = []
    started = time.perf_counter()
    for i in range(queries.shape[0]):
        t0 = time.perf_counter()
        search(queries[i : i + 1])
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    micros = np.array(latencies) * 1e6
    return {
        "single_qps": queries.shape[0] / elapsed,
        "p50_us": float(np.percentile(micros, 50)),
        "p99_us": float(np.percentile(micros, 99)),
    }


# ---------------------------------------------------------------- peers


class Peer:
    """Build, single search, batched search (returning (query, id) pairs)."""

    def build(self, ids: Any, bank: Any) -> None:
        raise NotImplementedError

    def single(self, query: Any) -> object:
        raise NotImplementedError

    def batch(self, queries: Any) -> tuple[Any, Any]:
        raise NotImplementedError


class Reclaim(Peer):
    def build(self, ids: Any, bank: Any) -> None:
        from reclaim.matching import PdqIndex

        self.index = PdqIndex.build(ids, bank)

    def single(self, query: Any) -> object:
        return self.index.search(query, RADIUS)

    def batch(self, queries: Any) -> tuple[Any, Any]:
        result = self.index.search(queries, RADIUS)
        return result.query_index, result.ids


def _faiss_pairs(index: Any, queries: Any) -> tuple[Any, Any]:
    # FAISS binary range search returns distances strictly below the radius given.
    limits, _, labels = index.range_search(queries, RADIUS + 1)
    counts = np.diff(limits.astype(np.int64))
    return np.repeat(np.arange(queries.shape[0]), counts), labels


class FaissFlat(Peer):
    def build(self, ids: Any, bank: Any) -> None:
        import faiss

        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(bank)

    def single(self, query: Any) -> object:
        return self.index.range_search(query, RADIUS + 1)

    def batch(self, queries: Any) -> tuple[Any, Any]:
        return _faiss_pairs(self.index, queries)


class FaissMultiHash(Peer):
    """IndexBinaryMultiHash as python-threatexchange's PDQMultiHashIndex configures it:
    nhash=16 maps of 256 // 16 = 16 bits, nflip = threshold // nhash = 31 // 16 = 1."""

    def build(self, ids: Any, bank: Any) -> None:
        import faiss

        self.index = faiss.IndexBinaryMultiHash(256, 16, 256 // 16)
        self.index.add(bank)
        self.index.nflip = RADIUS // 16

    def single(self, query: Any) -> object:
        return self.index.range_search(query, RADIUS + 1)

    def batch(self, queries: Any) -> tuple[Any, Any]:
        return _faiss_pairs(self.index, queries)


class ThreatExchange(Peer):
    """python-threatexchange's PDQIndex (what PdqSignal.get_index_cls() returns), used
    the way Hasher-Matcher-Actioner uses it: build from (hex, entry), query one hex."""

    def build(self, ids: Any, bank: Any) -> None:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        hexes = [row.tobytes().hex() for row in bank]
        self.index = PDQIndex.build(zip(hexes, ids.tolist(), strict=True))

    def single(self, query: Any) -> object:
        return self.index.query(query[0].tobytes().hex())

    def batch(self, queries: Any) -> tuple[Any, Any]:
        hexes = [row.tobytes().hex() for row in queries]
        found = self.index.index.search_with_distance_in_result(hexes, RADIUS)
        pairs = [(q, local) for q, h in enumerate(hexes) for local, _, _ in found[h]]
        entries = self.index.local_id_to_entry
        return (
            np.array([q for q, _ in pairs], dtype=np.int64),
            np.array([entries[local][1] for _, local in pairs], dtype=np.int64),
        )


IMPLEMENTATIONS: dict[str, type[Peer]] = {
    "reclaim": Reclaim,
    "faiss-flat": FaissFlat,
    "faiss-mih": FaissMultiHash,
    "threatexchange": ThreatExchange,
}


def run_child(name: str, data: Path) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(1)
    bank = np.load(data / "bank.npy")
    queries = np.load(data / "queries.npy")
    ids = np.arange(bank.shape[0], dtype=np.int64)
    peer = IMPLEMENTATIONS[name]()
    if name == "reclaim":  # compile (or load cached) kernels outside the measurement
        warm = Reclaim()
        warm.build(ids[:5000], bank[:5000])
        warm.single(queries[:1])
        del warm
    before = rss_kib()
    reset_peak_rss()
    started = time.perf_counter()
    peer.build(ids, bank)
    report: dict[str, Any] = {"peer": name, "build_s": time.perf_counter() - started}
    report |= time_queries(peer.single, queries)
    started = time.perf_counter()
    q, found = peer.batch(queries)
    report["batch_qps"] = queries.shape[0] / (time.perf_counter() - started)
    report["peak_mib"] = (rss_kib("VmHWM") - before) / 1024
    report["rss_mib"] = (rss_kib() - before) / 1024
    np.savez(data / f"{name}.npz", query=np.asarray(q), ids=np.asarray(found))
    if name == "reclaim":
        report |= reclaim_extras(peer, data, queries)
    return report


def reclaim_extras(peer: Peer, data: Path, queries: Any) -> dict[str, Any]:
    from reclaim.matching import PdqIndex

    index = peer.index  # type: ignore[attr-defined]
    added = np.load(data / "added.npy")
    new_ids = np.arange(10**12, 10**12 + added.shape[0])
    started = time.perf_counter()
    index.add(new_ids, added)
    hit = index.search(added[-1:], 0)
    add_s = time.perf_counter() - started
    assert hit.ids.tolist() == [new_ids[-1]]
    with_delta = time_queries(lambda q: index.search(q, RADIUS), queries)
    started = time.perf_counter()
    index.compact()
    compact_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=data) as saved:
        started = time.perf_counter()
        index.save(saved)
        save_s = time.perf_counter() - started
        started = time.perf_counter()
        loaded = PdqIndex.load(saved)
        load_s = time.perf_counter() - started
        cold = time_queries(lambda q: loaded.search(q, RADIUS), queries)
        warm = time_queries(lambda q: loaded.search(q, RADIUS), queries)
    return {
        "add_10k_and_match_s": add_s,
        "single_qps_with_10k_delta": with_delta["single_qps"],
        "compact_s": compact_s,
        "save_s": save_s,
        "load_s": load_s,
        "loaded_single_qps_cold": cold["single_qps"],
        "loaded_single_qps_warm": warm["single_qps"],
        "layout": [len(index._main.layout.widths), index._main.layout.widths[0]],
    }


# ---------------------------------------------------------------- parent


def recall(data: Path, name: str, truth: set[tuple[int, int]]) -> float:
    result = np.load(data / f"{name}.npz")
    found = set(zip(result["query"].tolist(), result["ids"].tolist(), strict=True))
    return len(found & truth) / max(1, len(truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--full", action="store_true", help="10 million hashes")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.data)))
        return
    size = 10_000_000 if args.full else args.size
    peers = [p for p in args.peers.split(",") if p]
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; known: {', '.join(PEERS)}")
    with tempfile.TemporaryDirectory(prefix="reclaim-bench-") as tmp:
        data = Path(tmp)
        print(
            f"bank: {size:,} hashes ({CLUSTERED_FRACTION:.0%} in clusters of {CLUSTER_SIZE}); "
            f"{args.queries:,} queries; radius {RADIUS}",
            flush=True,
        )
        make_data(size, args.queries, args.seed, data)
        reports = {}
        order = ["faiss-flat"] + [p for p in peers if p != "faiss-flat"]  # truth first
        env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for name in order:
            print(f"running {name} ...", flush=True)
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, "--data", str(data)],
                check=False,
                capture_output=True,
                text=True,
                env=env,
            )
            if out.returncode:
                sys.exit(f"{name} failed:\n{out.stderr}")
            reports[name] = json.loads(out.stdout.strip().splitlines()[-1])
        truth_file = np.load(data / "faiss-flat.npz")
        truth = set(zip(truth_file["query"].tolist(), truth_file["ids"].tolist(), strict=True))
        for name, report in reports.items():
            report["recall"] = recall(data, name, truth)
    print_table(reports, peers, len(truth))


def print_table(reports: dict[str, dict[str, Any]], peers: list[str], truth: int) -> None:
    print(f"\nground truth: {truth:,} (query, id) pairs within {RADIUS} bits\n")
    header = (
        f"{'peer':<15}{'build s':>9}{'peak MiB':>10}{'single q/s':>12}{'p50 us':>9}"
        f"{'p99 us':>9}{'batch q/s':>11}{'recall':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, r in reports.items():
        if name not in peers:
            continue
        print(
            f"{name:<15}{r['build_s']:>9.2f}{r['peak_mib']:>10.0f}{r['single_qps']:>12.0f}"
            f"{r['p50_us']:>9.0f}{r['p99_us']:>9.0f}{r['batch_qps']:>11.0f}{r['recall']:>9.4f}"
        )
    ours = reports.get("reclaim")
    if not ours:
        return
    print("\nReclaim's speed-up (single queries / batched):")
    for name, r in reports.items():
        if name != "reclaim" and name in peers:
            print(
                f"  vs {name:<15}{ours['single_qps'] / r['single_qps']:>8.1f}x"
                f"{ours['batch_qps'] / r['batch_qps']:>8.1f}x"
            )
    print("\nReclaim, more:")
    for key in (
        "layout",
        "add_10k_and_match_s",
        "single_qps_with_10k_delta",
        "compact_s",
        "save_s",
        "load_s",
        "loaded_single_qps_cold",
        "loaded_single_qps_warm",
        "rss_mib",
    ):
        value = ours[key]
        print(f"  {key:<28}{value if isinstance(value, list) else round(value, 3)}")


if __name__ == "__main__":
    main()
