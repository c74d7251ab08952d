"""Compiled inner loops of the PDQ index (numba, cached on disk, GIL released).

Hashes are read as four native ``uint64`` words per row (``words``), so verifying a
candidate is four XORs and four POPCNTs.  The search kernels write matches into the
caller's arrays ``(query, row, distance)`` and return how many there are; when that is
more than the arrays hold, the extra matches are counted but not written, and the caller
runs the search again with room for all (see ``segments.collect``).

Why not grow the arrays inside the kernel: numba reference-counts every array variable
that is reassigned in a loop, with atomic instructions on each iteration, and an atomic
instruction waits for all outstanding memory loads, which would serialise exactly the
cache misses these loops are built to overlap (it made scans 50x slower).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reclaim.matching._jit import njit, popcount64, prefetch

# numba types arithmetic between uint64 and int64 as float64, so every constant that
# meets a hash word is a uint64.
_ONE = np.uint64(1)
_SIXTY_FOUR = np.uint64(64)


@njit
def _word(x0: Any, x1: Any, x2: Any, x3: Any, word: int) -> Any:
    if word == 0:
        return x0
    if word == 1:
        return x1
    if word == 2:
        return x2
    return x3


@njit
def _substring(  # noqa: PLR0917 - kernels pass words as scalars (see below)
    x0: Any, x1: Any, x2: Any, x3: Any, start: int, width: int
) -> Any:
    """Bits ``start .. start + width - 1`` of the 256-bit value ``x0 x1 x2 x3``.

    The words come as scalars, not as a row view: a view of a numba array carries a
    reference count, and its atomic increments fence memory, which would serialise the
    very cache misses the search overlaps.
    """
    word = start >> 6
    offset = np.uint64(start & 63)
    value = _word(x0, x1, x2, x3, word) >> offset
    if offset + np.uint64(width) > _SIXTY_FOUR:
        value |= _word(x0, x1, x2, x3, word + 1) << (_SIXTY_FOUR - offset)
    return value & ((_ONE << np.uint64(width)) - _ONE)


@njit
def table_keys(words: Any, start: int, width: int) -> Any:
    """Substring ``start/width`` of every row, as the bucket key of one table."""
    n = words.shape[0]
    keys = np.empty(n, np.uint32)
    for i in range(n):
        keys[i] = _substring(words[i, 0], words[i, 1], words[i, 2], words[i, 3], start, width)
    return keys


@njit
def fill_table(keys: Any, offsets: Any, positions: Any) -> None:
    """Counting sort of rows by key: CSR ``offsets`` (2**width + 1) and ``positions``.

    Rows of one bucket end up in ascending order, so a bucket's candidates are read
    front to back through the hash array.
    """
    offsets[:] = 0
    for i in range(keys.shape[0]):
        offsets[keys[i] + 1] += 1
    for k in range(1, offsets.shape[0]):
        offsets[k] += offsets[k - 1]
    cursor = offsets[:-1].copy()
    for i in range(keys.shape[0]):
        k = keys[i]
        positions[cursor[k]] = i
        cursor[k] += 1


CHUNK = 4096
"""Candidates gathered before they are verified: enough to keep hundreds of cache misses
in flight, few enough that their prefetched lines are still in L2 when verified."""


@njit
def probe(  # noqa: C901, PLR0912, PLR0915, PLR0917 - one compiled loop nest, arrays positional
    queries: Any,
    words: Any,
    live: Any,
    starts: Any,
    widths: Any,
    bases: Any,
    offsets: Any,
    positions: Any,
    radii: Any,
    masks: Any,
    mask_starts: Any,
    max_distance: int,
    out_query: Any,
    out_row: Any,
    out_distance: Any,
) -> int:
    """Multi-index search: every live row within ``max_distance`` of each query.

    Table ``j`` is probed at every key within ``radii[j]`` bits of the query's substring.
    A match can sit in the probed buckets of several tables; it is reported only from
    the first table whose radius it falls within, which avoids a seen-set per query.

    The work is done in passes over small buffers (slots, bucket bounds, candidate rows,
    verification) rather than one nested loop: almost every load here misses the cache,
    and each pass requests the lines the next pass reads (prefetch), so the memory
    system serves hundreds of misses at once instead of one after another.
    """
    capacity = out_row.shape[0]
    count = 0
    tables = starts.shape[0]
    n = words.shape[0]
    probes = mask_starts[tables]
    slots = np.empty(probes, np.int64)
    bucket_lo = np.empty(probes, np.int64)
    bucket_hi = np.empty(probes, np.int64)
    bucket_table = np.empty(probes, np.int64)
    candidates = np.empty(CHUNK, np.int64)
    candidate_table = np.empty(CHUNK, np.int64)
    offsets_address = offsets.ctypes.data
    positions_address = positions.ctypes.data
    words_address = words.ctypes.data
    for qi in range(queries.shape[0]):
        x0, x1, x2, x3 = queries[qi, 0], queries[qi, 1], queries[qi, 2], queries[qi, 3]
        # Pass 1: every probed slot of every table, with its cache line requested.
        k = 0
        for j in range(tables):
            key = _substring(x0, x1, x2, x3, starts[j], widths[j])
            base = bases[j]
            for mi in range(mask_starts[j], mask_starts[j + 1]):
                slot = base + np.int64(key ^ masks[mi])
                slots[k] = slot
                prefetch(offsets_address + 4 * slot)
                k += 1
        # Pass 2: the bounds of each bucket.  Empty ones are dropped without a branch
        # (the next probe overwrites them); the start of each kept bucket is requested.
        buckets = 0
        j = 0
        for k in range(probes):
            while k >= mask_starts[j + 1]:
                j += 1
            slot = slots[k]
            lo = np.int64(offsets[slot])
            hi = np.int64(offsets[slot + 1])
            bucket_lo[buckets] = lo
            bucket_hi[buckets] = hi
            bucket_table[buckets] = j
            prefetch(positions_address + 4 * (j * n + lo))
            buckets += int(hi > lo)
        b = 0
        p = bucket_lo[0] if buckets else 0
        while b < buckets:
            # Pass 3: up to CHUNK rows from the buckets, each row's hash requested.
            found = 0
            while b < buckets and found < CHUNK:
                j = bucket_table[b]
                take = min(bucket_hi[b] - p, CHUNK - found)
                for t in range(take):
                    row = np.int64(positions[j, p + t])
                    prefetch(words_address + 32 * row)
                    candidates[found + t] = row
                    candidate_table[found + t] = j
                found += take
                p += take
                if p == bucket_hi[b]:
                    b += 1
                    if b < buckets:
                        p = bucket_lo[b]
            # Pass 4: verify each candidate on the full 256 bits.
            for c in range(found):
                row = candidates[c]
                y0, y1, y2, y3 = words[row, 0], words[row, 1], words[row, 2], words[row, 3]
                d = np.int64(
                    popcount64(x0 ^ y0)
                    + popcount64(x1 ^ y1)
                    + popcount64(x2 ^ y2)
                    + popcount64(x3 ^ y3)
                )
                if d > max_distance or not live[row]:
                    continue
                if _found_earlier(
                    x0 ^ y0, x1 ^ y1, x2 ^ y2, x3 ^ y3, candidate_table[c], starts, widths, radii
                ):
                    continue
                if count < capacity:
                    out_query[count] = qi
                    out_row[count] = row
                    out_distance[count] = d
                count += 1
    return count


@njit
def _found_earlier(  # noqa: PLR0917 - compiled helper, scalars positional
    z0: Any, z1: Any, z2: Any, z3: Any, table: int, starts: Any, widths: Any, radii: Any
) -> bool:
    """Whether a table before ``table`` also holds this match (``z`` = query XOR row)."""
    for i in range(table):
        if radii[i] >= 0:
            diff = _substring(z0, z1, z2, z3, starts[i], widths[i])
            if np.int64(popcount64(diff)) <= radii[i]:
                return True
    return False


@njit
def scan(  # noqa: PLR0917 - compiled kernel, arrays positional
    queries: Any,
    words: Any,
    live: Any,
    max_distance: int,
    out_query: Any,
    out_row: Any,
    out_distance: Any,
) -> int:
    """Brute force over ``words`` in order: for the delta segment and for huge radii."""
    capacity = out_row.shape[0]
    count = 0
    for qi in range(queries.shape[0]):
        x0, x1, x2, x3 = queries[qi, 0], queries[qi, 1], queries[qi, 2], queries[qi, 3]
        for row in range(words.shape[0]):
            d = np.int64(
                popcount64(x0 ^ words[row, 0])
                + popcount64(x1 ^ words[row, 1])
                + popcount64(x2 ^ words[row, 2])
                + popcount64(x3 ^ words[row, 3])
            )
            if d <= max_distance and live[row]:
                if count < capacity:
                    out_query[count] = qi
                    out_row[count] = row
                    out_distance[count] = d
                count += 1
    return count
