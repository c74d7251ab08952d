"""One batch on one worker, without Dask: hashes, matches (against a brute-force twin),
and the part file that makes scans resumable."""

from __future__ import annotations

import json
from pathlib import Path

from reclaim.hashing import HashingLimits, HashRequest
from reclaim.scanning import parts
from reclaim.scanning.domain import Batch, Unit, UnitKind, batches
from reclaim.scanning.snapshot import write_snapshot
from reclaim.scanning.worker import ScanJob, scan_batch
from tests.support.scanning import brute_force, entries_for, hostile_zip, photos, write_folder

DISTANCE = 31


def job(tmp_path: Path) -> ScanJob:
    return ScanJob(
        results=tmp_path / "results",
        snapshot=tmp_path / "results" / "index",
        limits=HashingLimits(),
        request=HashRequest(),
        max_distance=DISTANCE,
    )


def test_a_batch_matches_what_the_brute_force_twin_matches(tmp_path: Path) -> None:
    images = photos(6)
    banked = entries_for(images[:3])
    files = write_folder(tmp_path / "device", images)
    scan = job(tmp_path)
    write_snapshot(scan.snapshot, banked)
    batch = Batch(tuple(Unit(UnitKind.FILE, str(p)) for p in files))

    done = scan_batch(batch, scan)

    assert done.written == 6
    records = parts.read_all(scan.results)
    assert set(records) == {f"file:{p}" for p in files}
    matched = 0
    for record in records.values():
        ids = {m["entry"] for m in record["matches"]}
        assert ids == brute_force((record["pdq"], record["md5"]), banked, DISTANCE)
        matched += bool(ids)
        assert all(m["bank"] == "csam-verified" and m["verified"] for m in record["matches"])
    assert matched == 3


def test_a_rerun_batch_hashes_nothing_twice_and_a_torn_line_is_redone(tmp_path: Path) -> None:
    images = photos(3)
    files = write_folder(tmp_path / "device", images)
    scan = job(tmp_path)
    write_snapshot(scan.snapshot, [])
    batch = Batch(tuple(Unit(UnitKind.FILE, str(p)) for p in files))
    scan_batch(batch, scan)
    part = parts.part_path(scan.results, batch.id)
    lines = part.read_bytes().splitlines(keepends=True)
    # As if the worker died while writing the third line.
    part.write_bytes(b"".join(lines[:2]) + lines[2][:25])

    again = scan_batch(batch, scan)

    assert again.written == 1
    records = [json.loads(line) for line in part.read_bytes().splitlines()]
    assert sorted(r["key"] for r in records) == sorted(f"file:{p}" for p in files)
    assert scan_batch(batch, scan).written == 0


def test_archive_members_become_results_and_the_archive_line_comes_last(tmp_path: Path) -> None:
    images = photos(2)
    archive = tmp_path / "seized.zip"
    archive.write_bytes(hostile_zip(images))
    scan = job(tmp_path)
    write_snapshot(scan.snapshot, entries_for(images[:1]))
    unit = Unit(UnitKind.ARCHIVE, str(archive))

    scan_batch(Batch((unit,)), scan)

    lines = parts.read_part(parts.part_path(scan.results, Batch((unit,)).id))
    assert lines[-1]["key"] == unit.key
    assert lines[-1]["members"] == 7  # two good, five refused
    members = {r["source"].split("!", 1)[1]: r for r in lines[:-1]}
    assert members["good/0.jpg"]["matches"]
    assert not members["good/1.jpg"]["matches"]
    assert members["../escape.jpg"]["error"]["kind"] == "archive"
    assert members["nested.zip"]["error"]["kind"] == "nested_archive"


def test_batches_keep_archives_to_themselves() -> None:
    units = [Unit(UnitKind.FILE, f"/f{i}") for i in range(5)] + [Unit(UnitKind.ARCHIVE, "/a.zip")]
    grouped = batches(units, 2)
    assert [len(b.units) for b in grouped] == [2, 2, 1, 1]
    assert grouped[-1].units[0].kind is UnitKind.ARCHIVE
    assert len({b.id for b in grouped}) == 4
