"""The fast path against the reference: the compiled PDQ, and what reduced decoding costs.

Two claims are tested separately.  The compiled PDQ (``pdq_luma``) is Meta's algorithm:
given the same luminance it produces the same hash and quality as ``pdqhash``, and the
same eight dihedral hashes.  The fast path as a whole (JPEG's Y channel decoded at
reduced scale) is close to the reference, on the shared test media and on synthetic
photos large enough for libjpeg to scale: at most 8 bits apart at the 99th percentile,
2 on average, and no pair that the reference matches at distance 31 lost.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from reclaim.domain.signals import pdq_distance
from reclaim.hashing import (
    CorruptFileError,
    HashingLimits,
    HashRequest,
    ImageHashes,
    ImageTooLargeError,
    hash_bytes,
    hash_file,
)
from reclaim.hashing.pdq import bits_to_hex
from reclaim.hashing.pdq_luma import coefficients_to_hex, dihedral_coefficients, pdq_coefficients
from tests.support.media import png_claiming
from tests.support.photos import photo_jpeg
from tests.support.testdata import PDQ_IMAGES, pdq_reference

FAST = HashRequest()
REFERENCE = pdq_reference()
MATCH_DISTANCE = 31
#: Synthetic photos: (seed, megapixels).  The 6 MP ones are decoded by libjpeg at 1/2
#: scale (768 pixels a side or more), which the shared media are too small for; larger
#: reductions (12-24 MP) are measured by benchmarks/scan.py, too slow to build here.
PHOTOS = ((1, 0.3), (2, 2.0), (3, 6.0), (4, 6.0))


def fast_file(path: Path, request: HashRequest = FAST) -> ImageHashes:
    result = hash_file(path, HashingLimits(), request=request)
    assert isinstance(result, ImageHashes)
    return result


def percentile_99(values: list[int]) -> float:
    return float(np.percentile(values, 99))


@pytest.mark.parametrize("size", [(1004, 1600), (37, 61), (5, 5), (512, 300)])
def test_the_compiled_pdq_is_meta_pdq_given_the_same_luminance(size: tuple[int, int]) -> None:
    with Image.open(PDQ_IMAGES / "bridge-mods" / "aaa-orig.jpg") as image:
        grey = np.asarray(image.convert("L").resize(size[::-1]))
    bits, quality = pdqhash.compute(np.stack([grey] * 3, axis=2))
    coefficients, ours = pdq_coefficients(grey)
    assert coefficients_to_hex(coefficients) == bits_to_hex(bits)
    assert ours == quality


def test_the_dihedral_hashes_come_from_the_coefficients_as_meta_computes_them() -> None:
    with Image.open(PDQ_IMAGES / "bridge-mods" / "aaa-orig.jpg") as image:
        grey = np.asarray(image.convert("L"))
    all_bits, _ = pdqhash.compute_dihedral(np.stack([grey] * 3, axis=2))
    coefficients, _ = pdq_coefficients(grey)
    ours = [coefficients_to_hex(c) for c in dihedral_coefficients(coefficients)]
    assert ours == [bits_to_hex(bits) for bits in all_bits]


def test_too_small_a_picture_has_quality_zero_like_pdq() -> None:
    _, quality = pdq_coefficients(np.zeros((4, 100), dtype=np.uint8))
    assert quality == 0


def test_the_shared_media_agree_with_the_reference() -> None:
    fast = {row.path: fast_file(PDQ_IMAGES / row.path) for row in REFERENCE}
    distances = [pdq_distance(fast[row.path].pdq.value, row.pdq_rgb) for row in REFERENCE]
    assert percentile_99(distances) <= 8
    assert statistics.mean(distances) <= 2
    for row in REFERENCE:
        assert fast[row.path].md5 == row.md5
        assert fast[row.path].sha256 == row.sha256
        assert abs(fast[row.path].pdq.quality - row.quality_rgb) <= 10, row.path
    # A fast hash is looked up among banked reference hashes: every pair the
    # reference matches must still match (bridge edits, rotations re-encoded...).
    lost = [
        (a.path, b.path)
        for a, b in itertools.permutations(REFERENCE, 2)
        if pdq_distance(a.pdq_rgb, b.pdq_rgb) <= MATCH_DISTANCE
        and pdq_distance(fast[a.path].pdq.value, b.pdq_rgb) > MATCH_DISTANCE
    ]
    assert lost == []


def test_synthetic_photos_decoded_at_reduced_scale_agree_with_the_reference() -> None:
    limits = HashingLimits()
    distances = []
    for seed, megapixels in PHOTOS:
        data = photo_jpeg(seed, megapixels)
        reference = hash_bytes(data, limits)
        fast = hash_bytes(data, limits, request=FAST)
        assert isinstance(reference, ImageHashes)
        assert isinstance(fast, ImageHashes)
        assert (fast.width, fast.height, fast.md5) == (
            reference.width,
            reference.height,
            reference.md5,
        )
        distances.append(pdq_distance(fast.pdq.value, reference.pdq.value))
    assert max(distances) <= 8
    assert statistics.mean(distances) <= 2 * 2  # a handful of samples: twice the bound


def test_dihedral_and_compatibility_hashes_only_on_request() -> None:
    plain = fast_file(PDQ_IMAGES / "misc-images" / "modes" / "CMYK.jpg")
    assert plain.dihedral is None
    assert plain.pdq_threatexchange is None
    asked = fast_file(
        PDQ_IMAGES / "misc-images" / "modes" / "CMYK.jpg",
        HashRequest(dihedral=True, compatibility=True),
    )
    reference = hash_file(PDQ_IMAGES / "misc-images" / "modes" / "CMYK.jpg", HashingLimits())
    assert isinstance(reference, ImageHashes)
    assert asked.pdq_threatexchange == reference.pdq_threatexchange
    assert asked.dihedral is not None
    assert reference.dihedral is not None
    for ours, theirs in zip(asked.dihedral.hashes(), reference.dihedral.hashes(), strict=True):
        assert pdq_distance(ours.value, theirs.value) <= 8


def test_the_rotated_files_match_the_dihedral_hashes_of_the_original() -> None:
    original = fast_file(PDQ_IMAGES / "dih" / "bridge-1-original.jpg", HashRequest(dihedral=True))
    assert original.dihedral is not None
    names = sorted(path.name for path in (PDQ_IMAGES / "dih").glob("bridge-*.jpg"))
    for name, variant in zip(names, original.dihedral.hashes(), strict=True):
        rotated = fast_file(PDQ_IMAGES / "dih" / name)
        assert pdq_distance(rotated.pdq.value, variant.value) <= 10, name


def test_exact_keeps_the_reference_path() -> None:
    path = PDQ_IMAGES / "bridge-mods" / "sharpen-a-lot.jpg"
    assert fast_file(path, HashRequest(exact=True)) == hash_file(path, HashingLimits())


def test_hostile_images_are_refused_on_the_fast_path_too() -> None:
    with pytest.raises(ImageTooLargeError):
        hash_bytes(png_claiming(100_000, 100_000), HashingLimits(), request=FAST)
    truncated = photo_jpeg(5, 0.3)[:2000]
    with pytest.raises(CorruptFileError):
        hash_bytes(truncated, HashingLimits(), request=FAST)
