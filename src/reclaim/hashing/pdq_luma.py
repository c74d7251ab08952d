"""PDQ from a luminance plane, compiled with numba: the fast path's hasher.

This is Meta's PDQ algorithm (``pdqhashing/hasher/pdqhasher.cpp``) step for step: two
passes of the Jarosz box filter along rows and columns, decimation to 64 x 64, the
gradient quality metric, a 16 x 64 DCT on each side, and one bit per coefficient above
the median.  It differs from calling ``pdqhash`` in what it is given, not in what it
does: a luminance plane of 8-bit samples (a JPEG's Y channel decoded at reduced
scale by libjpeg) rather than a full-resolution RGB array, so no full-resolution float
buffer is ever built: the only float buffers are two of the (reduced) plane's size,
in float32 as PDQ's own C++ uses.

The eight dihedral hashes come from the same 16 x 16 DCT coefficients by sign flips
and transposition (the DCT of a mirrored picture is the DCT with odd frequencies
negated), at almost no cost, and only when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

F = TypeVar("F", bound=Callable[..., Any])

DOWNSAMPLE = 64
#: PDQ hashes nothing smaller than this on either side (quality 0, empty hash).
MIN_HASHABLE = 5
_JAROSZ_PASSES = 2


def _njit(function: F) -> F:
    # Same policy as reclaim.matching._jit (a sibling package, so not imported): cache
    # compiled code on disk, and fall back to an uncached kernel where nothing is writable.
    try:
        return cast(F, numba.njit(cache=True, nogil=True)(function))
    except RuntimeError:
        return cast(F, numba.njit(cache=False, nogil=True)(function))


def _dct_matrix() -> npt.NDArray[np.float32]:
    scale = math.sqrt(2.0 / DOWNSAMPLE)
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(DOWNSAMPLE, dtype=np.float64)[None, :]
    return (scale * np.cos((math.pi / 2 / DOWNSAMPLE) * i * (2 * j + 1))).astype(np.float32)


DCT = _dct_matrix()


@_njit
def _box_1d(  # noqa: PLR0917 - numba kernels take positional arguments
    source: Any, target: Any, start: int, length: int, stride: int, window: int
) -> None:  # pragma: no cover - compiled
    half = (window + 2) // 2
    phase1 = half - 1
    phase2 = window - half + 1
    phase3 = length - window
    phase4 = half - 1
    li = start
    ri = start
    oi = start
    total = np.float32(0.0)
    count = 0
    for _ in range(phase1):
        total += source[ri]
        count += 1
        ri += stride
    for _ in range(phase2):
        total += source[ri]
        count += 1
        target[oi] = total / np.float32(count)
        ri += stride
        oi += stride
    for _ in range(phase3):
        total += source[ri]
        total -= source[li]
        target[oi] = total / np.float32(count)
        li += stride
        ri += stride
        oi += stride
    for _ in range(phase4):
        total -= source[li]
        count -= 1
        target[oi] = total / np.float32(count)
        li += stride
        oi += stride


@_njit
def _box_columns(
    source: Any, target: Any, rows: int, cols: int, window: int
) -> None:  # pragma: no cover - compiled
    # _box_1d down every column at once, walking the rows in memory order: the same
    # sums in the same order as PDQ's column pass, without a cache miss per sample.
    half = (window + 2) // 2
    phase1 = half - 1
    phase2 = window - half + 1
    phase3 = rows - window
    phase4 = half - 1
    total = np.zeros(cols, dtype=np.float32)
    li = 0
    ri = 0
    oi = 0
    count = 0
    for _ in range(phase1):
        for c in range(cols):
            total[c] += source[ri * cols + c]
        count += 1
        ri += 1
    for _ in range(phase2):
        count += 1
        for c in range(cols):
            total[c] += source[ri * cols + c]
            target[oi * cols + c] = total[c] / np.float32(count)
        ri += 1
        oi += 1
    for _ in range(phase3):
        for c in range(cols):
            total[c] += source[ri * cols + c]
            total[c] -= source[li * cols + c]
            target[oi * cols + c] = total[c] / np.float32(count)
        li += 1
        ri += 1
        oi += 1
    for _ in range(phase4):
        count -= 1
        for c in range(cols):
            total[c] -= source[li * cols + c]
            target[oi * cols + c] = total[c] / np.float32(count)
        li += 1
        oi += 1


@_njit
def _pdq_core(luma: Any) -> Any:  # pragma: no cover - compiled
    rows, cols = luma.shape
    size = rows * cols
    one = np.empty(size, dtype=np.float32)
    two = np.empty(size, dtype=np.float32)
    flat = luma.ravel()
    for k in range(size):
        one[k] = np.float32(flat[k])
    window_rows = (cols + 2 * DOWNSAMPLE - 1) // (2 * DOWNSAMPLE)
    window_cols = (rows + 2 * DOWNSAMPLE - 1) // (2 * DOWNSAMPLE)
    for _ in range(_JAROSZ_PASSES):
        for r in range(rows):
            _box_1d(one, two, r * cols, cols, 1, window_rows)
        _box_columns(two, one, rows, cols, window_cols)
    small = np.empty((DOWNSAMPLE, DOWNSAMPLE), dtype=np.float32)
    for i in range(DOWNSAMPLE):
        ini = int(((i + 0.5) * rows) / DOWNSAMPLE)
        for j in range(DOWNSAMPLE):
            inj = int(((j + 0.5) * cols) / DOWNSAMPLE)
            small[i, j] = one[ini * cols + inj]
    return small, _quality(small)


@_njit
def _quality(small: Any) -> int:  # pragma: no cover - compiled
    # PDQ's image-domain quality: the summed gradient of the 64 x 64 picture.
    gradient = 0
    for i in range(DOWNSAMPLE - 1):
        for j in range(DOWNSAMPLE):
            gradient += int(abs(((small[i, j] - small[i + 1, j]) * 100) / 255))
    for i in range(DOWNSAMPLE):
        for j in range(DOWNSAMPLE - 1):
            gradient += int(abs(((small[i, j] - small[i, j + 1]) * 100) / 255))
    return min(gradient // 90, 100)


def pdq_coefficients(luma: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], int]:
    """PDQ's 16 x 16 DCT coefficients and quality for a height x width luminance plane."""
    plane = np.ascontiguousarray(luma, dtype=np.uint8)
    if plane.ndim != 2:
        raise ValueError(f"a luminance plane has two dimensions, got shape {plane.shape}")
    return _coefficients(plane)


