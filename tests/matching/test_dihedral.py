"""Dihedral matching on the public bridge photo in its 8 rotations and flips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from reclaim.matching import BruteForceIndex, PdqIndex, SearchResult
from tests.support.testdata import THREATEXCHANGE

DIHEDRAL = THREATEXCHANGE / "pdq" / "dih"
ORIGINAL = DIHEDRAL / "bridge-1-original.jpg"
OTHERS = sorted(p for p in DIHEDRAL.glob("bridge-*.jpg") if p != ORIGINAL)


def dihedral_hashes(path: Path) -> np.ndarray:
    """The 8 dihedral PDQ hashes of an image, as (8, 32) bytes (pdqhash's order)."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    hashes, _quality = pdqhash.compute_dihedral(pixels)
    return np.stack([np.packbits(np.asarray(h, dtype=np.uint8)) for h in hashes])


@pytest.fixture(scope="module")
def variants() -> np.ndarray:
    """(7, 8, 32): the dihedral hashes of each rotated or flipped copy."""
    if not ORIGINAL.is_file():
        pytest.fail(f"shared test media missing: {ORIGINAL}")
    return np.stack([dihedral_hashes(p) for p in OTHERS])


@pytest.fixture(scope="module")
def bank() -> tuple[np.ndarray, np.ndarray]:
    original = dihedral_hashes(ORIGINAL)[:1]  # the photo as it is
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(500, 32), dtype=np.uint8)
    return np.arange(501), np.concatenate([original, noise])


def test_every_rotation_and_flip_matches_with_dihedral(
    variants: np.ndarray, bank: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, hashes = bank
    for index in (PdqIndex.build(ids, hashes), BruteForceIndex.build(ids, hashes)):
        result = index.search(variants, 31, dihedral=True)
        assert sorted(zip(result.query_index.tolist(), result.ids.tolist(), strict=True)) == [
            (q, 0) for q in range(len(OTHERS))
        ]
        # One row per (query, id): the best of its 8 variants.
        best = variants[:, :, None, :] ^ hashes[0][None, None, None, :]
        expected = np.bitwise_count(best).sum(axis=-1).min(axis=(1, 2))
        assert result.distances.tolist() == expected.tolist()


def test_most_rotations_do_not_match_without_dihedral(
    variants: np.ndarray, bank: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, hashes = bank
    plain = PdqIndex.build(ids, hashes).search(variants[:, 0, :], 31)
    assert len(plain) <= 2  # only flips that barely change the picture may match


def test_dihedral_agrees_with_brute_force_on_random_variants() -> None:
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    queries = hashes[rng.integers(0, 3000, size=(10, 8))].copy()
    queries[:, :, :4] ^= rng.integers(0, 256, size=(10, 8, 4), dtype=np.uint8)
    ids = np.arange(3000) * 3
    fast = PdqIndex.build(ids, hashes).search(queries, 31, dihedral=True)
    slow = BruteForceIndex.build(ids, hashes).search(queries, 31, dihedral=True)
    assert fast.rows() == slow.rows()
    assert isinstance(fast, SearchResult)


def test_dihedral_queries_must_have_eight_variants() -> None:
    index = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match="dihedral"):
        index.search(np.zeros((2, 32), np.uint8), dihedral=True)
    with pytest.raises(ValueError, match="dihedral"):
        index.search(np.zeros((2, 7, 32), np.uint8), dihedral=True)
