"""ExactIndex: equality lookups of MD5 or SHA-256 digests (the files' cryptographic hashes).

Digests are kept as fixed-width byte strings in one sorted numpy array (a lookup is a
binary search; 10 million SHA-256 digests take 400 MB, where a dict of bytes would take
several GB), with recent additions in a small dict until they are merged in.  As in
PdqIndex, ids are unique, adding an existing id replaces its digest, and removing an
unknown id does nothing; several ids may share one digest.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import IdArray, as_ids, last_occurrences, unique_ids
from reclaim.matching.result import SearchResult

MD5_BYTES = 16
SHA256_BYTES = 32


class ExactIndex:
    """Digest -> ids, for digests of one fixed size (16 for MD5, 32 for SHA-256)."""

    def __init__(self, digest_size: int, *, merge_limit: int = 50_000) -> None:
        if digest_size <= 0:
            raise ValueError("digest_size must be positive")
        self.digest_size = digest_size
        self._key_type = np.dtype((np.void, digest_size))
        self._merge_limit = merge_limit
        self._keys = np.empty(0, dtype=self._key_type)  # sorted
        self._ids = np.empty(0, dtype=np.int64)  # aligned with _keys
        self._live = np.empty(0, dtype=bool)
        self._sorted_ids = np.empty(0, dtype=np.int64)
        self._row_of_sorted = np.empty(0, dtype=np.int64)
        self._recent: dict[int, bytes] = {}
        self._recent_by_digest: dict[bytes, set[int]] = {}

    @classmethod
    def build(cls, ids: npt.ArrayLike, digests: npt.ArrayLike) -> Self:
        array = np.asarray(digests)
        if array.ndim != 2:
            raise ValueError(f"digests must have shape (n, size); got {array.shape}")
        index = cls(array.shape[1])
        index.add(ids, array)
        index.merge()
        return index

    def __len__(self) -> int:
        return int(np.count_nonzero(self._live)) + len(self._recent)

    def add(self, ids: npt.ArrayLike, digests: npt.ArrayLike) -> None:
        keys = self._as_keys(digests)
        id_array = as_ids(ids, count=keys.shape[0])
        keep = last_occurrences(id_array)
        id_array, keys = id_array[keep], keys[keep]
        self.remove(id_array)
        for id_, key in zip(id_array.tolist(), keys.tolist(), strict=True):
            self._recent[id_] = key
            self._recent_by_digest.setdefault(key, set()).add(id_)
        if len(self._recent) > self._merge_limit:
            self.merge()

    def remove(self, ids: npt.ArrayLike) -> int:
        wanted = unique_ids(ids)
        removed = 0
        if self._sorted_ids.shape[0] and wanted.shape[0]:
            at = np.searchsorted(self._sorted_ids, wanted).clip(0, self._sorted_ids.shape[0] - 1)
            rows = self._row_of_sorted[at[self._sorted_ids[at] == wanted]]
            rows = rows[self._live[rows]]
            self._live[rows] = False
            removed += int(rows.shape[0])
        for id_ in wanted.tolist():
            key = self._recent.pop(id_, None)
            if key is not None:
                holders = self._recent_by_digest[key]
                holders.discard(id_)
                if not holders:
                    del self._recent_by_digest[key]
                removed += 1
        return removed

    def lookup(self, digests: npt.ArrayLike) -> SearchResult:
        """Every (query, id) whose digest equals the query's; distances are all 0."""
        keys = self._as_keys(digests)
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        counts = hi - lo
        query = np.repeat(np.arange(keys.shape[0]), counts)
        # Row numbers lo..hi-1 of every query's run of equal keys, without a Python loop.
        run_starts = np.repeat(np.cumsum(counts) - counts, counts)
        rows = np.repeat(lo, counts) + (np.arange(query.shape[0]) - run_starts)
        alive = self._live[rows]
        query, ids = query[alive], self._ids[rows[alive]]
        extra = [
            (q, id_)
            for q, key in enumerate(keys.tolist())
            for id_ in self._recent_by_digest.get(key, ())
        ]
        if extra:
            query = np.concatenate((query, [q for q, _ in extra]))
            ids = np.concatenate((ids, [id_ for _, id_ in extra]))
        return SearchResult.from_rows(query, ids, np.zeros(ids.shape[0], dtype=np.int32))

    def items(self) -> tuple[IdArray, npt.NDArray[np.uint8]]:
        """Every live (id, digest) as ``(ids, digests)`` arrays, e.g. for saving.

        ``ExactIndex.build(*index.items())`` gives an index with the same contents.
        """
        self.merge()
        digests = self._keys.view(np.uint8).reshape(-1, self.digest_size)
        return self._ids.copy(), digests.copy()

    def merge(self) -> None:
        """Fold recent additions and removals into the sorted arrays."""
        live = np.flatnonzero(self._live)
        recent_ids = np.fromiter(self._recent.keys(), dtype=np.int64, count=len(self._recent))
        recent_keys = np.frombuffer(b"".join(self._recent.values()), dtype=self._key_type)
        keys = np.concatenate((self._keys[live], recent_keys))
        ids: IdArray = np.concatenate((self._ids[live], recent_ids))
        order = np.argsort(keys, kind="stable")
        self._keys, self._ids = keys[order], ids[order]
        self._live = np.ones(ids.shape[0], dtype=bool)
        self._row_of_sorted = np.argsort(self._ids, kind="stable")
        self._sorted_ids = self._ids[self._row_of_sorted]
        self._recent.clear()
        self._recent_by_digest.clear()

    def _as_keys(self, digests: npt.ArrayLike) -> npt.NDArray[np.void]:
        array = np.asarray(digests)
        if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != self.digest_size:
            raise ValueError(
                f"digests must be a uint8 array of shape (n, {self.digest_size}); "
                f"got {array.dtype} {array.shape}"
            )
        return np.ascontiguousarray(array).view(self._key_type).reshape(-1)


def hex_to_digests(hex_strings: list[str], digest_size: int) -> npt.NDArray[np.uint8]:
    """Parse MD5 (16) or SHA-256 (32) hex digests into a ``(n, size)`` uint8 array."""
    rows = []
    for text in hex_strings:
        if len(text) != 2 * digest_size:
            raise ValueError(f"expected {2 * digest_size} hex characters; got {text[:80]!r}")
        rows.append(bytes.fromhex(text))
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, digest_size).copy()