def pdq_of_rgb(rgb: npt.NDArray[Any]) -> tuple[str, int]:
    """PDQ hex and quality of a height x width x 3 RGB array, as ``pdqhash`` computes it.

    The luminance is PDQ's own (0.299 R + 0.587 G + 0.114 B in float32, not rounded to
    8 bits), so the result is ``pdqhash``'s bit for bit on ordinary pictures (measured
    on every sampled frame of the shared test videos; the DCT's summation order can
    differ, which could move a coefficient lying on the median by one bit), in a quarter
    of the time: no float64 buffers and no copies.  Video frames use it.
    """
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected a height x width x 3 array of bytes, got {rgb.shape}")
    coefficients, quality = _coefficients(_rgb_luminance(rgb))
    return coefficients_to_hex(coefficients), quality


def _coefficients(plane: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float32], int]:
    if plane.shape[0] < MIN_HASHABLE or plane.shape[1] < MIN_HASHABLE:
        return np.zeros((16, 16), dtype=np.float32), 0
    small, quality = _pdq_core(plane)
    # Two small matrix products: numpy's BLAS (numba's needs SciPy).
    coefficients: npt.NDArray[np.float32] = DCT @ small @ DCT.T
    return coefficients, int(quality)


@_njit
def _rgb_luminance(rgb: Any) -> Any:  # pragma: no cover - compiled
    # PDQ's fillFloatLumaFromRGB: float32 products summed red, green, blue in that order.
    rows, cols = rgb.shape[0], rgb.shape[1]
    out = np.empty((rows, cols), dtype=np.float32)
    red, green, blue = np.float32(0.299), np.float32(0.587), np.float32(0.114)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (
                red * np.float32(rgb[i, j, 0])
                + green * np.float32(rgb[i, j, 1])
                + blue * np.float32(rgb[i, j, 2])
            )
    return out


def coefficients_to_hex(coefficients: npt.NDArray[np.float32]) -> str:
    """PDQ's hex string: bit (i, j) set when the coefficient exceeds the median.

    PDQ's median is Torben's: the 128th smallest of the 256 values.  Its hex form prints
    the sixteen 16-bit words (one per DCT row) from the last row to the first, each
    with column 15 as its most significant bit.
    """
    values = coefficients.reshape(-1)
    median = np.partition(values, 127)[127]
    bits = (coefficients > median).astype(np.uint8)
    ordered = bits[::-1, ::-1]
    return np.packbits(ordered.reshape(-1)).tobytes().hex()


#: The eight dihedral transforms of PDQ's coefficient grid, in PDQ's order (original,
#: rotate 90, rotate 180, rotate 270, flip x, flip y, flip +1, flip -1).
def dihedral_coefficients(
    coefficients: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], ...]:
    """The coefficients of the picture's eight rotations and flips, from the original's."""
    # PDQ's DCT rows are the frequencies 1 to 16 (it skips the constant term), so
    # mirroring the picture negates the even-numbered rows (odd frequencies) along
    # that axis; a quarter turn is a mirror and a transposition.
    signs = np.where(np.arange(16) % 2 == 0, -1, 1).astype(np.float32)
    rows = signs[:, None]
    cols = signs[None, :]
    a = coefficients
    rotate_180 = a * rows * cols
    flip_x = a * rows
    flip_y = a * cols
    flip_plus_1 = a.T
    flip_minus_1 = rotate_180.T
    rotate_90 = flip_y.T
    rotate_270 = flip_x.T
    return (a, rotate_90, rotate_180, rotate_270, flip_x, flip_y, flip_plus_1, flip_minus_1)


__all__ = [
    "DOWNSAMPLE",
    "MIN_HASHABLE",
    "coefficients_to_hex",
    "dihedral_coefficients",
    "pdq_coefficients",
    "pdq_of_rgb",
]
