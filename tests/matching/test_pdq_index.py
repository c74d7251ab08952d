"""PdqIndex agrees with BruteForceIndex on every input (the fast path and its slow twin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.matching import BruteForceIndex, PdqIndex, SearchResult, Tuning
from tests.support.hash_banks import Bank, clustered_banks, flip_bits, make_bank, random_banks

# Small banks would be scanned (the cost model's choice); these force the bucket tables,
# with splits that give buckets of very different sizes, substrings straddling words,
# and a tiny delta so that merges happen inside the tests.
TUNINGS = [
    None,
    Tuning(substrings=11, allow_scan=False),
    Tuning(substrings=16, allow_scan=False, delta_limit=40),
    Tuning(substrings=23, allow_scan=False),
    Tuning(substrings=32, allow_scan=False, delta_limit=7, dead_fraction=0.05),
]
tunings = st.sampled_from(TUNINGS)
radii = st.sampled_from([0, 1, 7, 15, 16, 30, 31, 32, 33, 47, 63])
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(fast: SearchResult, slow: SearchResult) -> None:
    assert fast.rows() == slow.rows()
    # Canonical order too: rows sorted by query, distance, id.
    assert np.array_equal(fast.query_index, slow.query_index)
    assert np.array_equal(fast.ids, slow.ids)
    assert np.array_equal(fast.distances, slow.distances)


@FAST
@given(bank=random_banks | clustered_banks, tuning=tunings, radius=radii)
def test_search_matches_brute_force(bank: Bank, tuning: Tuning | None, radius: int) -> None:
    fast = PdqIndex.build(bank.ids, bank.hashes, tuning=tuning)
    slow = BruteForceIndex.build(bank.ids, bank.hashes)
    same(fast.search(bank.queries, radius), slow.search(bank.queries, radius))
    assert len(fast) == len(slow) == bank.ids.shape[0]


@FAST
@given(bank=clustered_banks, tuning=tunings)
def test_boundary_distances_31_and_32(bank: Bank, tuning: Tuning | None) -> None:
    rng = np.random.default_rng(len(bank.ids))
    members = bank.hashes[rng.integers(0, bank.hashes.shape[0], size=16)]
    queries = flip_bits(members, np.array([31, 32] * 8), rng)
    fast = PdqIndex.build(bank.ids, bank.hashes, tuning=tuning)
    slow = BruteForceIndex.build(bank.ids, bank.hashes)
    for radius in (30, 31, 32):
        same(fast.search(queries, radius), slow.search(queries, radius))


operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "readd", "unknown", "replace"]), st.integers()),
    min_size=1,
    max_size=12,
)


@FAST
@given(bank=clustered_banks, tuning=tunings, steps=operations, radius=radii)
def test_adds_and_removes_match_brute_force(
    bank: Bank, tuning: Tuning | None, steps: list[tuple[str, int]], radius: int
) -> None:
    half = bank.ids.shape[0] // 2
    fast = PdqIndex.build(bank.ids[:half], bank.hashes[:half], tuning=tuning)
    slow = BruteForceIndex.build(bank.ids[:half], bank.hashes[:half])
    pending = list(range(half, bank.ids.shape[0]))
    removed: list[int] = []
    for kind, salt in steps:
        rng = np.random.default_rng(salt % 2**32)
        if kind == "add" and pending:
            take = pending[: int(rng.integers(1, 60))]
            pending = pending[len(take) :]
            ids, hashes = bank.ids[take], bank.hashes[take]
        elif kind == "replace" and len(slow):
            # Existing ids with new hashes, and the same id twice in one batch.
            ids = rng.choice(bank.ids[:half], size=5)
            hashes = flip_bits(bank.hashes[:5], rng.integers(0, 30, 5), rng)
        elif kind == "readd" and removed:
            ids = np.array(removed[-3:])
            hashes = bank.queries[: ids.shape[0]]
        else:
            ids, hashes = None, None
        if ids is not None and hashes is not None:
            fast.add(ids, hashes)
            slow.add(ids, hashes)
        if kind in ("remove", "unknown"):
            victims = rng.choice(bank.ids, size=8)
            if kind == "unknown":
                victims = np.concatenate([victims, [-(10**15), 10**15 + salt % 1000]])
            removed += victims.tolist()
            assert fast.remove(victims) == slow.remove(victims)
        assert len(fast) == len(slow)
        same(fast.search(bank.queries, radius), slow.search(bank.queries, radius))


@FAST
@given(bank=random_banks | clustered_banks, tuning=tunings)
def test_save_and_load_keep_results(
    bank: Bank, tuning: Tuning | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("index")
    fast = PdqIndex.build(bank.ids, bank.hashes, tuning=tuning)
    slow = BruteForceIndex.build(bank.ids, bank.hashes)
    # Leave work in the delta and tombstones in the tables: both must survive a save.
    fast.remove(bank.ids[:3])
    slow.remove(bank.ids[:3])
    fast.add([7, 8], bank.queries[:2])
    slow.add([7, 8], bank.queries[:2])
    fast.save(path)
    loaded = PdqIndex.load(path, tuning=tuning)
    assert len(loaded) == len(slow)
    same(loaded.search(bank.queries, 31), slow.search(bank.queries, 31))
    loaded.add([9], bank.queries[2:3])
    slow.add([9], bank.queries[2:3])
    victims = [7, *bank.ids[-1:].tolist()]
    loaded.remove(victims)
    slow.remove(victims)
    same(loaded.search(bank.queries, 40), slow.search(bank.queries, 40))


def test_loaded_index_is_memory_mapped(tmp_path: Path) -> None:
    bank = make_bank(1, 500, 1, 50)
    PdqIndex.build(bank.ids, bank.hashes).save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert isinstance(loaded._main.positions, np.memmap)
    assert isinstance(loaded._main.hashes, np.memmap)


def test_saving_over_the_directory_it_was_loaded_from(tmp_path: Path) -> None:
    bank = make_bank(2, 800, 2, 40)
    PdqIndex.build(bank.ids, bank.hashes, tuning=TUNINGS[2]).save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    loaded.remove(bank.ids[:10])
    loaded.save(tmp_path)  # replaces files that ``loaded`` itself maps
    expected = BruteForceIndex.build(bank.ids[10:], bank.hashes[10:])
    same(loaded.search(bank.queries), expected.search(bank.queries))
    same(PdqIndex.load(tmp_path).search(bank.queries), expected.search(bank.queries))


def test_large_bank_with_crowded_buckets() -> None:
    """20,000 hashes in 8-bit substrings: ~80 rows per bucket, and big clusters."""
    bank = make_bank(3, 14_000, 6, 1_000)
    slow = BruteForceIndex.build(bank.ids, bank.hashes)
    for tuning in (Tuning(substrings=32, allow_scan=False), None):
        fast = PdqIndex.build(bank.ids, bank.hashes, tuning=tuning)
        for radius in (0, 31, 32, 63):
            same(fast.search(bank.queries, radius), slow.search(bank.queries, radius))


def test_a_search_with_more_matches_than_reserved_rows() -> None:
    """Thousands of matches for one query: the kernel's output buffers must regrow."""
    base = np.zeros((1, 32), dtype=np.uint8)
    rng = np.random.default_rng(4)
    hashes = flip_bits(np.repeat(base, 3000, axis=0), rng.integers(0, 10, 3000), rng)
    ids = np.arange(3000)
    fast = PdqIndex.build(ids, hashes, tuning=Tuning(substrings=16, allow_scan=False))
    result = fast.search(base, 31)
    same(result, BruteForceIndex.build(ids, hashes).search(base, 31))
    assert len(result) == 3000


