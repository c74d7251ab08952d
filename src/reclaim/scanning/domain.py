"""What a scan is made of: units of work, their results, and the kinds of failure.

Pure values only.  A scan enumerates its sources into :class:`Unit` values, each with a
stable ``key`` (what "every file exactly once" counts), groups them into batches for
the workers, and records one result line per unit.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass


class UnitKind(enum.StrEnum):
    FILE = "file"  # a file in a folder (or named on the command line)
    ARCHIVE = "archive"  # a zip or tar file: its members become results
    URL = "url"  # a line of a URL list, fetched through the safe fetcher


class ErrorKind(enum.StrEnum):
    """Why a file has no hashes; the summary counts errors by kind."""

    UNSUPPORTED = "unsupported"  # not an image or video Reclaim decodes
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"  # byte or pixel limit (decompression bombs included)
    UNREADABLE = "unreadable"
    TIMEOUT = "timeout"
    FETCH = "fetch"  # the safe fetcher refused or failed
    ARCHIVE = "archive"  # a hostile or damaged archive member (bomb, path trick, link...)
    NESTED_ARCHIVE = "nested_archive"  # an archive inside an archive is not opened


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing to scan: a file, an archive (whose members are scanned), or a URL."""

    kind: UnitKind
    location: str  # absolute path, or the URL

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.location}"


def member_key(archive: str, member: str) -> str:
    """The result key of one archive member."""
    return f"member:{archive}!{member}"


@dataclass(frozen=True, slots=True)
class Batch:
    """Units given to one worker task; its id names its part file of results."""

    units: tuple[Unit, ...]

    @property
    def id(self) -> str:
        digest = hashlib.sha256("\n".join(u.key for u in self.units).encode()).hexdigest()
        return digest[:24]


def batches(units: list[Unit], size: int) -> list[Batch]:
    """Files and URLs in batches of ``size``; each archive a batch of its own."""
    plain = [u for u in units if u.kind is not UnitKind.ARCHIVE]
    grouped = [Batch(tuple(plain[i : i + size])) for i in range(0, len(plain), size)]
    grouped.extend(Batch((u,)) for u in units if u.kind is UnitKind.ARCHIVE)
    return grouped


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what an archive may make the scanner read.

    ``max_ratio`` catches bombs (a member that inflates far beyond its compressed size
    is refused before it is inflated in full); ``max_total_bytes`` bounds the whole
    archive's uncompressed size and ``max_members`` its member count.
    """

    max_members: int = 100_000
    max_total_bytes: int = 64 * 1024 * 1024 * 1024
    max_ratio: float = 200.0


__all__ = [
    "ArchiveLimits",
    "Batch",
    "ErrorKind",
    "Unit",
    "UnitKind",
    "batches",
    "member_key",
]
