"""The public entry points: a file or a byte string in, its hashes out.

Order of checks, cheapest first, so that hostile input costs as little as possible:
the file's size from ``fstat`` (nothing read yet), its first bytes (format by magic
number, never by name), the byte limit for that kind of file, and only then the
digests and decoding.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from reclaim.hashing.errors import (
    EmptyFileError,
    FileTooLargeError,
    UnreadableFileError,
    UnsupportedFormatError,
    describe_size,
)
from reclaim.hashing.fast import HashRequest, fast_image_hashes
from reclaim.hashing.formats import HEAD_BYTES, MediaFormat, MediaKind, sniff
from reclaim.hashing.images import hash_image_data
from reclaim.hashing.limits import HashingLimits
from reclaim.hashing.results import HashResult, ImageHashes, VideoHashes
from reclaim.hashing.video import DEFAULT_SECONDS_PER_HASH, VideoFrames, hash_video_frames

_CHUNK_BYTES = 1024 * 1024


def hash_file(
    path: str | os.PathLike[str],
    limits: HashingLimits,
    *,
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH,
    request: HashRequest | None = None,
) -> HashResult:
    """Hash an image or video file: MD5, SHA-256, and PDQ or vPDQ frame hashes.

    Images go through the reference path unless a ``request`` for the fast path
    (:mod:`reclaim.hashing.fast`, for bulk scanning) is given.

    Raises a :class:`~reclaim.hashing.errors.HashingError` subclass, with a message a
    person understands, for anything that cannot be hashed.
    """
    path = Path(path)
    with _open_regular_file(path) as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            raise EmptyFileError("the file is empty (0 bytes)")
        largest = max(limits.max_file_bytes, limits.max_video_bytes)
        if size > largest:
            raise FileTooLargeError(
                f"the file is {describe_size(size)}; the limit is {describe_size(largest)}"
            )
        head = _read(file, HEAD_BYTES)
        media = sniff(head)
        check_byte_limit(media, size, limits)
        if media.kind is MediaKind.IMAGE:
            data = head + _read(file, limits.max_file_bytes - len(head) + 1)
            # The file may have grown since fstat; the limit holds for what was read.
            check_byte_limit(media, len(data), limits)
            return _hash_image(data, media, limits, request)
        md5, sha256 = _digest_rest(file, head, limits.max_video_bytes)
        # Decode through the descriptor already checked and digested, not the path,
        # which could have been replaced in the meantime.
        file.seek(0)
        frames = hash_video_frames(file, media, limits, seconds_per_hash=seconds_per_hash)
    return _video_hashes(media, md5, sha256, frames, seconds_per_hash)


def hash_bytes(
    data: bytes,
    limits: HashingLimits,
    *,
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH,
    request: HashRequest | None = None,
) -> HashResult:
    """Hash an image or video held in memory (an upload, a fetched file)."""
    media = sniff(data[:HEAD_BYTES])
    check_byte_limit(media, len(data), limits)
    if media.kind is MediaKind.IMAGE:
        return _hash_image(data, media, limits, request)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    frames = hash_video_frames(io.BytesIO(data), media, limits, seconds_per_hash=seconds_per_hash)
    return _video_hashes(media, md5, sha256, frames, seconds_per_hash)


def hash_image_bytes(data: bytes, limits: HashingLimits) -> ImageHashes:
    """Hash bytes that must be an image; a video is refused, not decoded."""
    media = sniff(data[:HEAD_BYTES])
    if media.kind is not MediaKind.IMAGE:
        raise UnsupportedFormatError(f"expected an image, but this is a {media.name} video")
    check_byte_limit(media, len(data), limits)
    return hash_image_data(data, media, limits)


def _hash_image(
    data: bytes, media: MediaFormat, limits: HashingLimits, request: HashRequest | None
) -> ImageHashes:
    if request is None or request.exact:
        return hash_image_data(data, media, limits)
    return fast_image_hashes(data, media, limits, request)


def _open_regular_file(path: Path) -> BinaryIO:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    # forever.  Checking the opened descriptor (not the path) leaves no window for the
    # path to be swapped between the check and the read.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFileError(_describe_os_error(exc)) from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise UnreadableFileError(f"cannot hash this path: it is {what}")
    return os.fdopen(fd, "rb")


def _read(file: BinaryIO, size: int) -> bytes:
    try:
        return file.read(size)
    except OSError as exc:
        raise UnreadableFileError(_describe_os_error(exc)) from exc


def _digest_rest(file: BinaryIO, head: bytes, limit: int) -> tuple[str, str]:
    """MD5 and SHA-256 of ``head`` and the rest of ``file``, read in chunks."""
    md5 = hashlib.md5(head, usedforsecurity=False)
    sha256 = hashlib.sha256(head)
    total = len(head)
    while chunk := _read(file, _CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise FileTooLargeError(f"the video is larger than the limit of {describe_size(limit)}")
        md5.update(chunk)
        sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def check_byte_limit(media: MediaFormat, size: int, limits: HashingLimits) -> None:
    if media.kind is MediaKind.IMAGE:
        limit, kind = limits.max_file_bytes, "images"
    else:
        limit, kind = limits.max_video_bytes, "videos"
    if size > limit:
        raise FileTooLargeError(
            f"the {media.name} file is {describe_size(size)}; the limit for {kind} is "
            f"{describe_size(limit)}"
        )


def _video_hashes(
    media: MediaFormat, md5: str, sha256: str, frames: VideoFrames, seconds_per_hash: float
) -> VideoHashes:
    return VideoHashes(
        format=media.name,
        width=frames.width,
        height=frames.height,
        frame_rate=frames.frame_rate,
        seconds_per_hash=seconds_per_hash,
        md5=md5,
        sha256=sha256,
        frames=frames.frames,
    )


def _describe_os_error(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read the file: {exc.strerror or exc}"


__all__ = ["check_byte_limit", "hash_bytes", "hash_file", "hash_image_bytes"]
