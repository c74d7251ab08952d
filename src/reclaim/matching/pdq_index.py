"""PdqIndex: exact Hamming-range search over a bank of PDQ hashes.

Exact means every bank hash within ``max_distance`` of a query is returned, always:
the multi-index tables are probed deeply enough that the pigeonhole principle rules
out a miss (see ``layout.py``), and :class:`~reclaim.matching.brute.BruteForceIndex`
is the reference the tests hold it to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

import numpy as np
import numpy.typing as npt

from reclaim.matching import persist
from reclaim.matching.codec import (
    IdArray,
    as_hashes,
    as_ids,
    check_max_distance,
    last_occurrences,
    unique_ids,
)
from reclaim.matching.layout import Layout, ProbePlan, make_plan
from reclaim.matching.result import SearchResult, flatten_dihedral
from reclaim.matching.segments import DeltaSegment, MainSegment, Words, as_words


@dataclass(frozen=True, slots=True)
class Tuning:
    """Knobs with sensible defaults; tests use them to force rarely taken paths.

    ``substrings``: how many substrings to cut hashes into (default: chosen by bank size).
    ``allow_scan``: scan the main segment when the cost model says probing costs more.
    ``delta_limit``: live added hashes kept outside the tables before they are merged in.
    ``dead_fraction``: removed rows of the main segment tolerated before a merge.
    """

    substrings: int | None = None
    allow_scan: bool = True
    delta_limit: int = 50_000
    dead_fraction: float = 0.25


class PdqIndex:
    """An exact PDQ index: multi-index hashing over a main segment, plus a scanned delta.

    ``add`` with an id already in the index replaces that id's hash (within one call the
    last occurrence wins).  ``remove`` ignores ids it does not hold.  Searches may run
    from several threads at once (the kernels release the GIL); ``add``, ``remove``
    and ``compact`` must not overlap with anything else.
    """

    def __init__(self, main: MainSegment, tuning: Tuning) -> None:
        self._main = main
        self._delta = DeltaSegment()
        self._tuning = tuning
        self._plans: dict[int, ProbePlan] = {}
        self._main_live = main.live_count()

    @classmethod
    def build(
        cls, ids: npt.ArrayLike, hashes: npt.ArrayLike, *, tuning: Tuning | None = None
    ) -> Self:
        tuning = tuning or Tuning()
        hashes = as_hashes(hashes)
        ids = as_ids(ids, count=hashes.shape[0])
        keep = last_occurrences(ids)
        if keep.shape[0] != ids.shape[0]:
            ids, hashes = ids[keep], hashes[keep]
        return cls(MainSegment.build(ids, hashes, _layout(tuning, ids.shape[0])), tuning)

    def __len__(self) -> int:
        return self._main_live + len(self._delta)

    def search(
        self, queries: npt.ArrayLike, max_distance: int = 31, *, dihedral: bool = False
    ) -> SearchResult:
        """Every (query, id) within ``max_distance`` (0..63) bits, best first per query.

        With ``dihedral=True`` the queries are shaped ``(q, 8, 32)``: the 8 rotations and
        flips of each image's hash, as ``pdqhash.compute_dihedral`` returns them.  A query
        then matches an id when any of its 8 variants does, at the best variant's distance.
        """
        radius = check_max_distance(max_distance)
        if dihedral:
            flat = _query_words(flatten_dihedral(queries))
            return self._search(flat, radius).best_per_query_and_id()
        return self._search(_query_words(queries), radius)

    def _search(self, queries: Words, radius: int) -> SearchResult:
        if not queries.shape[0]:
            return SearchResult.empty()
        q, ids, d = self._main.search(queries, self._plan(radius), radius)
        if len(self._delta):
            dq, dids, dd = self._delta.search(queries, radius)
            q, ids, d = (
                np.concatenate((q, dq)),
                np.concatenate((ids, dids)),
                np.concatenate((d, dd)),
            )
        return SearchResult.from_rows(q, ids, d)

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None:
        """Add hashes (replacing the hash of any id already present); searchable at once."""
        hashes = as_hashes(hashes)
        ids = as_ids(ids, count=hashes.shape[0])
        if not ids.shape[0]:
            return
        keep = last_occurrences(ids)
        if keep.shape[0] != ids.shape[0]:
            ids, hashes = ids[keep], hashes[keep]
        self._forget(ids)
        self._delta.append(ids, hashes)
        if len(self._delta) > self._tuning.delta_limit:
            self.compact()

    def remove(self, ids: npt.ArrayLike) -> int:
        """Remove ids; unknown ids are ignored.  Returns how many were removed."""
        removed = self._forget(unique_ids(ids))
        dead = len(self._main) - self._main_live
        if dead > self._tuning.dead_fraction * max(len(self._main), 1):
            self.compact()
        return removed

    def _forget(self, ids: IdArray) -> int:
        rows = self._main.rows_of(ids)
        self._main.live[rows] = False
        self._main_live -= rows.shape[0]
        return int(rows.shape[0]) + self._delta.remove(ids)

    def compact(self) -> None:
        """Merge the delta and drop removed rows: one full rebuild of the tables."""
        live = np.flatnonzero(self._main.live)
        delta_ids, delta_hashes = self._delta.live_rows()
        ids = np.concatenate((self._main.ids[live], delta_ids))
        hashes = np.concatenate((self._main.hashes[live], delta_hashes))
        self._main = MainSegment.build(ids, hashes, _layout(self._tuning, ids.shape[0]))
        self._main_live = ids.shape[0]
        self._delta = DeltaSegment()
        self._plans.clear()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to a directory of .npy files (created if missing)."""
        delta_ids, delta_hashes = self._delta.live_rows()
        persist.save(Path(path), self._main, delta_ids, delta_hashes)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, tuning: Tuning | None = None) -> Self:
        """Open a saved index; its large arrays are memory-mapped, not read."""
        main, delta_ids, delta_hashes = persist.load(Path(path))
        index = cls(main, tuning or Tuning())
        if delta_ids.shape[0]:
            index._delta.append(delta_ids, delta_hashes)
        return index

    def _plan(self, radius: int) -> ProbePlan:
        plan = self._plans.get(radius)
        if plan is None:
            plan = make_plan(self._main.layout, len(self._main), radius)
            if plan.scan and not self._tuning.allow_scan:
                plan = replace(plan, scan=False)
            self._plans[radius] = plan
        return plan


def _layout(tuning: Tuning, n: int) -> Layout:
    if tuning.substrings is not None:
        return Layout.split(tuning.substrings)
    return Layout.for_size(n)


def _query_words(queries: npt.ArrayLike) -> Words:
    array = as_hashes(queries, name="queries")
    if not array.flags.writeable:
        # One compiled kernel signature for all queries (numba specialises on it).
        array = array.copy()
    return as_words(array)
