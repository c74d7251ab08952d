"""The two halves of a PdqIndex: a large immutable main segment and a small delta.

The main segment holds the bulk of the bank in multi-index bucket tables (CSR arrays
built by counting sort), which are cheap to search and to memory-map but expensive to
change.  New hashes go to the delta segment, a plain append-only array that is scanned
in full on every search; when it grows past a limit the index merges both into a new
main segment.  Removal never touches the tables: it clears the row's ``live`` flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from reclaim.matching import kernels
from reclaim.matching.codec import PDQ_BYTES, HashArray, IdArray
from reclaim.matching.layout import Layout, ProbePlan

Rows = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]
Words = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]


def as_words(hashes: HashArray) -> Words:
    """View ``(n, 32)`` bytes as ``(n, 4)`` uint64 words, the kernels' format."""
    return hashes.view(np.uint64)


A = TypeVar("A", bound=npt.NDArray[np.generic])


def _readonly(array: A) -> A:
    # Built and memory-mapped main segments then share one compiled kernel signature
    # (numba specialises on writability), and nothing can change them by accident.
    array.flags.writeable = False
    return array


@dataclass(slots=True)
class MainSegment:
    """An immutable bank of hashes with its bucket tables and an id directory.

    ``sorted_ids``/``order`` map an id to its row (``order[k]`` is the row of the
    ``k``-th smallest id) without a Python dict, which at 10 million ids would cost
    gigabytes.  ``live`` is the only mutable part: the tombstones.
    """

    layout: Layout
    hashes: HashArray
    ids: IdArray
    sorted_ids: IdArray
    order: npt.NDArray[np.uint32]
    offsets: npt.NDArray[np.uint32]
    positions: npt.NDArray[np.uint32]
    live: BoolArray

    @classmethod
    def build(cls, ids: IdArray, hashes: HashArray, layout: Layout) -> MainSegment:
        """Index ``hashes`` (ids must already be distinct)."""
        n = ids.shape[0]
        if n >= np.iinfo(np.uint32).max:
            raise ValueError("one index holds fewer than 2**32 hashes")
        hashes = _readonly(np.array(hashes, dtype=np.uint8, order="C"))
        words = as_words(hashes)
        offsets = np.empty(layout.table_slots(), dtype=np.uint32)
        positions = np.empty((layout.count, n), dtype=np.uint32)
        bases = layout.table_bases()
        for j, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
            keys = kernels.table_keys(words, start, width)
            table = offsets[bases[j] : bases[j] + (1 << width) + 1]
            kernels.fill_table(keys, table, positions[j])
        order = np.argsort(ids, kind="stable")
        return cls(
            layout=layout,
            hashes=hashes,
            ids=_readonly(np.array(ids, dtype=np.int64)),
            sorted_ids=_readonly(ids[order]),
            order=_readonly(order.astype(np.uint32)),
            offsets=_readonly(offsets),
            positions=_readonly(positions),
            live=np.ones(n, dtype=bool),
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def live_count(self) -> int:
        return int(np.count_nonzero(self.live))

    def rows_of(self, ids: IdArray) -> npt.NDArray[np.int64]:
        """Rows of the given ids that are live here (ids not found are left out)."""
        if not len(self) or not ids.shape[0]:
            return np.empty(0, dtype=np.int64)
        at = np.searchsorted(self.sorted_ids, ids).clip(0, len(self) - 1)
        found = self.sorted_ids[at] == ids
        rows: npt.NDArray[np.int64] = self.order[at[found]].astype(np.int64)
        return rows[self.live[rows]]

    def search(self, queries: Words, plan: ProbePlan, max_distance: int) -> Rows:
        if not len(self):
            return _no_rows()
        words = as_words(self.hashes)
        if plan.scan:
            q, row, d = collect(
                queries.shape[0],
                lambda *out: kernels.scan(queries, words, self.live, max_distance, *out),
            )
        else:
            q, row, d = collect(
                queries.shape[0],
                lambda *out: kernels.probe(
                    queries,
                    words,
                    self.live,
                    self.layout.start_array,
                    self.layout.width_array,
                    self.layout.base_array,
                    self.offsets,
                    self.positions,
                    plan.radii,
                    plan.masks,
                    plan.mask_starts,
                    max_distance,
                    *out,
                ),
            )
        return q, self.ids[row], d


class DeltaSegment:
    """Recently added hashes, scanned in full; amortised O(1) appends.

    Rows are never reused: replacing or removing an id kills its row, and the dead rows
    disappear at the next merge.
    """

    def __init__(self) -> None:
        self._hashes = np.empty((0, PDQ_BYTES), dtype=np.uint8)
        self._ids = np.empty(0, dtype=np.int64)
        self._live = np.empty(0, dtype=bool)
        self._size = 0
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        """Live rows."""
        return len(self._row_of)

    @property
    def rows_used(self) -> int:
        return self._size

    def live_rows(self) -> tuple[IdArray, HashArray]:
        keep = np.flatnonzero(self._live[: self._size])
        return self._ids[keep], self._hashes[keep]

    def append(self, ids: IdArray, hashes: HashArray) -> None:
        """Add rows for ids that are not live anywhere (the caller removed them first)."""
        k = ids.shape[0]
        self._reserve(self._size + k)
        end = self._size + k
        self._hashes[self._size : end] = hashes
        self._ids[self._size : end] = ids
        self._live[self._size : end] = True
        self._row_of.update(zip(ids.tolist(), range(self._size, end), strict=True))
        self._size = end

    def remove(self, ids: IdArray) -> int:
        removed = 0
        for id_ in ids.tolist():
            row = self._row_of.pop(id_, None)
            if row is not None:
                self._live[row] = False
                removed += 1
        return removed

    def search(self, queries: Words, max_distance: int) -> Rows:
        if not self._row_of:
            return _no_rows()
        words = as_words(self._hashes[: self._size])
        live = self._live[: self._size]
        q, row, d = collect(
            queries.shape[0],
            lambda *out: kernels.scan(queries, words, live, max_distance, *out),
        )
        return q, self._ids[row], d

    def _reserve(self, size: int) -> None:
        capacity = self._ids.shape[0]
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 1024)
        hashes = np.empty((capacity, PDQ_BYTES), dtype=np.uint8)
        ids = np.empty(capacity, dtype=np.int64)
        live = np.zeros(capacity, dtype=bool)
        hashes[: self._size] = self._hashes[: self._size]
        ids[: self._size] = self._ids[: self._size]
        live[: self._size] = self._live[: self._size]
        self._hashes, self._ids, self._live = hashes, ids, live


#: Output rows reserved per query before a search; a search that finds more runs again.
ROWS_PER_QUERY = 32


def collect(queries: int, kernel: Callable[..., int]) -> Rows:
    """Run a search kernel with room for its matches, retrying once if it ran out."""
    capacity = max(ROWS_PER_QUERY * queries, 256)
    while True:
        out = _no_rows(capacity)
        count = kernel(*out)
        if count <= capacity:
            return out[0][:count], out[1][:count], out[2][:count]
        capacity = count


def _no_rows(size: int = 0) -> Rows:
    return np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int32)
