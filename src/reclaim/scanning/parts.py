"""Result lines as workers write them: one append-only part file per batch.

This is what makes a scan resumable.  A worker appends each file's result to its
batch's part file as soon as it has it, and flushes; the part files live in the
results directory, which workers and client share.  Whoever dies (the client, a
worker, the machine), what is on disk is every finished result plus at most one
half-written line, which readers ignore and writers cut off before appending.  A batch
that Dask re-runs on another worker, or that ``--resume`` submits again, first reads
its part file and skips what is already there: no file is hashed twice and none is
recorded twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

Record = dict[str, Any]

PARTS = "parts"


def part_path(results: Path, batch_id: str) -> Path:
    return results / PARTS / f"{batch_id}.jsonl"


def read_part(path: Path) -> list[Record]:
    """The complete lines of one part file (a torn last line is not a result)."""
    return list(iter_part(path))


def iter_part(path: Path) -> Iterator[Record]:
    """:func:`read_part` line by line, for part files too big to hold."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return
    with file:
        for line in file:
            if not line.endswith(b"\n"):
                return  # torn: the writer died while writing it
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                yield record


def part_paths(results: Path) -> list[Path]:
    """The part files of a scan, in the order whose first line for a key wins."""
    folder = results / PARTS
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def read_all(results: Path) -> dict[str, Record]:
    """Every recorded result by key, the first line for a key winning (in memory: for
    small scans and tests; the final outputs use :mod:`reclaim.scanning.merge`)."""
    found: dict[str, Record] = {}
    for path in part_paths(results):
        for record in iter_part(path):
            found.setdefault(record["key"], record)
    return found


def done_keys(results: Path) -> set[str]:
    """The keys that have a result (only the keys are held, not the results)."""
    return {record["key"] for path in part_paths(results) for record in iter_part(path)}


@contextmanager
def appending(path: Path) -> Iterator[IO[str]]:
    """Open a part file for appending, after cutting off a torn last line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _cut_torn_line(path)
    with path.open("a", encoding="utf-8") as file:
        try:
            yield file
        finally:
            file.flush()
            os.fsync(file.fileno())


def write_record(file: IO[str], record: Record) -> None:
    file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    file.flush()


def _cut_torn_line(path: Path) -> None:
    try:
        with path.open("rb+") as file:
            size = file.seek(0, os.SEEK_END)
            if size == 0:
                return
            file.seek(max(0, size - 65536))
            tail = file.read()
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            keep = size - len(tail) + cut + 1 if cut >= 0 else 0
            if cut < 0 and size > len(tail):
                keep = _last_newline(file, size - len(tail))
            file.truncate(keep)
    except FileNotFoundError:
        return


def _last_newline(file: IO[bytes], before: int) -> int:
    # A torn line longer than the tail read above: search backwards for its start.
    position = before
    while position > 0:
        start = max(0, position - 65536)
        file.seek(start)
        block = file.read(position - start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        position = start
    return 0


__all__ = [
    "PARTS",
    "Record",
    "appending",
    "done_keys",
    "iter_part",
    "part_path",
    "part_paths",
    "read_all",
    "read_part",
    "write_record",
]
