"""Why a file could not be hashed.

Every refusal is a :class:`HashingError` whose message a hotline analyst (or a
platform engineer reading the CLI's output) understands without a stack trace.  The
subclasses let callers react differently: an upload form says "that file is too big",
a bulk scan counts corrupt files separately from unsupported ones.
"""

from __future__ import annotations


class HashingError(Exception):
    """A file or byte string that Reclaim refuses to hash, with a readable reason."""


class UnreadableFileError(HashingError):
    """The file could not be read: missing, not a regular file, no permission."""


class EmptyFileError(HashingError):
    """The file has no bytes at all."""


class FileTooLargeError(HashingError):
    """The file is larger than the configured byte limit (checked before reading it)."""


class ImageTooLargeError(HashingError):
    """The image claims more pixels than the limit: a likely decompression bomb."""


class VideoTooLongError(HashingError):
    """The video runs longer, or has more frames to hash, than the limits allow."""


class HashingTimeoutError(HashingError):
    """Hashing took longer than the configured time limit and was abandoned."""


class UnsupportedFormatError(HashingError):
    """The bytes are not an image or video format that Reclaim decodes."""


class CorruptFileError(HashingError):
    """The format is recognised but the content is damaged or truncated."""


def describe_size(size: int) -> str:
    """A byte count the way people say it ("64.0 MB"), for error messages."""
    if size < 1024:
        return f"{size:,} bytes"
    value = size / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


__all__ = [
    "CorruptFileError",
    "EmptyFileError",
    "FileTooLargeError",
    "HashingError",
    "HashingTimeoutError",
    "ImageTooLargeError",
    "UnreadableFileError",
    "UnsupportedFormatError",
    "VideoTooLongError",
    "describe_size",
]
