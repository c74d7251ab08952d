"""Conversions at the matching boundary: PDQ hex strings, hash arrays and id arrays.

A PDQ hash is 256 bits written as 64 hexadecimal characters.  Matching keeps each hash
as the 32 bytes ``bytes.fromhex`` gives (big-endian, in the order written), one row of
a ``uint8`` array of shape ``(n, 32)``.  Hamming distance does not care about bit order,
so the kernels may view the same bytes as four native ``uint64`` words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

PDQ_BYTES = 32
PDQ_BITS = 256
PDQ_HEX_LENGTH = 64

#: The largest ``max_distance`` a search accepts.  Unrelated PDQ hashes lie about 128
#: bits apart; Meta's most lenient published threshold is 52, and past 63 a "match"
#: says nothing about the images.
MAX_DISTANCE = 63

HashArray = npt.NDArray[np.uint8]
IdArray = npt.NDArray[np.int64]


def hex_to_hashes(hex_strings: Iterable[str]) -> HashArray:
    """Parse PDQ hex strings into a ``(n, 32)`` uint8 array; ValueError on a bad one."""
    rows = []
    for text in hex_strings:
        if len(text) != PDQ_HEX_LENGTH:
            raise ValueError(f"a PDQ hash is {PDQ_HEX_LENGTH} hex characters; got {text[:80]!r}")
        try:
            rows.append(bytes.fromhex(text))
        except ValueError:
            raise ValueError(f"a PDQ hash is hexadecimal; got {text[:80]!r}") from None
    if not rows:
        return np.empty((0, PDQ_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, PDQ_BYTES).copy()


def hashes_to_hex(hashes: npt.ArrayLike) -> list[str]:
    """The inverse of :func:`hex_to_hashes`: lower-case hex, 64 characters each."""
    array = as_hashes(hashes)
    return [row.tobytes().hex() for row in array]


def as_hashes(hashes: npt.ArrayLike, name: str = "hashes") -> HashArray:
    """Check and return a C-contiguous ``(n, 32)`` uint8 array (a copy only if needed)."""
    array = np.asarray(hashes)
    if array.dtype != np.uint8:
        raise ValueError(f"{name} must be a uint8 array; got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != PDQ_BYTES:
        raise ValueError(f"{name} must have shape (n, {PDQ_BYTES}); got {array.shape}")
    return np.ascontiguousarray(array)


def as_ids(ids: npt.ArrayLike, count: int | None = None) -> IdArray:
    """Check and return a ``(n,)`` int64 array of ids, of length ``count`` if given."""
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"ids must be a one-dimensional array; got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"ids must be integers; got dtype {array.dtype}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    if count is not None and array.shape[0] != count:
        raise ValueError(f"got {array.shape[0]} ids for {count} hashes")
    return np.ascontiguousarray(array, dtype=np.int64)


def check_max_distance(max_distance: int) -> int:
    """Return ``max_distance`` as an int, or raise ValueError outside 0..MAX_DISTANCE."""
    if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
        raise ValueError(f"max_distance must be an integer; got {max_distance!r}")
    value = int(max_distance)
    if not 0 <= value <= MAX_DISTANCE:
        raise ValueError(f"max_distance must be between 0 and {MAX_DISTANCE}; got {value}")
    return value


def last_occurrences(ids: IdArray) -> npt.NDArray[np.intp]:
    """Row numbers that keep only the last row of each id, in ascending order.

    Adding an id twice replaces its hash, so within one batch the last row wins.
    """
    reversed_ids = ids[::-1]
    _, first_in_reversed = np.unique(reversed_ids, return_index=True)
    return np.sort(ids.shape[0] - 1 - first_in_reversed)


def unique_ids(ids: Sequence[int] | npt.ArrayLike) -> IdArray:
    """Distinct ids from any integer array-like (for ``remove``)."""
    return np.unique(as_ids(ids))
