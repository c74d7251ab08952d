"""vPDQ signals in the banks: stored with their frames, matched as videos, withdrawn,
exported and imported in python-threatexchange's format and Reclaim's JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.banks import videos
from reclaim.banks.banking import (
    NewEntry,
    add_signals,
    ensure_builtin_banks,
    get_bank,
    withdraw_signals,
)
from reclaim.banks.contents import active_entries
from reclaim.banks.domain import VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.engine import MatchEngine
from reclaim.banks.formats import BankFormat, LineError, read_entries, write_entries
from reclaim.banks.models import VideoFrames
from reclaim.domain.signals import SignalType
from reclaim.matching.video import FrameList, VideoRule
from tests.support.hash_banks import flip_bits

SEXTORTION = VERIFIED_BANKS[Category.SEXTORTION]


def a_video(seed: int, seconds: int = 20) -> FrameList:
    rng = np.random.default_rng(seed)
    scenes = rng.integers(0, 256, size=(seconds // 4 + 1, 32), dtype=np.uint8)
    hashes = np.repeat(scenes, 4, axis=0)[:seconds]
    return FrameList.from_frames(
        (i * 30, float(i), row.tobytes().hex(), 90) for i, row in enumerate(hashes)
    )


def edited(video: FrameList, seed: int, bits: int = 12) -> FrameList:
    rng = np.random.default_rng(seed)
    rows = flip_bits(video.hashes[video.frame_hash], np.full(len(video), bits), rng)[4:]
    return FrameList.from_frames(
        (i * 25, i * 1.0, row.tobytes().hex(), 80) for i, row in enumerate(rows)
    )


def bank_video(session: Session, frames: FrameList, bank: str = SEXTORTION) -> None:
    into = get_bank(session, bank)
    outcome = add_signals(
        session,
        into,
        [
            NewEntry(
                videos.signal_of(frames),
                videos.best_quality(frames),
                verified=into.verified,
                category=into.category or Category.UNKNOWN,
                verified_via="test",
                frames=frames,
            )
        ],
        source=EntrySource.IMPORT,
        source_ref=None,
        min_pdq_quality=50,
    )
    assert outcome.added + outcome.unchanged + outcome.reactivated == 1, outcome.rejected
    session.commit()


@pytest.fixture
def banks(session: Session) -> Session:
    ensure_builtin_banks(session)
    session.commit()
    return session


def test_a_banked_video_matches_its_edit_and_not_another(banks: Session, tmp_path: Path) -> None:
    original = a_video(1)
    bank_video(banks, original)
    bank_video(banks, original)  # idempotent: frames stored once
    assert banks.scalar(select(func.count()).select_from(VideoFrames)) == 1
    engine = MatchEngine()
    found = engine.match_video(banks, edited(original, 2), VideoRule())
    assert [(m.bank, m.category, m.verified) for m in found] == [
        (SEXTORTION, Category.SEXTORTION, True)
    ]
    assert found[0].signal.type is SignalType.VPDQ
    assert found[0].signal.value == original.fingerprint()
    assert found[0].query_percent == 100.0 and found[0].target_percent == 80.0
    assert engine.match_video(banks, a_video(3), VideoRule()) == []
    # A stricter banked-side threshold turns the trimmed copy away.
    assert engine.match_video(banks, edited(original, 2), VideoRule(target_match_percent=85)) == []

    engine.save(tmp_path / "index")
    loaded = MatchEngine.load(tmp_path / "index", banks)
    assert loaded.match_video(banks, edited(original, 2), VideoRule()) == found

    withdraw_signals(banks, get_bank(banks, SEXTORTION), [videos.signal_of(original)])
    banks.commit()
    assert engine.match_video(banks, edited(original, 2), VideoRule()) == []
    assert loaded.match_video(banks, edited(original, 2), VideoRule()) == []


def test_a_vpdq_entry_without_frames_is_refused(banks: Session) -> None:
    frames = a_video(4)
    outcome = add_signals(
        banks,
        get_bank(banks, "unverified"),
        [NewEntry(videos.signal_of(frames), 90)],
        source=EntrySource.IMPORT,
        source_ref=None,
        min_pdq_quality=50,
    )
    assert outcome.added == 0
    assert [reason for _s, reason in outcome.rejected] == ["a vPDQ signal needs its frame list"]


def test_a_video_without_detail_is_not_banked(banks: Session) -> None:
    dull = FrameList.from_frames([(0, 0.0, "0" * 64, 10)])
    outcome = add_signals(
        banks,
        get_bank(banks, "unverified"),
        [NewEntry(videos.signal_of(dull), videos.best_quality(dull), frames=dull)],
        source=EntrySource.IMPORT,
        source_ref=None,
        min_pdq_quality=50,
    )
    assert outcome.added == 0 and "too little detail" in outcome.rejected[0][1]


@pytest.mark.parametrize("file_format", [BankFormat.LOCAL_FILE, BankFormat.JSONL])
def test_export_and_import_round_trip(banks: Session, file_format: BankFormat) -> None:
    original = a_video(5)
    bank_video(banks, original)
    text = "".join(write_entries(active_entries(banks, get_bank(banks, SEXTORTION)), file_format))
    parsed = [p for _n, p in read_entries(io.StringIO(text), file_format)]
    assert len(parsed) == 1 and not isinstance(parsed[0], LineError)
    entry = parsed[0]
    assert entry.signal == videos.signal_of(original)
    assert entry.frames is not None
    assert [f[1:] for f in entry.frames.frames()] == [f[1:] for f in original.frames()]
    if file_format is BankFormat.JSONL:
        assert entry.frames.frames() == original.frames()  # frame numbers too
        assert json.loads(text)["category"] == "sextortion"
    else:
        kind, _, signal = text.strip().partition(" ")
        assert kind == "vpdq"
        first = json.loads(signal)[0]
        assert first == f"{original.frames()[0][2]},90,0.000"


def test_threatexchange_vpdq_strings_are_read() -> None:
    line = 'vpdq ["' + "ab" * 32 + ',88,0.000", "' + "cd" * 32 + ',70,1.5"]\n'
    [(_number, entry)] = list(read_entries(io.StringIO(line), BankFormat.LOCAL_FILE))
    assert not isinstance(entry, LineError)
    assert entry.frames is not None and entry.frames.frames() == [
        (0, 0.0, "ab" * 32, 88),
        (1, 1.5, "cd" * 32, 70),
    ]
    assert entry.quality == 88
    bad = list(read_entries(io.StringIO('vpdq ["zz,1,0"]\n'), BankFormat.LOCAL_FILE))
    assert isinstance(bad[0][1], LineError)
