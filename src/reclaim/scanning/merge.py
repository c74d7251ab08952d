"""The part files merged into one stream of results, each key once, in key order.

A scan of a hundred million files leaves tens of gigabytes of part files; holding
them in memory to sort them is not an option.  :func:`merged` is an external merge
sort with bounded memory: it reads the part files in order, sorts runs of at most
``run_bytes`` of result lines in memory, spills each run to a temporary file in the
results folder (beside the part files, so on the same disk), and merges the runs
``fan_in`` at a time (a first pass merges groups of runs into longer runs when there
are too many to keep open at once).  A scan that fits in one run never touches the
disk.

"Each key once" keeps the parts' rule: when a key has several lines (a batch re-run
before its first run's lines were seen), the first one in part-file order wins.  Runs
are cut from the input in order and sorted stably, and ``heapq.merge`` takes equal
keys from earlier runs first, so the first line stays first through every pass.
"""

from __future__ import annotations

import heapq
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from reclaim.scanning.parts import Record, iter_part, part_paths

#: Result lines sorted in memory at once (about 65,000 results of 500 bytes; the
#: Python objects holding them take about 1.5 times as much: some 50 MB).
RUN_BYTES = 32 * 1024 * 1024
#: Runs merged at once (each an open file and one buffered line).
FAN_IN = 64


def merged(results: Path, *, run_bytes: int = RUN_BYTES, fan_in: int = FAN_IN) -> Iterator[Record]:
    """Every result of the scan in ``results`` once, sorted by key."""
    if fan_in < 2:
        raise ValueError("fan_in must be at least 2")
    with tempfile.TemporaryDirectory(prefix="merge-", dir=results) as scratch:
        runs: list[Path] = []
        chunk: list[tuple[str, bytes]] = []
        size = 0
        for path in part_paths(results):
            for record in iter_part(path):
                line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
                chunk.append((record["key"], line))
                size += len(line) + 64
                if size >= run_bytes:
                    runs.append(_spill(chunk, Path(scratch), len(runs)))
                    chunk, size = [], 0
        if not runs:
            chunk.sort(key=lambda item: item[0])
            yield from _first_of_each(json.loads(line) for _key, line in chunk)
            return
        if chunk:
            runs.append(_spill(chunk, Path(scratch), len(runs)))
        del chunk
        generation = 0
        while len(runs) > fan_in:
            generation += 1
            runs = [
                _merge_to_file(runs[i : i + fan_in], Path(scratch) / f"g{generation}-{i}.jsonl")
                for i in range(0, len(runs), fan_in)
            ]
        yield from _first_of_each(_merge(runs))


def _spill(chunk: list[tuple[str, bytes]], folder: Path, number: int) -> Path:
    chunk.sort(key=lambda item: item[0])  # stable: equal keys keep their input order
    path = folder / f"run-{number:06}.jsonl"
    with path.open("wb") as out:
        for _key, line in chunk:
            out.write(line + b"\n")
    return path


def _read_run(file: IO[bytes]) -> Iterator[Record]:
    for line in file:
        record: Record = json.loads(line)
        yield record


def _merge(runs: list[Path]) -> Iterator[Record]:
    files = [path.open("rb") for path in runs]
    try:
        yield from heapq.merge(*(_read_run(f) for f in files), key=lambda r: str(r["key"]))
    finally:
        for file in files:
            file.close()


def _merge_to_file(runs: list[Path], target: Path) -> Path:
    with target.open("wb") as out:
        for record in _merge(runs):
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n")
    for path in runs:
        path.unlink()
    return target


def _first_of_each(records: Iterable[Record]) -> Iterator[Record]:
    last: str | None = None
    for record in records:
        if record["key"] != last:
            last = record["key"]
            yield record


def remove_leftovers(results: Path) -> None:
    """Scratch folders of a merge that was killed (the next merge starts afresh)."""
    for folder in results.glob("merge-*"):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["FAN_IN", "RUN_BYTES", "merged", "remove_leftovers"]
