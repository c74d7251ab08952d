"""BruteForceIndex: the slow, obviously correct twin of PdqIndex.

It compares every query with every hash (numpy XOR and popcount) and changes its arrays
by filtering and concatenating.  Tests hold the fast index to its answers; nothing in
production should search with it except very small banks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import (
    PDQ_BYTES,
    as_hashes,
    as_ids,
    check_max_distance,
    last_occurrences,
    unique_ids,
)
from reclaim.matching.result import SearchResult, flatten_dihedral

#: Queries compared at once; bounds the (queries x bank x 32) temporary array.
_BLOCK_BYTES = 1 << 26


class BruteForceIndex:
    """Same interface and same results as PdqIndex, by exhaustive comparison."""

    def __init__(self, ids: npt.NDArray[np.int64], hashes: npt.NDArray[np.uint8]) -> None:
        self._ids = ids
        self._hashes = hashes

    @classmethod
    def build(cls, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> Self:
        index = cls(np.empty(0, np.int64), np.empty((0, PDQ_BYTES), np.uint8))
        index.add(ids, hashes)
        return index

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None:
        hashes = as_hashes(hashes)
        ids = as_ids(ids, count=hashes.shape[0])
        keep = last_occurrences(ids)
        ids, hashes = ids[keep], hashes[keep]
        self.remove(ids)
        self._ids = np.concatenate((self._ids, ids))
        self._hashes = np.concatenate((self._hashes, hashes))

    def remove(self, ids: npt.ArrayLike) -> int:
        gone = np.isin(self._ids, unique_ids(ids))
        self._ids, self._hashes = self._ids[~gone], self._hashes[~gone]
        return int(np.count_nonzero(gone))

    def search(
        self, queries: npt.ArrayLike, max_distance: int = 31, *, dihedral: bool = False
    ) -> SearchResult:
        radius = check_max_distance(max_distance)
        if dihedral:
            return self.search(flatten_dihedral(queries), radius).best_per_query_and_id()
        array = as_hashes(queries, name="queries")
        parts: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.int64]]] = []
        block = max(1, _BLOCK_BYTES // max(1, PDQ_BYTES * len(self)))
        for first in range(0, array.shape[0], block):
            chunk = array[first : first + block]
            distances = np.bitwise_count(chunk[:, None, :] ^ self._hashes[None, :, :]).sum(
                axis=2, dtype=np.int64
            )
            query, row = np.nonzero(distances <= radius)
            parts.append((query + first, row, distances[query, row]))
        if not parts:
            return SearchResult.empty()
        query = np.concatenate([p[0] for p in parts])
        row = np.concatenate([p[1] for p in parts])
        distance = np.concatenate([p[2] for p in parts])
        return SearchResult.from_rows(query, self._ids[row], distance)

    def save(self, path: str | os.PathLike[str]) -> None:
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "ids.npy", self._ids, allow_pickle=False)
        np.save(directory / "hashes.npy", self._hashes, allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        directory = Path(path)
        ids = np.load(directory / "ids.npy", allow_pickle=False)
        hashes = np.load(directory / "hashes.npy", allow_pickle=False)
        return cls(as_ids(ids), as_hashes(hashes))
