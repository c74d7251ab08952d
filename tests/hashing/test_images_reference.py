"""Images against Meta's reference hashes (``pdq/reference.tsv``).

The acceptance rule: ``pdq`` is the PDQ of the picture (``pdq_rgb``/``quality_rgb``),
MD5 and SHA-256 are the file's, and ``pdq_threatexchange`` carries the hash
python-threatexchange computes (``pdq``/``quality``) exactly where that differs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.domain.signals import Signal, SignalType, pdq_distance
from reclaim.hashing import HashingLimits, ImageHashes, PdqHash, hash_bytes, hash_file
from reclaim.hashing.pdq import bits_to_hex
from tests.support.testdata import PDQ_IMAGES, PdqReference, pdq_reference

REFERENCE = pdq_reference()
BY_PATH = {row.path: row for row in REFERENCE}
DIHEDRAL_FILES = (
    "dih/bridge-1-original.jpg",
    "dih/bridge-2-rotate-90.jpg",
    "dih/bridge-3-rotate-180.jpg",
    "dih/bridge-4-rotate-270.jpg",
    "dih/bridge-5-flipx.jpg",
    "dih/bridge-6-flipy.jpg",
    "dih/bridge-7-flip-plus-1.jpg",
    "dih/bridge-8-flip-minus-1.jpg",
)
# PDQ's documentation asks ports to stay within this distance of the reference for
# pictures of quality 80 or more; a re-encoded rotation is held to the same bound.
PDQ_PORT_TOLERANCE = 10


def hashed(row: PdqReference, limits: HashingLimits) -> ImageHashes:
    result = hash_file(PDQ_IMAGES / row.path, limits)
    assert isinstance(result, ImageHashes)
    return result


def test_the_reference_covers_the_three_threatexchange_quirks() -> None:
    differing = {row.path for row in REFERENCE if row.threatexchange_differs}
    assert differing == {
        "misc-images/modes/P.png",
        "misc-images/modes/CMYK.jpg",
        "misc-images/modes/1.png",
    }


@pytest.mark.parametrize("row", REFERENCE, ids=lambda row: row.path)
def test_image_hashes_equal_the_reference(row: PdqReference, limits: HashingLimits) -> None:
    result = hashed(row, limits)

    assert result.pdq == PdqHash(row.pdq_rgb, row.quality_rgb)
    assert (result.md5, result.sha256) == (row.md5, row.sha256)
    if row.threatexchange_differs:
        assert result.pdq_threatexchange == PdqHash(row.pdq, row.quality)
    else:
        assert result.pdq_threatexchange is None


@pytest.mark.parametrize("row", REFERENCE[::6], ids=lambda row: row.path)
def test_bytes_and_files_hash_alike(row: PdqReference, limits: HashingLimits) -> None:
    data = (PDQ_IMAGES / row.path).read_bytes()
    assert hash_bytes(data, limits) == hashed(row, limits)


def test_signals_are_what_a_bank_stores(limits: HashingLimits) -> None:
    palette = hashed(BY_PATH["misc-images/modes/P.png"], limits)
    bilevel = hashed(BY_PATH["misc-images/modes/1.png"], limits)

    assert palette.signals() == (
        Signal(SignalType.MD5, palette.md5),
        Signal(SignalType.SHA256, palette.sha256),
        Signal(SignalType.PDQ, BY_PATH["misc-images/modes/P.png"].pdq_rgb),
        Signal(SignalType.PDQ, BY_PATH["misc-images/modes/P.png"].pdq),
    )
    # Same hash, different quality: one PDQ signal, not two.
    assert [s.type for s in bilevel.signals()] == [
        SignalType.MD5,
        SignalType.SHA256,
        SignalType.PDQ,
    ]


def test_json_shape_is_the_cli_contract(limits: HashingLimits) -> None:
    row = BY_PATH["misc-images/modes/CMYK.jpg"]
    assert hashed(row, limits).to_json("CMYK.jpg") == {
        "path": "CMYK.jpg",
        "kind": "image",
        "md5": row.md5,
        "sha256": row.sha256,
        "pdq": {"hash": row.pdq_rgb, "quality": row.quality_rgb},
        "pdq_threatexchange": {"hash": row.pdq, "quality": row.quality},
    }
    plain = BY_PATH["dih/bridge-1-original.jpg"]
    assert list(hashed(plain, limits).to_json("x")) == ["path", "kind", "md5", "sha256", "pdq"]


def test_dihedral_hashes_predict_each_rotation_and_flip(limits: HashingLimits) -> None:
    original = hashed(BY_PATH[DIHEDRAL_FILES[0]], limits)

    assert original.dihedral.original == original.pdq
    for predicted, path in zip(original.dihedral.hashes(), DIHEDRAL_FILES, strict=True):
        assert predicted.quality == original.pdq.quality
        assert pdq_distance(predicted.value, BY_PATH[path].pdq_rgb) <= PDQ_PORT_TOLERANCE, path


def test_a_rotated_upload_finds_the_original_among_its_dihedral_hashes(
    limits: HashingLimits,
) -> None:
    original = BY_PATH[DIHEDRAL_FILES[0]].pdq_rgb
    for path in DIHEDRAL_FILES[1:]:
        variants = hashed(BY_PATH[path], limits).dihedral.hashes()
        assert pdq_distance(variants[0].value, original) > 64, path  # not a match as is
        closest = min(pdq_distance(v.value, original) for v in variants)
        assert closest <= PDQ_PORT_TOLERANCE, path


@given(st.lists(st.integers(0, 1), min_size=256, max_size=256))
def test_bit_order_is_python_threatexchange_s(bits: list[int]) -> None:
    # python-threatexchange joins pdqhash's bits into a binary numeral, first bit
    # most significant, and prints it as 64 hex digits.
    expected = "%064x" % int("".join(map(str, bits)), 2)  # noqa: UP031 - mirrors the original
    assert bits_to_hex(bits) == expected


def test_a_hash_has_256_bits() -> None:
    with pytest.raises(ValueError, match="256 bits"):
        bits_to_hex([0, 1] * 64)
