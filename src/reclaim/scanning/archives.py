"""Zip and tar archives read as streams, with limits for hostile ones.

Nothing is ever extracted to disk: each member's bytes are read into memory (at most
the hashing byte limit) and handed to the hasher, so a member called
``../../etc/passwd`` could do no harm.  It is still refused, as are links, devices,
archives inside the archive, members that inflate like a bomb and archives with too
many members or too many bytes: each becomes an error line naming what was wrong, so a
hostile archive is visible in the results rather than silently half-scanned.

A tar file is read strictly front to back (``r|*``: compressed tars included), so a
tape-sized archive costs no memory beyond one member.  A zip's directory sits at its
end, so zips are opened normally, but each member is still inflated as a stream and
abandoned as soon as it exceeds a limit.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from reclaim.scanning.domain import ArchiveLimits, ErrorKind

_CHUNK = 1024 * 1024
#: A ratio is only suspicious once a member is past this size (tiny members of
#: repetitive bytes compress extremely well and are harmless).
_RATIO_FLOOR = 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_COMPRESSED_TAR_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member: its bytes, or why they were not read."""

    name: str
    data: bytes | None = None
    error: tuple[ErrorKind, str] | None = None


class ArchiveError(Exception):
    """The archive as a whole cannot be read (damaged, or not an archive at all)."""


def archive_kind(head: bytes) -> str | None:
    """``"zip"``, ``"tar"`` or None, from a file's first 512 bytes."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_COMPRESSED_TAR_MAGIC) or head[257:262] == b"ustar":
        return "tar"
    return None


def read_members(
    path: Path, limits: ArchiveLimits, max_member_bytes: int, skip: frozenset[str] = frozenset()
) -> Iterator[Member]:
    """The members of a zip or tar file, in archive order; ``skip`` names are not read."""
    with path.open("rb") as file:
        kind = archive_kind(file.read(512))
    if kind == "zip":
        yield from _zip_members(path, limits, max_member_bytes, skip)
    elif kind == "tar":
        yield from _tar_members(path, limits, max_member_bytes, skip)
    else:
        raise ArchiveError("not a zip or tar archive")


class _Budget:
    """Counts members and bytes across one archive."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.members = 0
        self.total = 0

    def next_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(f"the archive has more than {self.limits.max_members:,} members")


def _unsafe_name(name: str) -> str | None:
    if "\x00" in name or "\\" in name:
        return "its name contains a NUL byte or a backslash"
    path = PurePosixPath(name)
    if path.is_absolute():
        return "its name is an absolute path"
    if ".." in path.parts:
        return "its name climbs out of the archive (..)"
    return None


def _read_stream(
    stream: IO[bytes], name: str, compressed: int | None, budget: _Budget, max_bytes: int
) -> Member:
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        budget.total += len(chunk)
        if budget.total > budget.limits.max_total_bytes:
            raise ArchiveError(
                f"the archive inflates to more than {budget.limits.max_total_bytes:,} bytes"
            )
        if size > max_bytes:
            return Member(name, error=(ErrorKind.TOO_LARGE, f"larger than {max_bytes:,} bytes"))
        ratio_limit = max(compressed or 0, 1) * budget.limits.max_ratio
        if compressed is not None and size > _RATIO_FLOOR and size > ratio_limit:
            return Member(
                name,
                error=(
                    ErrorKind.ARCHIVE,
                    f"inflates more than {budget.limits.max_ratio:g} times its compressed "
                    "size: a likely decompression bomb",
                ),
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if archive_kind(data[:512]) is not None:
        return Member(name, error=(ErrorKind.NESTED_ARCHIVE, "an archive inside the archive"))
    return Member(name, data=data)


def _zip_members(
    path: Path, limits: ArchiveLimits, max_bytes: int, skip: frozenset[str]
) -> Iterator[Member]:
    budget = _Budget(limits)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(f"the zip archive is damaged: {exc}") from exc
    seen: dict[str, int] = {}
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            budget.next_member()
            name = _unique(info.filename, seen)
            if name in skip:
                continue
            reason = _unsafe_name(info.filename)
            if reason is None and stat.S_ISLNK(info.external_attr >> 16):
                reason = "it is a symbolic link"
            if reason is not None:
                yield Member(name, error=(ErrorKind.ARCHIVE, f"member refused: {reason}"))
                continue
            try:
                with archive.open(info) as stream:
                    yield _read_stream(stream, name, info.compress_size, budget, max_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as exc:
                yield Member(name, error=(ErrorKind.ARCHIVE, f"member damaged: {exc}"))


def _tar_members(
    path: Path, limits: ArchiveLimits, max_bytes: int, skip: frozenset[str]
) -> Iterator[Member]:
    budget = _Budget(limits)
    seen: dict[str, int] = {}
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for info in archive:
                if info.isdir():
                    continue
                budget.next_member()
                name = _unique(info.name, seen)
                if name in skip:
                    continue
                reason = _unsafe_name(info.name)
                if reason is None and not info.isreg():
                    reason = "it is a link or a device, not a file"
                if reason is not None:
                    yield Member(name, error=(ErrorKind.ARCHIVE, f"member refused: {reason}"))
                    continue
                stream = archive.extractfile(info)
                if stream is None:
                    continue
                yield _read_stream(stream, name, None, budget, max_bytes)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"the tar archive is damaged: {exc}") from exc


def _unique(name: str, seen: dict[str, int]) -> str:
    # Two members may carry the same name; each is still one result.
    count = seen.get(name, 0)
    seen[name] = count + 1
    return name if count == 0 else f"{name}#{count + 1}"


__all__ = ["ArchiveError", "Member", "archive_kind", "read_members"]
