"""Hex conversions, and the pigeonhole plan that makes the index exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.domain.signals import pdq_distance
from reclaim.matching import MAX_DISTANCE, hashes_to_hex, hex_to_hashes
from reclaim.matching.layout import Layout, flip_masks, make_plan, plan_radii

hex_hashes = st.lists(st.binary(min_size=32, max_size=32).map(bytes.hex), max_size=20)


@given(hex_hashes)
def test_hex_round_trip_keeps_the_written_byte_order(hexes: list[str]) -> None:
    array = hex_to_hashes(hexes)
    assert array.shape == (len(hexes), 32)
    assert hashes_to_hex(array) == hexes
    if hexes:
        assert array[0, 0] == int(hexes[0][:2], 16)  # big-endian as written


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_popcount_of_the_bytes_is_the_pdq_distance(a: bytes, b: bytes) -> None:
    x, y = hex_to_hashes([a.hex(), b.hex()])
    assert int(np.bitwise_count(x ^ y).sum()) == pdq_distance(a.hex(), b.hex())


@pytest.mark.parametrize("bad", ["ab", "g" * 64, "0" * 63, "0" * 65])
def test_bad_hex_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="PDQ"):
        hex_to_hashes([bad])


@settings(deadline=None)
@given(
    count=st.integers(11, 32),
    n=st.integers(0, 50_000_000),
    radius=st.integers(0, MAX_DISTANCE),
)
def test_radii_satisfy_the_pigeonhole_bound(count: int, n: int, radius: int) -> None:
    """sum(t_j + 1) >= r + 1: a hash within r bits is within t_j bits in some substring."""
    layout = Layout.split(count)
    assert sum(layout.widths) == 256
    assert layout.starts == tuple(int(s) for s in np.cumsum((0, *layout.widths[:-1])))
    radii, _ = plan_radii(layout, n, radius)
    assert sum(t + 1 for t in radii) >= radius + 1
    assert all(-1 <= t <= w for t, w in zip(radii, layout.widths, strict=True))


def test_flip_masks_enumerate_the_hamming_ball() -> None:
    masks = flip_masks(10, 2)
    assert len(masks) == 1 + 10 + 45 == len(set(masks.tolist()))
    assert all(bin(int(m)).count("1") <= 2 and int(m) < 1 << 10 for m in masks)


def test_layout_grows_with_the_bank_and_small_banks_are_scanned() -> None:
    widths = [max(Layout.for_size(n).widths) for n in (10**3, 10**5, 10**6, 10**7)]
    assert widths == sorted(widths)
    small = Layout.for_size(500)
    assert make_plan(small, 500, 31).scan
    assert not make_plan(Layout.for_size(10**6), 10**6, 31).scan
