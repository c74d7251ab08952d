"""Files and bytes -> hashes: MD5, SHA-256, PDQ for images, vPDQ frame hashes for videos.

This package is pure: it decodes and hashes, and knows nothing of storage, services
or the web.  The entry points are :func:`hash_file` and :func:`hash_bytes` (and
:func:`hash_image_bytes` where only an image is acceptable); they return frozen
:class:`ImageHashes` or :class:`VideoHashes` and raise a :class:`HashingError`
subclass, with a readable message, for anything they refuse.  A :class:`HashRequest`
passed to :func:`hash_file` or :func:`hash_bytes` selects the fast path of bulk
scanning (:mod:`reclaim.hashing.fast`).  :func:`match_vpdq` is vPDQ's rule for
deciding whether two videos' frame hashes match.

The entry points load numpy, Pillow, pdqhash and PyAV, which take a few hundred
milliseconds to import.  ``reclaim.config`` imports this package (for
:class:`HashingLimits`), so those are imported on first use, not here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from reclaim.hashing.errors import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    HashingError,
    HashingTimeoutError,
    ImageTooLargeError,
    UnreadableFileError,
    UnsupportedFormatError,
    VideoTooLongError,
)
from reclaim.hashing.formats import MediaFormat, MediaKind, sniff
from reclaim.hashing.limits import HashingLimits
from reclaim.hashing.results import (
    HashResult,
    ImageHashes,
    PdqDihedral,
    PdqHash,
    VideoHashes,
    VpdqFeature,
)

if TYPE_CHECKING:
    from reclaim.hashing.fast import HashRequest
    from reclaim.hashing.files import hash_bytes, hash_file, hash_image_bytes
    from reclaim.hashing.video import DEFAULT_SECONDS_PER_HASH
    from reclaim.hashing.vpdq import (
        InvalidVpdqListError,
        VpdqMatch,
        format_vpdq_line,
        match_vpdq,
        parse_vpdq_lines,
    )

_LAZY = {
    "HashRequest": "reclaim.hashing.fast",
    "hash_bytes": "reclaim.hashing.files",
    "hash_file": "reclaim.hashing.files",
    "hash_image_bytes": "reclaim.hashing.files",
    "DEFAULT_SECONDS_PER_HASH": "reclaim.hashing.video",
    "InvalidVpdqListError": "reclaim.hashing.vpdq",
    "VpdqMatch": "reclaim.hashing.vpdq",
    "format_vpdq_line": "reclaim.hashing.vpdq",
    "match_vpdq": "reclaim.hashing.vpdq",
    "parse_vpdq_lines": "reclaim.hashing.vpdq",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_SECONDS_PER_HASH",
    "CorruptFileError",
    "EmptyFileError",
    "FileTooLargeError",
    "HashRequest",
    "HashResult",
    "HashingError",
    "HashingLimits",
    "HashingTimeoutError",
    "ImageHashes",
    "ImageTooLargeError",
    "InvalidVpdqListError",
    "MediaFormat",
    "MediaKind",
    "PdqDihedral",
    "PdqHash",
    "UnreadableFileError",
    "UnsupportedFormatError",
    "VideoHashes",
    "VideoTooLongError",
    "VpdqFeature",
    "VpdqMatch",
    "format_vpdq_line",
    "hash_bytes",
    "hash_file",
    "hash_image_bytes",
    "match_vpdq",
    "parse_vpdq_lines",
    "sniff",
]
