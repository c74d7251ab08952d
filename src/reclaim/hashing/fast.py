"""The fast path for bulk scanning: JPEGs decoded at reduced scale, PDQ compiled.

The reference path (:mod:`reclaim.hashing.images`) decodes every image at full
resolution, converts it to RGB and hands it to Meta's C++ PDQ, then computes the eight
dihedral hashes and, for some colour modes, python-threatexchange's variant.  For a
6-megapixel photo most of that time goes into pixels PDQ throws away: its first step
blurs the picture down to 64 x 64.

This path does less of that work:

* a JPEG is decoded by libjpeg at 1/2, 1/4 or 1/8 scale in the DCT domain (Pillow's
  ``draft``), to the smallest size that keeps at least :data:`MIN_SIDE` (768) pixels on
  each side, and only its luminance channel (JPEG's Y is PDQ's luminance, same weights);
* other formats are decoded in full, converted to luminance by Pillow and box-reduced
  to the same size;
* PDQ runs on that 8-bit plane in :mod:`reclaim.hashing.pdq_luma` (numba, float32);
* the dihedral hashes and the python-threatexchange variant are computed only on
  request (:class:`HashRequest`).

The hashes are not bit-identical to the reference: the agreement is measured in
``tests/hashing/test_fast_agreement.py`` and docs/scanning.md (99th percentile at most
8 bits, mean at most 2, no match at distance 31 lost).  Portal reports and
``reclaim hash --exact`` keep the reference path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from reclaim.hashing.errors import CorruptFileError, HashingError, ImageTooLargeError
from reclaim.hashing.formats import JPEG, MediaFormat
from reclaim.hashing.images import (
    check_size,
    ensure_decoder,
    hash_image_data,
    open_header,
    picture_pixels,
)
from reclaim.hashing.limits import HashingLimits
from reclaim.hashing.pdq_luma import coefficients_to_hex, dihedral_coefficients, pdq_coefficients
from reclaim.hashing.results import ImageHashes, PdqDihedral, PdqHash

#: PDQ's input keeps at least this many pixels on each side.  PDQ blurs with box
#: windows of about 1/128 of each side, rounded to whole pixels; on a plane reduced
#: too far the rounding changes the blur and flips bits.  Measured on synthetic photos
#: of 0.3-24 MP (docs/scanning.md): 512 gave a mean of 2.5 bits from the reference and
#: a 99th percentile of 9; 768 gives 1.6 and 6, at the same speed (libjpeg's scales
#: are powers of two, so 6 MP and 24 MP photos decode at the same scale either way).
MIN_SIDE = 768
#: Colour modes in which python-threatexchange's PDQ equals the picture's PDQ.
_SAME_FOR_THREATEXCHANGE = frozenset({"RGB", "LA", "L"})


@dataclass(frozen=True, slots=True)
class HashRequest:
    """Which hashes beyond MD5, SHA-256 and PDQ to compute, and on which path.

    ``exact`` selects the reference path (full decode, every hash): what portal
    reports and ``reclaim hash --exact`` use.
    """

    dihedral: bool = False
    compatibility: bool = False
    exact: bool = False


def fast_image_hashes(
    data: bytes, media: MediaFormat, limits: HashingLimits, request: HashRequest
) -> ImageHashes:
    """Hash image bytes already sniffed as ``media`` and within the byte limit."""
    if request.exact:
        return hash_image_data(data, media, limits)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    luma, width, height, mode = _luminance(data, media, limits)
    coefficients, quality = pdq_coefficients(luma)
    pdq = PdqHash(coefficients_to_hex(coefficients), quality)
    dihedral = None
    if request.dihedral:
        dihedral = PdqDihedral(
            *(PdqHash(coefficients_to_hex(c), quality) for c in dihedral_coefficients(coefficients))
        )
    compatible = None
    if request.compatibility and mode not in _SAME_FOR_THREATEXCHANGE:
        # Rare colour modes (palette, CMYK, bilevel): python-threatexchange hashes raw
        # channel values, which only the reference path reproduces.
        compatible = hash_image_data(data, media, limits).pdq_threatexchange
    return ImageHashes(
        format=media.name,
        width=width,
        height=height,
        md5=md5,
        sha256=sha256,
        pdq=pdq,
        pdq_threatexchange=compatible,
        dihedral=dihedral,
    )


def _luminance(
    data: bytes, media: MediaFormat, limits: HashingLimits
) -> tuple[npt.NDArray[np.uint8], int, int, str]:
    """The picture's luminance at reduced scale, its full size, and its colour mode."""
    ensure_decoder(media)
    image = open_header(data, media, limits)
    try:
        check_size(image, media, limits)
        width, height = image.size
        mode = image.mode
        if media is JPEG:
            # libjpeg scales in the DCT domain and, for YCbCr, skips the colour
            # conversion when asked for L: the Y plane is PDQ's luminance.
            image.draft("L" if mode == "RGB" else mode, (MIN_SIDE, MIN_SIDE))
        image.load()
        plane = _to_luminance(image)
    except HashingError:
        raise
    except MemoryError as exc:
        raise ImageTooLargeError(
            f"the {media.name} image ({image.width:,} x {image.height:,} pixels) does not "
            "fit in the memory available"
        ) from exc
    except Exception as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise CorruptFileError(f"the {media.name} image is damaged or truncated: {reason}") from exc
    finally:
        image.close()
    return plane, width, height, mode


def _to_luminance(image: Image.Image) -> npt.NDArray[np.uint8]:
    if image.mode == "L":
        grey = image
    elif image.mode in ("RGB", "RGBA", "CMYK"):
        grey = image.convert("L")
    else:
        # 16-bit, palette, bilevel...: the picture as a person sees it, then luminance.
        grey = Image.fromarray(picture_pixels(image)).convert("L")
    factor = min(grey.size) // MIN_SIDE
    if factor >= 2:
        grey = grey.reduce(factor)
    return np.asarray(grey, dtype=np.uint8)


__all__ = ["MIN_SIDE", "HashRequest", "fast_image_hashes"]
