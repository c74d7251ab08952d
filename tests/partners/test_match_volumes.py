"""Match volumes: one answer counted per partner, day, bank and category; a process's
tally handed over at most once per interval, to one caller; written with an upsert that
adds (a second write, or another process's, adds to the same rows), on SQLite and
PostgreSQL; kept for the next write when the database is out of reach, dropped when it
will never take them."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from reclaim.banks.domain import Category
from reclaim.banks.engine import Match, VideoMatch
from reclaim.domain.signals import Signal, SignalType
from reclaim.partners.match_volumes import (
    Volume,
    VolumeKey,
    VolumeTally,
    count_answer,
    flush,
    write,
)
from reclaim.partners.models import MatchVolume
from reclaim.storage.db import make_session_factory
from tests.support.cases import PDQ_A
from tests.web.api.conftest import add_partner

DAY = date(2026, 12, 1)
SIGNAL = Signal(SignalType.PDQ, PDQ_A)


def hit(bank: str, category: Category, index: int = 0) -> Match:
    return Match(index, 1, bank, SIGNAL, 0, True, category)


def video_hit(bank: str, category: Category) -> VideoMatch:
    return VideoMatch(1, bank, SIGNAL, 100.0, 100.0, True, category)


def test_an_answer_is_counted_per_bank_and_category_and_in_all() -> None:
    found = [
        [hit("csam", Category.CSAM), hit("csam", Category.CSAM)],  # one signal, two entries
        [hit("csam", Category.CSAM), hit("unverified", Category.UNKNOWN)],  # two banks
        [],
        [hit("unverified", Category.SEXTORTION), hit("unverified", Category.UNKNOWN)],
    ]
    videos = [[video_hit("sextortion", Category.SEXTORTION)], []]
    counted = count_answer(7, DAY, found, videos)
    assert counted == {
        VolumeKey(DAY, 7): Volume(signals=4, signals_matched=3, videos=2, videos_matched=1),
        VolumeKey(DAY, 7, "csam", "csam"): Volume(signals_matched=2),
        VolumeKey(DAY, 7, "unverified", "unknown"): Volume(signals_matched=2),
        VolumeKey(DAY, 7, "unverified", "sextortion"): Volume(signals_matched=1),
        VolumeKey(DAY, 7, "sextortion", "sextortion"): Volume(videos_matched=1),
    }
    assert count_answer(7, DAY, [[], []]) == {VolumeKey(DAY, 7): Volume(signals=2)}


def test_the_tally_is_handed_over_once_per_interval() -> None:
    now = [100.0]
    tally = VolumeTally(60, clock=lambda: now[0])
    tally.add(count_answer(1, DAY, [[hit("csam", Category.CSAM)]]))
    assert tally.take_if_due() is None  # the interval runs from the tally's start
    now[0] += 60
    tally.add(count_answer(1, DAY, [[]]))
    taken = tally.take_if_due()
    assert taken is not None
    assert taken[VolumeKey(DAY, 1)] == Volume(signals=2, signals_matched=1)
    assert tally.pending() == {}
    tally.add(count_answer(1, DAY, [[]]))
    assert tally.take_if_due() is None  # just handed over
    assert tally.take() == {VolumeKey(DAY, 1): Volume(signals=1)}  # shutdown: whatever is held


def test_threads_adding_at_once_lose_nothing() -> None:
    tally = VolumeTally(0)
    handed: list[dict[VolumeKey, Volume]] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(2_000):
            tally.add(count_answer(1, DAY, [[hit("csam", Category.CSAM)], []]))
            due = tally.take_if_due()
            if due:
                with lock:
                    handed.append(due)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handed.append(tally.take())
    signals = sum(v.signals for part in handed for k, v in part.items() if k.bank == "")
    matched = sum(v.signals_matched for part in handed for k, v in part.items() if k.bank)
    assert (signals, matched) == (4 * 2_000 * 2, 4 * 2_000)


def rows(session: Session) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {
        (r.bank, r.category): (r.signals, r.signals_matched, r.videos, r.videos_matched)
        for r in session.scalars(select(MatchVolume))
    }


def test_writes_add_to_the_rows(session: Session) -> None:
    partner = add_partner(session).partner_id
    answer = count_answer(partner, DAY, [[hit("csam", Category.CSAM)], []])
    assert write(session, answer) == 2
    session.commit()
    # Another process's write of the same rows, with videos this time.
    write(session, count_answer(partner, DAY, [[]], [[video_hit("csam", Category.CSAM)]]))
    session.commit()
    assert rows(session) == {("", ""): (3, 1, 1, 1), ("csam", "csam"): (0, 1, 0, 1)}
    write(session, count_answer(partner, date(2026, 12, 2), [[]]))
    session.commit()
    days = session.scalars(select(MatchVolume.day).where(MatchVolume.bank == "")).all()
    assert sorted(days) == [DAY, date(2026, 12, 2)]


def test_flush_writes_the_tally_and_keeps_what_the_database_could_not_take(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    partner = add_partner(session).partner_id
    sessions = make_session_factory(engine)
    tally = VolumeTally(60)
    tally.add(count_answer(partner, DAY, [[hit("csam", Category.CSAM)]]))
    assert flush(sessions, tally) == 2
    assert tally.pending() == {}
    assert flush(sessions, tally) == 0  # nothing gathered: no transaction

    # The database out of reach (a file that cannot be opened): the counts wait in the
    # tally, with anything gathered meanwhile, for the next write.
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    tally.add(count_answer(partner, DAY, [[]]))
    assert flush(make_session_factory(unreachable), tally) == 0
    unreachable.dispose()
    assert tally.pending() == {VolumeKey(DAY, partner): Volume(signals=1)}
    tally.add(count_answer(partner, DAY, [[]]))
    assert flush(sessions, tally) == 1

    # A partner that does not exist: the foreign key will never take it; dropped, so
    # that it does not hold back the counts written after it.
    tally.add(count_answer(partner + 1000, DAY, [[]]))
    assert flush(sessions, tally) == 0
    assert tally.pending() == {}
    session.expire_all()
    assert rows(session) == {("", ""): (3, 1, 0, 0), ("csam", "csam"): (0, 1, 0, 0)}
