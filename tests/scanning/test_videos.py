"""Videos in a scan match banked videos under vPDQ's rule (shared test media; edited
copies made with PyAV), agree with the brute-force twin, and the snapshot carries the
banked videos of the chosen banks, active ones only."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from reclaim.banks import banking, videos
from reclaim.banks.domain import Category, EntrySource
from reclaim.domain.signals import Signal, SignalType
from reclaim.hashing import HashingLimits, HashRequest, VideoHashes, hash_file
from reclaim.matching.video import FrameList, VideoRule, brute_force_video_matches
from reclaim.scanning import parts
from reclaim.scanning.domain import Batch, Unit, UnitKind
from reclaim.scanning.snapshot import (
    Entry,
    Snapshot,
    bank_entries,
    video_frames,
    write_snapshot,
)
from reclaim.scanning.worker import ScanJob, scan_batch
from tests.support.testdata import VIDEOS
from tests.support.videos import variant

ORIGINAL = VIDEOS / "chair-orig-22-sd-bar.mp4"
OTHER = VIDEOS / "pattern-sd-grey-bar.mp4"
EXACT = VIDEOS / "doorknob-hd-no-bar.mp4"
RULE = VideoRule()


def frames_of(path: Path) -> FrameList:
    hashed = hash_file(path, HashingLimits(), request=HashRequest())
    assert isinstance(hashed, VideoHashes)
    return video_frames(hashed)


def video_entry(entry_id: int, frames: FrameList, bank: str = "csam-verified") -> Entry:
    return Entry(entry_id, bank, "csam", True, videos.signal_of(frames), frames)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("device")
    # Trimmed at whole seconds and re-encoded harder: vPDQ samples a frame a second.
    (folder / "trimmed.mp4").write_bytes(
        variant(ORIGINAL, skip_seconds=2.0, max_seconds=21.0, crf=34)
    )
    shutil.copy(OTHER, folder / "other.mp4")
    shutil.copy(EXACT, folder / "copy.mp4")
    return folder


def test_a_trimmed_reencoded_copy_matches_the_banked_video_and_agrees_with_the_twin(
    tmp_path: Path, scanned: Path
) -> None:
    original = frames_of(ORIGINAL)
    exact = hash_file(EXACT, HashingLimits(), request=HashRequest())
    assert isinstance(exact, VideoHashes)
    # A still of the original banked as a picture: a video is matched as a video only.
    still = next(f for f in original.frames() if f[3] >= 50)
    entries = [
        video_entry(10, original),
        Entry(11, "csam-verified", "csam", True, Signal(SignalType.PDQ, still[2])),
        Entry(12, "ncii", "adult_ncii", False, Signal(SignalType.SHA256, exact.sha256)),
    ]
    job = ScanJob(
        results=tmp_path / "results",
        snapshot=tmp_path / "results" / "index",
        limits=HashingLimits(),
        request=HashRequest(),
        max_distance=31,
        video_rule=RULE,
    )
    write_snapshot(job.snapshot, entries)
    files = sorted(scanned.iterdir())

    scan_batch(Batch(tuple(Unit(UnitKind.FILE, str(p)) for p in files)), job)

    records = {Path(r["source"]).name: r for r in parts.read_all(job.results).values()}
    trimmed = records["trimmed.mp4"]
    assert trimmed["kind"] == "video" and trimmed["frames"] == 19
    (match,) = trimmed["matches"]
    assert match["entry"] == 10 and match["by"] == "vpdq"
    assert match["bank"] == "csam-verified" and match["verified"] is True
    assert match["query_percent"] >= 80 and match["target_percent"] >= 80
    assert records["other.mp4"]["matches"] == []
    (by_digest,) = records["copy.mp4"]["matches"]
    assert by_digest == {
        "entry": 12,
        "bank": "ncii",
        "category": "adult_ncii",
        "verified": False,
        "by": "sha256",
        "distance": 0,
    }
    assert records["copy.mp4"]["vpdq"] == videos.signal_of(frames_of(EXACT)).value
    # The twin: every scanned video against every banked video, frame by frame.
    banked = {e.id: e.frames for e in entries if e.frames is not None}
    for name in ("trimmed.mp4", "other.mp4"):
        hits = brute_force_video_matches(frames_of(scanned / name), banked)
        twin = [h for h in hits if h.is_match]
        found = [m for m in records[name]["matches"] if m["by"] == "vpdq"]
        assert [m["entry"] for m in found] == [h.entry_id for h in twin], name
        for m, h in zip(found, twin, strict=True):
            assert m["query_percent"] == round(h.query_percent, 2)
            assert m["target_percent"] == round(h.target_percent, 2)


def test_the_snapshot_maps_the_banked_frames_and_a_stricter_rule_refuses_the_copy(
    tmp_path: Path, scanned: Path
) -> None:
    write_snapshot(tmp_path / "index", [video_entry(7, frames_of(ORIGINAL))])
    snapshot = Snapshot(tmp_path / "index")
    query = frames_of(scanned / "trimmed.mp4")

    assert len(snapshot.videos) == 1
    assert isinstance(snapshot.videos._frames._main.hashes, np.memmap)
    (loose,) = snapshot.match_frames("0" * 32, "0" * 64, query, RULE)
    assert loose["entry"] == 7
    # The banked video is longer than the copy: demanding all of it refuses the match.
    strict = VideoRule(target_match_percent=99.0)
    assert snapshot.match_frames("0" * 32, "0" * 64, query, strict) == []


def _bank_video(session: Session, frames: FrameList, category: Category) -> None:
    banking.add_signals(
        session,
        banking.verified_bank(session, category),
        [
            banking.NewEntry(
                videos.signal_of(frames),
                videos.best_quality(frames),
                verified=True,
                category=category,
                verified_via="test",
                frames=frames,
            )
        ],
        source=EntrySource.IMPORT,
        source_ref="test",
        min_pdq_quality=50,
    )


def test_bank_entries_carry_the_frames_of_the_chosen_banks_active_videos(
    session: Session,
) -> None:
    original, other = frames_of(ORIGINAL), frames_of(OTHER)
    _bank_video(session, original, Category.CSAM)
    _bank_video(session, other, Category.SELF_GENERATED_MINOR)
    session.commit()
    csam = banking.verified_bank(session, Category.CSAM)
    minor = banking.verified_bank(session, Category.SELF_GENERATED_MINOR)

    every = {e.signal.value: e for e in bank_entries(session, None)}
    only_csam = bank_entries(session, [csam.name])
    banking.withdraw_signals(session, minor, [videos.signal_of(other)])
    session.commit()
    after = bank_entries(session, None)

    assert set(every) == {original.fingerprint(), other.fingerprint()}
    stored = every[original.fingerprint()]
    assert stored.verified and stored.bank == csam.name
    assert stored.frames is not None and stored.frames.fingerprint() == original.fingerprint()
    assert [e.signal.value for e in only_csam] == [original.fingerprint()]
    assert [e.signal.value for e in after] == [original.fingerprint()]
