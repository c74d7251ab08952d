"""What every PDQ index in Reclaim offers: the contract PdqIndex and BruteForceIndex share."""

from __future__ import annotations

import os
from typing import Protocol, Self

import numpy.typing as npt

from reclaim.matching.result import SearchResult


class PdqMatcher(Protocol):
    """A bank of PDQ hashes, each under a unique int64 id, searchable by Hamming radius.

    - ``build(ids, hashes)``: ids ``(n,)`` int64, hashes ``(n, 32)`` uint8 (the bytes of
      the 64 hex characters).  A repeated id keeps its last hash.
    - ``search(queries, max_distance)``: every (query, id) within ``max_distance`` bits,
      ``0 <= max_distance <= 63`` (ValueError otherwise); ``dihedral=True`` takes the 8
      rotations/flips of each query, shape ``(q, 8, 32)``, and keeps the best distance.
    - ``add(ids, hashes)``: visible to the next search; an existing id's hash is replaced.
    - ``remove(ids)``: unknown ids are ignored; returns how many were removed.
    - ``save(path)`` / ``load(path)``: a directory of .npy files.
    """

    @classmethod
    def build(cls, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> Self: ...

    def __len__(self) -> int: ...

    def search(
        self, queries: npt.ArrayLike, max_distance: int = 31, *, dihedral: bool = False
    ) -> SearchResult: ...

    def add(self, ids: npt.ArrayLike, hashes: npt.ArrayLike) -> None: ...

    def remove(self, ids: npt.ArrayLike) -> int: ...

    def save(self, path: str | os.PathLike[str]) -> None: ...

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self: ...
