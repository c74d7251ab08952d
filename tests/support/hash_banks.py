"""Synthetic PDQ banks for the matching tests: random hashes and near-duplicate clusters.

Hypothesis draws the shape of a bank (sizes, seed); numpy makes the bytes, which keeps
examples fast while still letting hypothesis explore and shrink the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

Hashes = npt.NDArray[np.uint8]


def flip_bits(hashes: Hashes, counts: npt.ArrayLike, rng: np.random.Generator) -> Hashes:
    """Copy of ``hashes`` with ``counts[i]`` distinct random bits flipped in row ``i``."""
    bits = np.unpackbits(hashes, axis=1)
    for row, count in enumerate(np.asarray(counts).tolist()):
        bits[row, rng.choice(256, size=count, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


@dataclass(frozen=True)
class Bank:
    ids: npt.NDArray[np.int64]
    hashes: Hashes
    queries: Hashes


def make_bank(seed: int, random_size: int, clusters: int, cluster_size: int) -> Bank:
    """Random hashes plus clusters (a base hash and variants 1-20 bits away from it).

    Queries mix bank members flipped by 0-40 bits (so distances straddle 31 and 32),
    cluster bases, and unrelated random hashes.  Ids are sparse and may be negative.
    """
    rng = np.random.default_rng(seed)
    parts = [rng.integers(0, 256, size=(random_size, 32), dtype=np.uint8)]
    for _ in range(clusters):
        base = rng.integers(0, 256, size=(1, 32), dtype=np.uint8)
        variants = flip_bits(
            np.repeat(base, cluster_size, axis=0), rng.integers(1, 21, cluster_size), rng
        )
        parts += [base, variants]
    hashes = np.concatenate(parts)
    ids = sparse_ids(hashes.shape[0], rng)
    members = hashes[rng.integers(0, hashes.shape[0], size=24)] if hashes.shape[0] else hashes
    queries = np.concatenate(
        [
            flip_bits(members, rng.integers(0, 41, members.shape[0]), rng),
            rng.integers(0, 256, size=(8, 32), dtype=np.uint8),
        ]
    )
    return Bank(ids, hashes, queries)


def sparse_ids(count: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """``count`` distinct ids spread over a wide range, negative ones included."""
    ids = np.unique(rng.integers(-(10**6), 10**12, size=count + 16))
    while ids.shape[0] < count:  # pragma: no cover - collisions are vanishingly rare
        ids = np.unique(np.concatenate([ids, rng.integers(-(10**6), 10**12, size=count)]))
    return rng.permutation(ids)[:count]


seeds = st.integers(0, 2**32 - 1)
random_banks = st.builds(make_bank, seeds, st.integers(0, 1500), st.just(0), st.just(0))
clustered_banks = st.builds(
    make_bank, seeds, st.integers(0, 300), st.integers(1, 4), st.integers(1, 300)
)
