"""Image files -> MD5, SHA-256 and PDQ, decoding hostile input safely.

Limits are enforced per call, never by changing Pillow's globals: the pixel count in
the header is checked against :class:`HashingLimits` after ``Image.open`` (which
reads only the header) and before ``load()`` (which allocates the canvas).  Pillow's
own decompression-bomb check is a process-wide setting that only *warns* below twice
its threshold, so it is a backstop here, not the limit.

Pixels are hashed as stored: the EXIF orientation is not applied, as
python-threatexchange does not apply it, so hashes agree with what platforms compute.
"""

from __future__ import annotations

import functools
import hashlib
import io
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from reclaim.hashing.errors import (
    CorruptFileError,
    HashingError,
    ImageTooLargeError,
    UnsupportedFormatError,
)
from reclaim.hashing.formats import HEIF, MediaFormat
from reclaim.hashing.limits import HashingLimits
from reclaim.hashing.pdq import dihedral_of_pixels, pdq_of_pixels
from reclaim.hashing.results import ImageHashes, PdqHash

_MAX_16_BIT = 65535


def hash_image_data(data: bytes, media: MediaFormat, limits: HashingLimits) -> ImageHashes:
    """Hash image bytes already sniffed as ``media`` and within the byte limit.

    Callers go through :mod:`reclaim.hashing.files`, which does both.
    """
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    with _open(data, media, limits) as image:
        width, height = image.size
        try:
            picture = picture_pixels(image)
        except ValueError as exc:
            raise UnsupportedFormatError(
                f"the {media.name} image uses a colour mode ({image.mode}) that cannot "
                "be converted to RGB"
            ) from exc
        as_threatexchange = _threatexchange_pixels(image)
    dihedral = dihedral_of_pixels(picture)
    return ImageHashes(
        format=media.name,
        width=width,
        height=height,
        md5=md5,
        sha256=sha256,
        pdq=dihedral.original,
        pdq_threatexchange=_threatexchange_pdq(as_threatexchange, picture, dihedral.original),
        dihedral=dihedral,
    )


def _open(data: bytes, media: MediaFormat, limits: HashingLimits) -> Image.Image:
    """Open, check the claimed size against the limit, then decode."""
    ensure_decoder(media)
    image = open_header(data, media, limits)
    try:
        check_size(image, media, limits)
        image.load()
    except HashingError:
        image.close()
        raise
    except MemoryError as exc:
        image.close()
        raise ImageTooLargeError(
            f"the {media.name} image ({image.width:,} x {image.height:,} pixels) does not "
            "fit in the memory available; lower the pixel limit or add memory"
        ) from exc
    except Exception as exc:
        image.close()
        raise CorruptFileError(
            f"the {media.name} image is damaged or truncated: {_reason(exc)}"
        ) from exc
    return image


def open_header(data: bytes, media: MediaFormat, limits: HashingLimits) -> Image.Image:
    """``Image.open``: reads the header only; damaged headers become CorruptFileError."""
    try:
        image = Image.open(io.BytesIO(data), formats=[media.decoder])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own backstop fired before ours could (its threshold is global); the
        # warning only arrives here as an exception when warnings are errors.
        raise ImageTooLargeError(
            f"the {media.name} image claims more pixels than can be decoded safely "
            f"(the limit is {limits.max_image_pixels:,}): a likely decompression bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise CorruptFileError(
            f"the file starts like a {media.name} image but its header is damaged"
        ) from exc
    except Exception as exc:
        # Pillow's format plugins raise many exception types (SyntaxError, struct.error,
        # EOFError, ...) on malformed headers; to a caller they all mean "corrupt".
        raise CorruptFileError(f"the {media.name} image could not be read: {_reason(exc)}") from exc
    return image


def check_size(image: Image.Image, media: MediaFormat, limits: HashingLimits) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"the {media.name} image claims a size of {width} x {height}")
    if width * height > limits.max_image_pixels:
        raise ImageTooLargeError(
            f"the {media.name} image claims {width:,} x {height:,} pixels "
            f"({width * height:,}); the limit is {limits.max_image_pixels:,} pixels "
            "(larger pictures are refused as likely decompression bombs)"
        )


def ensure_decoder(media: MediaFormat) -> None:
    if media is HEIF:
        _register_heif_opener()
    Image.init()  # loads Pillow's plugin registry (idempotent) so OPEN is complete
    if media.decoder not in Image.OPEN:
        raise UnsupportedFormatError(
            f"{media.name} images cannot be decoded by this installation of Reclaim"
        )


@functools.cache
def _register_heif_opener() -> None:
    # Registering adds HEIF to Pillow's plugin registry for the whole process; doing
    # it on first use, not at import, keeps importing reclaim free of side effects.
    import pillow_heif

    pillow_heif.register_heif_opener()


def picture_pixels(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The picture as height x width x RGB bytes: what a person sees, not the codes."""
    if image.mode.startswith("I;16"):
        # Pillow converts 16-bit samples to 8 bits by clipping at 255, not scaling,
        # which would hash a 16-bit grey picture as almost white.  Scale instead, as
        # browsers do when they draw one.
        wide = np.asarray(image).astype(np.uint32)
        narrow = ((wide * 255 + _MAX_16_BIT // 2) // _MAX_16_BIT).astype(np.uint8)
        image = Image.fromarray(narrow)
    elif image.mode == "P" and "transparency" in image.info:
        # Pillow warns when a palette with per-entry transparency goes straight to RGB;
        # going through RGBA yields the same colours without the warning.
        image = image.convert("RGBA")
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb)


def _threatexchange_pixels(image: Image.Image) -> npt.NDArray[Any] | None:
    """The array python-threatexchange gives PDQ for this image, or None if identical.

    python-threatexchange (``pdq_hasher``) converts only LA images to RGB, repeats a
    single channel three times, and otherwise passes Pillow's raw values: palette
    indices, inverted CMYK inks, 0/1 booleans.
    """
    if image.mode in ("RGB", "LA"):
        return None  # its array is exactly the RGB picture
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=2)
    return array


def _threatexchange_pdq(
    array: npt.NDArray[Any] | None, picture: npt.NDArray[np.uint8], pdq: PdqHash
) -> PdqHash | None:
    """python-threatexchange's PDQ for the image, when it differs from Reclaim's."""
    if array is None or _same_colour_channels(array, picture):
        return None
    try:
        theirs = pdq_of_pixels(array)
    except (ValueError, IndexError):
        # pdqhash refuses 16-bit, integer and float samples and 2-channel arrays:
        # python-threatexchange fails on such images, so no platform has its hash.
        return None
    return None if theirs == pdq else theirs


def _same_colour_channels(array: npt.NDArray[Any], picture: npt.NDArray[np.uint8]) -> bool:
    # PDQ reads only the first three channels (alpha is ignored).
    return (
        array.dtype == np.uint8
        and array.ndim == 3
        and array.shape[:2] == picture.shape[:2]
        and array.shape[2] >= 3
        and bool(np.array_equal(array[..., :3], picture))
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


__all__ = ["check_size", "ensure_decoder", "hash_image_data", "open_header", "picture_pixels"]
