"""Every PDQ hash the hotline holds, in the exact PDQ index, for "a similar picture in
another case".

The bank match engine holds bank entries; case media hashes are not all banked (an
undecided picture is not), so linkage keeps its own index of PDQ signal rows, keyed by
signal id.  Signal rows are never changed or deleted (a value is stored once), so
following them is reading the rows with an id above the last one seen.  The index may
hold bank-only signals too; a match only becomes a link when a media object of another
case carries it (a query in ``linking``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks.models import Signal as SignalRow
from reclaim.domain.signals import SignalType
from reclaim.matching import PdqIndex

SYNC_BATCH = 100_000


@dataclass(frozen=True, slots=True)
class SimilarSignal:
    query_index: int
    signal_id: int
    distance: int


class MediaPdqIndex:
    """PDQ signal rows in memory; thread-safe; follows the signals table."""

    def __init__(self) -> None:
        self._index = PdqIndex.build(np.empty(0, np.int64), np.empty((0, 32), np.uint8))
        self._position = 0
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._index)

    def sync(self, session: Session) -> int:
        """Add the PDQ signals stored since the last sync; how many."""
        with self._lock:
            ids: list[int] = []
            values: list[bytes] = []
            while True:
                rows = session.execute(
                    select(SignalRow.id, SignalRow.value)
                    .where(SignalRow.type == SignalType.PDQ, SignalRow.id > self._position)
                    .order_by(SignalRow.id)
                    .limit(SYNC_BATCH)
                ).all()
                if not rows:
                    break
                ids.extend(row[0] for row in rows)
                values.extend(bytes.fromhex(row[1]) for row in rows)
                self._position = rows[-1][0]
            if not ids:
                return 0
            hashes = np.frombuffer(b"".join(values), np.uint8).reshape(-1, 32)
            id_array = np.array(ids, np.int64)
            if len(self._index) == 0:  # first load: build the tables once, not by merging
                self._index = PdqIndex.build(id_array, hashes)
            else:
                self._index.add(id_array, hashes)
            return len(ids)

    def similar(self, pdq_hashes: list[str], max_distance: int) -> list[SimilarSignal]:
        """Signals within ``max_distance`` bits of each query (the query's own row too)."""
        if not pdq_hashes:
            return []
        queries = np.frombuffer(b"".join(bytes.fromhex(h) for h in pdq_hashes), np.uint8)
        with self._lock:
            found = self._index.search(queries.reshape(-1, 32), max_distance)
        return [
            SimilarSignal(int(q), int(i), int(d))
            for q, i, d in zip(found.query_index, found.ids, found.distances, strict=True)
        ]