def test_duplicate_ids_keep_the_last_hash() -> None:
    hashes = np.zeros((3, 32), dtype=np.uint8)
    hashes[1, 0] = 0xFF  # 8 bits from zero
    hashes[2, 0] = 0x01  # 1 bit
    index = PdqIndex.build([5, 5, 6], hashes[:3])
    zero = np.zeros((1, 32), dtype=np.uint8)
    assert index.search(zero, 10).rows() == {(0, 5, 8), (0, 6, 1)}
    assert len(index) == 2
    index.add([6, 6], np.stack([hashes[1], hashes[0]]))
    assert index.search(zero, 10).rows() == {(0, 5, 8), (0, 6, 0)}


def test_empty_index_and_empty_queries() -> None:
    empty = PdqIndex.build(np.empty(0, np.int64), np.empty((0, 32), np.uint8))
    assert len(empty) == 0
    assert len(empty.search(np.zeros((3, 32), np.uint8))) == 0
    empty.add([1], np.zeros((1, 32), np.uint8))
    assert empty.search(np.zeros((1, 32), np.uint8)).rows() == {(0, 1, 0)}
    assert len(empty.search(np.empty((0, 32), np.uint8))) == 0


@pytest.mark.parametrize("radius", [-1, 64, 256, 3.0, True, "31"])
def test_max_distance_out_of_range(radius: object) -> None:
    index = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match="max_distance"):
        index.search(np.zeros((1, 32), np.uint8), radius)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ids", "hashes"),
    [
        ([1, 2], np.zeros((1, 32), np.uint8)),  # lengths differ
        ([1], np.zeros((1, 31), np.uint8)),  # not 32 bytes
        ([1], np.zeros((1, 32), np.int64)),  # not bytes
        ([1.5], np.zeros((1, 32), np.uint8)),  # ids not integers
    ],
)
def test_bad_input_is_refused(ids: object, hashes: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"ids|hashes|uint8"):
        PdqIndex.build(ids, hashes)  # type: ignore[arg-type]


def test_load_refuses_a_directory_without_an_index(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no saved PDQ index"):
        PdqIndex.load(tmp_path)
