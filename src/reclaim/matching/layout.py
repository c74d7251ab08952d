"""How the index splits 256 bits into substrings, and how deep it probes each one.

Multi-index hashing rests on the pigeonhole principle.  Cut the 256 bits into ``m``
substrings and give substring ``j`` a probe radius ``t_j``.  If a bank hash lies within
``r`` bits of the query, its ``r`` differing bits are shared among the substrings; if
every substring differed in more than ``t_j`` bits the total would be at least
``sum(t_j + 1)``.  So as long as ``sum(t_j + 1) >= r + 1``, some substring differs in at
most ``t_j`` bits, and probing every key within ``t_j`` bits of the query's substring in
table ``j`` (for every ``j``) finds every match.  A radius of ``-1`` skips a table.  This
is the "generalised pigeonhole" of Qin et al.; with 16 substrings and ``t_j = 1`` it is
the classic ``floor(31 / 16) = 1`` of FAISS's multi-hash index.

Which split and which radii are cheapest depends on the bank size: wide substrings mean
few candidates per probe but many probes.  A small cost model picks both, and says when
scanning every hash is cheaper (large radii on small banks).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import PDQ_BITS

#: Relative costs, measured with benchmarks/matching.py on a 2-core EPYC: one probe is a
#: cache miss into a bucket table; one candidate is a cache miss into the hashes plus
#: an XOR/popcount; scanning one hash in order costs a small fraction of a miss.
PROBE_COST = 0.5
CANDIDATE_COST = 1.0
SCAN_COST = 0.08

#: A w-bit substring needs an offsets table of 2**w + 1 entries (64 MiB at 24 bits); wider
#: tables would outweigh the bank itself.
MAX_WIDTH = 24
#: Offset-table entries allowed per banked hash (48 bytes), next to 4 bytes per hash per
#: table for the positions: at 10 M hashes this admits 11 tables of 23-24 bits.
SLOTS_PER_HASH = 12
MIN_SUBSTRINGS = 11
MAX_SUBSTRINGS = 32
#: The radius the layout is tuned for: PDQ's "confident match" threshold.
DESIGN_RADIUS = 31


@dataclass(frozen=True)
class Layout:
    """Substring ``j`` is bits ``starts[j] .. starts[j] + widths[j] - 1`` of the hash.

    Bits are numbered within the four little-endian ``uint64`` words the kernels read,
    so substrings may straddle two words.
    """

    starts: tuple[int, ...]
    widths: tuple[int, ...]

    @classmethod
    def split(cls, count: int) -> Layout:
        if not 1 <= count <= PDQ_BITS or -(-PDQ_BITS // count) > MAX_WIDTH:
            raise ValueError(f"cannot split {PDQ_BITS} bits into {count} substrings")
        widths = [PDQ_BITS // count + (1 if j < PDQ_BITS % count else 0) for j in range(count)]
        starts = [sum(widths[:j]) for j in range(count)]
        return cls(tuple(starts), tuple(widths))

    @classmethod
    def for_size(cls, n: int) -> Layout:
        """The split with the cheapest search at radius 31 whose tables fit the budget."""
        budget = max(SLOTS_PER_HASH * n, 1 << 17)
        best: tuple[float, Layout] | None = None
        for count in range(MIN_SUBSTRINGS, MAX_SUBSTRINGS + 1):
            layout = cls.split(count)
            if max(layout.widths) > MAX_WIDTH or layout.table_slots() > budget:
                continue
            cost = plan_radii(layout, n, DESIGN_RADIUS)[1]
            if best is None or cost < best[0]:
                best = (cost, layout)
        if best is None:  # unreachable: 32 substrings of 8 bits always fit the budget
            raise ValueError(f"no substring layout fits a bank of {n}")
        return best[1]

    @property
    def count(self) -> int:
        return len(self.widths)

    def table_slots(self) -> int:
        """Entries of all bucket-offset tables together (one per key, plus one)."""
        return sum((1 << w) + 1 for w in self.widths)

    def table_bases(self) -> npt.NDArray[np.int64]:
        """Where each table's offsets start in the one concatenated offsets array."""
        sizes = [(1 << w) + 1 for w in self.widths]
        return np.cumsum([0, *sizes[:-1]]).astype(np.int64)

    # The kernels take these as arrays; building them on every search would cost more
    # than a small search itself.
    @functools.cached_property
    def start_array(self) -> npt.NDArray[np.int64]:
        return np.array(self.starts, dtype=np.int64)

    @functools.cached_property
    def width_array(self) -> npt.NDArray[np.int64]:
        return np.array(self.widths, dtype=np.int64)

    @functools.cached_property
    def base_array(self) -> npt.NDArray[np.int64]:
        return self.table_bases()


