"""The answer to a search: one row per (query, matching id), as three parallel arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import IdArray

DIHEDRAL_VARIANTS = 8


def flatten_dihedral(queries: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """``(q, 8, 32)`` rotations/flips of each query as ``(8q, 32)`` plain queries."""
    variants = np.asarray(queries)
    if variants.ndim != 3 or variants.shape[1] != DIHEDRAL_VARIANTS:
        raise ValueError(
            f"dihedral queries must have shape (q, {DIHEDRAL_VARIANTS}, 32), as "
            f"pdqhash.compute_dihedral gives them; got {variants.shape}"
        )
    return variants.reshape(-1, variants.shape[2])


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Matches of a batch of queries.

    Row ``k`` says that query ``query_index[k]`` matched the bank entry ``ids[k]`` at
    Hamming distance ``distances[k]``.  Rows are sorted by query, then distance, then id,
    so the best match of each query comes first and results compare equal across
    implementations.
    """

    query_index: npt.NDArray[np.int64]
    ids: IdArray
    distances: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def empty(cls) -> SearchResult:
        return cls(
            np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        )

    @classmethod
    def from_rows(
        cls,
        query_index: npt.NDArray[np.integer],
        ids: npt.NDArray[np.integer],
        distances: npt.NDArray[np.integer],
    ) -> SearchResult:
        """Sort rows into the canonical order (they arrive in probe order)."""
        q = query_index.astype(np.int64, copy=False)
        i = ids.astype(np.int64, copy=False)
        d = distances.astype(np.int32, copy=False)
        if i.shape[0] > 1:
            order = np.lexsort((i, d, q))
            q, i, d = q[order], i[order], d[order]
        return cls(q, i, d)

    def rows(self) -> set[tuple[int, int, int]]:
        """The result as a set of ``(query, id, distance)`` triples (handy in tests)."""
        return set(
            zip(self.query_index.tolist(), self.ids.tolist(), self.distances.tolist(), strict=True)
        )

    def best_per_query_and_id(self, variants: int = DIHEDRAL_VARIANTS) -> SearchResult:
        """Fold a search over ``variants`` rows per query back onto the original queries.

        A dihedral search runs the 8 rotations and flips of each query as 8 queries;
        the caller wants one row per (query, id), at the best distance of any variant.
        """
        query_index = self.query_index // variants
        order = np.lexsort((self.distances, self.ids, query_index))
        query_index, ids, distances = query_index[order], self.ids[order], self.distances[order]
        first = np.ones(ids.shape[0], dtype=bool)
        first[1:] = (query_index[1:] != query_index[:-1]) | (ids[1:] != ids[:-1])
        return SearchResult.from_rows(query_index[first], ids[first], distances[first])
