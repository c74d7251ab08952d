"""PDQ through Meta's C++ implementation (the ``pdqhash`` bindings).

``pdqhash`` returns a hash as 256 integers, most significant bit first (its
``hash_to_vector`` reverses PDQ's 16-bit words), so packing them big-endian gives
the hex string that PDQ's own tools and python-threatexchange print.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pdqhash

from reclaim.hashing.results import PdqDihedral, PdqHash

HASH_BITS = 256


def bits_to_hex(bits: npt.ArrayLike) -> str:
    """64 hex characters for PDQ's 256 bits, most significant first."""
    array = np.asarray(bits, dtype=np.uint8)
    if array.shape != (HASH_BITS,):
        raise ValueError(f"a PDQ hash has {HASH_BITS} bits, got shape {array.shape}")
    return np.packbits(array).tobytes().hex()


def pdq_of_pixels(pixels: npt.NDArray[Any]) -> PdqHash:
    """PDQ of a height x width x (3 or more) array; only the first three channels count.

    PDQ reads the channels as R, G, B to compute luminance.  Raises ``ValueError`` for
    arrays ``pdqhash`` does not accept (wrong number of dimensions, 16-bit or float
    samples).
    """
    bits, quality = pdqhash.compute(pixels)
    return PdqHash(bits_to_hex(bits), int(quality))


def dihedral_of_pixels(pixels: npt.NDArray[np.uint8]) -> PdqDihedral:
    """The eight rotation and flip hashes of an RGB array, at the cost of one hash."""
    all_bits, quality = pdqhash.compute_dihedral(pixels)
    hashes = [PdqHash(bits_to_hex(bits), int(quality)) for bits in all_bits]
    return PdqDihedral(*hashes)


__all__ = ["bits_to_hex", "dihedral_of_pixels", "pdq_of_pixels"]