@functools.lru_cache(maxsize=256)
def flip_masks(width: int, radius: int) -> npt.NDArray[np.uint64]:
    """Every ``width``-bit mask with at most ``radius`` bits set, fewest bits first."""
    masks = [0]
    for bits in range(1, min(radius, width) + 1):
        for chosen in itertools.combinations(range(width), bits):
            masks.append(sum(1 << b for b in chosen))
    array = np.array(masks, dtype=np.uint64)
    array.flags.writeable = False
    return array


def _probes(width: int, radius: int) -> int:
    return sum(_binomial(width, k) for k in range(min(radius, width) + 1))


def _binomial(n: int, k: int) -> int:
    return int(
        np.prod(range(n - k + 1, n + 1), dtype=object) // np.prod(range(1, k + 1), dtype=object)
    )


def _table_cost(width: int, radius: int, n: int) -> float:
    if radius < 0:
        return 0.0
    return _probes(width, radius) * (PROBE_COST + CANDIDATE_COST * n / (1 << width))


def plan_radii(layout: Layout, n: int, max_distance: int) -> tuple[tuple[int, ...], float]:
    """Cheapest per-table radii with ``sum(t_j + 1) >= max_distance + 1``, and their cost.

    Raising one table's radius by one adds one to the sum, so the cheapest plan is built
    greedily: ``max_distance + 1`` times, raise the table whose next step costs least.
    Each table's cost grows faster with every step (binomial growth), so greedy is optimal.
    """
    radii = [-1] * layout.count
    widths = layout.widths
    steps = [_table_cost(w, 0, n) for w in widths]  # the cost of each table's next step
    for _ in range(max_distance + 1):
        j = steps.index(min(steps))
        radii[j] += 1
        steps[j] = _table_cost(widths[j], radii[j] + 1, n) - _table_cost(widths[j], radii[j], n)
    cost = sum(_table_cost(w, t, n) for w, t in zip(layout.widths, radii, strict=True))
    return tuple(radii), cost


@dataclass(frozen=True, slots=True)
class ProbePlan:
    """What one search does: scan everything, or probe each table to its radius.

    ``masks[mask_starts[j]:mask_starts[j + 1]]`` are the keys XORed into the query's
    substring ``j``; an empty range skips the table.
    """

    scan: bool
    radii: npt.NDArray[np.int64]
    masks: npt.NDArray[np.uint64]
    mask_starts: npt.NDArray[np.int64]


def make_plan(layout: Layout, n: int, max_distance: int) -> ProbePlan:
    radii, cost = plan_radii(layout, n, max_distance)
    per_table = [
        flip_masks(w, t) if t >= 0 else np.empty(0, np.uint64)
        for w, t in zip(layout.widths, radii, strict=True)
    ]
    starts = np.cumsum([0] + [m.shape[0] for m in per_table]).astype(np.int64)
    return ProbePlan(
        scan=cost > SCAN_COST * n,
        radii=np.array(radii, dtype=np.int64),
        masks=np.concatenate(per_table),
        mask_starts=starts,
    )
