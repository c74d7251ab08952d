"""What runs on a Dask worker: one batch of units hashed, matched and written down.

:func:`scan_batch` is the only function the client sends to the cluster.  It takes
plain, picklable values (a :class:`Batch` and a :class:`ScanJob`), opens the bank
snapshot once per worker process, and appends one result line per file to the batch's
part file (see :mod:`reclaim.scanning.parts` for why that makes scans resumable).  It
returns only counts, so the client's memory does not grow with the scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reclaim.fetching import FetchError, FetchPolicy, SafeFetcher
from reclaim.hashing import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    HashingError,
    HashingLimits,
    HashingTimeoutError,
    HashRequest,
    HashResult,
    ImageHashes,
    ImageTooLargeError,
    UnreadableFileError,
    UnsupportedFormatError,
    VideoTooLongError,
    hash_bytes,
    hash_file,
)
from reclaim.matching.video import VideoRule
from reclaim.scanning import parts
from reclaim.scanning.archives import ArchiveError, read_members
from reclaim.scanning.domain import ArchiveLimits, Batch, ErrorKind, Unit, UnitKind, member_key
from reclaim.scanning.snapshot import Snapshot, open_snapshot, video_frames

_ERROR_KINDS: tuple[tuple[type[HashingError], ErrorKind], ...] = (
    (UnsupportedFormatError, ErrorKind.UNSUPPORTED),
    (CorruptFileError, ErrorKind.CORRUPT),
    (EmptyFileError, ErrorKind.CORRUPT),
    (FileTooLargeError, ErrorKind.TOO_LARGE),
    (ImageTooLargeError, ErrorKind.TOO_LARGE),
    (VideoTooLongError, ErrorKind.TOO_LARGE),
    (UnreadableFileError, ErrorKind.UNREADABLE),
    (HashingTimeoutError, ErrorKind.TIMEOUT),
)


@dataclass(frozen=True, slots=True)
class ScanJob:
    """Everything a worker needs besides the batch: plain values, no settings object."""

    results: Path
    snapshot: Path
    limits: HashingLimits
    request: HashRequest
    max_distance: int
    video_rule: VideoRule = field(default_factory=VideoRule)
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    seconds_per_hash: float = 1.0


@dataclass(frozen=True, slots=True)
class BatchDone:
    batch_id: str
    written: int  # result lines this run wrote (0 when the batch was already complete)
    units: int


def scan_batch(batch: Batch, job: ScanJob) -> BatchDone:
    """Hash and match every unit of ``batch`` not already in its part file."""
    path = parts.part_path(job.results, batch.id)
    done = {record["key"] for record in parts.read_part(path)}
    snapshot = open_snapshot(job.snapshot)
    written = 0
    with parts.appending(path) as out:
        for unit in batch.units:
            if unit.key in done:
                continue
            if unit.kind is UnitKind.ARCHIVE:
                written += _scan_archive(unit, job, snapshot, done, out)
            else:
                record = _scan_one(unit, job, snapshot)
                parts.write_record(out, record)
                written += 1
    return BatchDone(batch.id, written, len(batch.units))


def _scan_one(unit: Unit, job: ScanJob, snapshot: Snapshot) -> dict[str, Any]:
    record: dict[str, Any] = {"key": unit.key, "source": unit.location, "origin": unit.kind.value}
    try:
        if unit.kind is UnitKind.URL:
            data = _fetch(unit.location, job.fetch_policy)
            result = hash_bytes(
                data, job.limits, seconds_per_hash=job.seconds_per_hash, request=job.request
            )
            record["size"] = len(data)
        else:
            result = hash_file(
                unit.location,
                job.limits,
                seconds_per_hash=job.seconds_per_hash,
                request=job.request,
            )
            record["size"] = Path(unit.location).stat().st_size
    except _Refused as exc:
        return record | {"error": {"kind": exc.kind.value, "message": str(exc)}}
    except HashingError as exc:
        return record | {"error": {"kind": _kind_of(exc).value, "message": str(exc)}}
    return record | _hashed(result, job, snapshot)


def _scan_archive(
    unit: Unit, job: ScanJob, snapshot: Snapshot, done: set[str], out: IO[str]
) -> int:
    written = 0
    skip = frozenset(k.split("!", 1)[1] for k in done if k.startswith(f"member:{unit.location}!"))
    archive_record: dict[str, Any] = {"key": unit.key, "source": unit.location, "origin": "archive"}
    members = 0
    try:
        for member in read_members(
            Path(unit.location), job.archive_limits, job.limits.max_file_bytes, skip
        ):
            members += 1
            record: dict[str, Any] = {
                "key": member_key(unit.location, member.name),
                "source": f"{unit.location}!{member.name}",
                "origin": "member",
            }
            if member.data is None:
                kind, message = member.error or (ErrorKind.ARCHIVE, "member not read")
                record["error"] = {"kind": kind.value, "message": message}
            else:
                record["size"] = len(member.data)
                try:
                    result = hash_bytes(
                        member.data,
                        job.limits,
                        seconds_per_hash=job.seconds_per_hash,
                        request=job.request,
                    )
                except HashingError as exc:
                    record["error"] = {"kind": _kind_of(exc).value, "message": str(exc)}
                else:
                    record |= _hashed(result, job, snapshot)
            parts.write_record(out, record)
            written += 1
    except (ArchiveError, OSError) as exc:
        archive_record["error"] = {"kind": ErrorKind.ARCHIVE.value, "message": str(exc)}
    archive_record["members"] = members + len(skip)
    # Written last: an archive is complete only once this line exists.
    parts.write_record(out, archive_record)
    return written + 1


def _hashed(result: HashResult, job: ScanJob, snapshot: Snapshot) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "kind": result.kind.value,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "md5": result.md5,
        "sha256": result.sha256,
    }
    if isinstance(result, ImageHashes):
        shape["pdq"] = result.pdq.value
        shape["quality"] = result.pdq.quality
        if result.pdq_threatexchange is not None:
            shape["pdq_threatexchange"] = result.pdq_threatexchange.value
        shape["matches"] = snapshot.match_image(
            result, job.max_distance, dihedral=job.request.dihedral
        )
    else:
        frames = video_frames(result)
        shape["frames"] = len(frames)
        if len(frames):
            # The vpdq signal's value, as a bank holds it (the frame list's fingerprint).
            shape["vpdq"] = frames.fingerprint()
        shape["matches"] = snapshot.match_frames(result.md5, result.sha256, frames, job.video_rule)
    return shape


class _Refused(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _fetch(url: str, policy: FetchPolicy) -> bytes:
    try:
        fetched = SafeFetcher(policy).fetch_sync(url)
    except FetchError as exc:
        raise _Refused(ErrorKind.FETCH, str(exc)) from exc
    if not fetched.is_success:
        raise _Refused(ErrorKind.FETCH, f"the server answered HTTP {fetched.status_code}")
    if fetched.kind == "page":
        raise _Refused(ErrorKind.UNSUPPORTED, "the URL is a web page, not an image or video")
    return fetched.content


def _kind_of(exc: HashingError) -> ErrorKind:
    for error_type, kind in _ERROR_KINDS:
        if isinstance(exc, error_type):
            return kind
    return ErrorKind.CORRUPT


__all__ = ["BatchDone", "ScanJob", "scan_batch"]
