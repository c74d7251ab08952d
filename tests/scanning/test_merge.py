"""The final merge streams: part files to results.jsonl, CSV and Parquet in key order,
each key once (the first line winning), with memory bounded whatever the result count."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from reclaim.scanning import merge, parts, reports


def record(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "key": f"file:/evidence/{number:07}.jpg",
        "source": f"/evidence/{number:07}.jpg",
        "origin": "file",
        "kind": "image",
        "format": "JPEG",
        "size": 1000 + number,
        "md5": f"{number:032x}",
        "sha256": f"{number:064x}",
        "pdq": f"{number * 7919:064x}",
        "quality": 100,
        "matches": [],
        **extra,
    }


def write_parts(results: Path, numbers: list[int], per_part: int) -> None:
    for start in range(0, len(numbers), per_part):
        path = parts.part_path(results, f"{start:08}")
        with parts.appending(path) as out:
            for number in numbers[start : start + per_part]:
                parts.write_record(out, record(number))


def test_a_merge_in_many_runs_equals_the_in_memory_merge_and_the_first_line_wins(
    tmp_path: Path,
) -> None:
    numbers = list(range(400))
    random.Random(4).shuffle(numbers)
    write_parts(tmp_path, numbers, per_part=37)
    # A key written again in a later part file (a batch that re-ran) and a torn line.
    with parts.appending(parts.part_path(tmp_path, "zzzz")) as out:
        parts.write_record(out, record(numbers[0], note="second"))
    with parts.part_path(tmp_path, "zzzz").open("a") as out:
        out.write('{"key": "file:/evidence/torn')

    # Runs of ~2 kB and two runs merged at a time: several spill and merge passes.
    streamed = list(merge.merged(tmp_path, run_bytes=2000, fan_in=2))
    in_memory = list(merge.merged(tmp_path))

    expected = parts.read_all(tmp_path)
    assert [r["key"] for r in streamed] == sorted(expected)
    assert streamed == [expected[k] for k in sorted(expected)] == in_memory
    assert "note" not in next(r for r in streamed if r["key"] == record(numbers[0])["key"])
    assert not list(tmp_path.glob("merge-*"))  # the scratch runs are gone

    # A merge killed half-way leaves its scratch folder; the next one clears it first.
    (tmp_path / "merge-killed").mkdir()
    (tmp_path / "merge-killed" / "run-000000.jsonl").write_text("{}\n")
    merge.remove_leftovers(tmp_path)
    assert not list(tmp_path.glob("merge-*"))
    assert parts.read_all(tmp_path) == expected


def test_the_outputs_are_written_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "PARQUET_ROWS", 7)
    numbers = list(range(50))
    random.Random(5).shuffle(numbers)
    write_parts(tmp_path, numbers, per_part=9)
    match = {"entry": 3, "bank": "csam-verified", "category": "csam", "verified": True}
    with parts.appending(parts.part_path(tmp_path, "extra")) as out:
        parts.write_record(
            out,
            record(50, kind="video", matches=[match | {"by": "vpdq", "query_percent": 90.0}]),
        )
        parts.write_record(out, record(51, matches=[match | {"by": "pdq", "distance": 4}]))
        parts.write_record(
            out,
            {
                "key": "file:/evidence/=cmd.jpg",
                "source": "=cmd|' /C calc'!A0",
                "origin": "file",
                "error": {"kind": "corrupt", "message": "bad"},
            },
        )

    summary = reports.write_outputs(tmp_path, merge.merged(tmp_path, run_bytes=3000))

    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["key"] for r in lines] == sorted(r["key"] for r in lines)
    assert len(lines) == 53
    assert (summary.files, summary.hashed, summary.matched) == (53, 52, 2)
    assert summary.videos_matched == 1
    assert (
        "Videos matching a banked video (vPDQ)</th><td>1<"
        in (tmp_path / "summary.html").read_text()
    )
    assert summary.errors == {"corrupt": 1}
    table = (tmp_path / "results.csv").read_bytes()
    assert table.startswith(b"\xef\xbb\xbf") and table.count(b"\r\n") == 54
    assert b"'=cmd|" in table  # no formula
    parquet = pq.ParquetFile(tmp_path / "results.parquet")
    assert parquet.metadata.num_rows == 53 and parquet.metadata.num_row_groups == 8
    rows = parquet.read().to_pylist()
    assert [r["key"] for r in rows] == [r["key"] for r in lines]
    by_key = {r["key"]: r for r in rows}
    video = by_key[record(50)["key"]]
    assert video["matched"] == "yes" and video["best_distance"] is None
    assert by_key[record(51)["key"]]["best_distance"] == 4
    assert not list(tmp_path.glob("*.tmp"))


def test_memory_stays_bounded_as_results_grow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 24,000 results (about 9 MB of part files) merged and written with 256 kB runs and
    # Parquet row groups of 1,000: the Python heap at its peak is a small fraction of
    # the results (what is held is a run, a row group and a line per run).
    monkeypatch.setattr(reports, "PARQUET_ROWS", 1000)
    numbers = list(range(24_000))
    random.Random(6).shuffle(numbers)
    write_parts(tmp_path, numbers, per_part=500)
    total = sum(p.stat().st_size for p in parts.part_paths(tmp_path))

    tracemalloc.start()
    try:
        reports.write_outputs(tmp_path, merge.merged(tmp_path, run_bytes=256 * 1024))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total > 8_000_000
    assert peak < total / 4, (peak, total)
    with (tmp_path / "results.jsonl").open("rb") as written:
        assert sum(1 for _ in written) == 24_000
