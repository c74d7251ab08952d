import random
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reclaim.banks.banking import (
    NewEntry,
    add_signals,
    ensure_builtin_banks,
    get_bank,
    withdraw_signals,
)
from reclaim.banks.domain import SELF_REPORTED_BANK, VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.engine import MatchEngine
from reclaim.domain.signals import Signal
from reclaim.storage.db import make_session_factory


def flip(value: str, bits: int, seed: int = 0) -> str:
    number = int(value, 16)
    for position in random.Random(seed).sample(range(256), bits):
        number ^= 1 << position
    return f"{number:064x}"


BASE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
OTHER = flip(BASE, 100, seed=9)
MD5 = "d35c785545392755e7e4164457657269"


CSAM_BANK = VERIFIED_BANKS[Category.CSAM]


def bank(session: Session, name: str, *signals: tuple[str, str]) -> None:
    """Signals in a bank, verified exactly when the bank holds verified hashes."""
    into = get_bank(session, name)
    category = into.category or Category.UNKNOWN
    add_signals(
        session,
        into,
        [
            NewEntry(Signal.parse(kind, value), 100, into.verified, category, "test")
            for kind, value in signals
        ],
        source=EntrySource.IMPORT,
        source_ref=None,
        min_pdq_quality=50,
    )
    session.commit()


@pytest.fixture
def banks(session: Session) -> Session:
    ensure_builtin_banks(session)
    session.commit()
    return session


def test_pdq_matches_within_the_radius_and_not_beyond(banks: Session) -> None:
    bank(banks, CSAM_BANK, ("pdq", BASE))
    engine = MatchEngine()
    queries = [Signal.parse("pdq", flip(BASE, d, seed=d)) for d in (0, 4, 31, 32)]
    matches = engine.match(banks, queries)
    assert [(m.query_index, m.distance) for m in matches] == [(0, 0), (1, 4), (2, 31)]
    assert all(m.bank == CSAM_BANK and m.verified for m in matches)
    assert all(m.category is Category.CSAM for m in matches)
    assert matches[0].signal.value == BASE


def test_smaller_max_distance_is_honoured(banks: Session) -> None:
    bank(banks, CSAM_BANK, ("pdq", BASE))
    engine = MatchEngine()
    query = [Signal.parse("pdq", flip(BASE, 10))]
    assert engine.match(banks, query, max_distance=9) == []
    assert len(engine.match(banks, query, max_distance=10)) == 1


def test_exact_signals_match_exactly(banks: Session) -> None:
    bank(banks, SELF_REPORTED_BANK, ("md5", MD5))
    engine = MatchEngine()
    [match] = engine.match(banks, [Signal.parse("md5", MD5), Signal.parse("md5", "0" * 32)])
    assert (match.query_index, match.distance, match.verified) == (0, 0, False)


def test_one_signal_in_two_banks_matches_in_each_and_banks_filter(banks: Session) -> None:
    bank(banks, SELF_REPORTED_BANK, ("pdq", BASE))
    bank(banks, CSAM_BANK, ("pdq", BASE))
    engine = MatchEngine()
    query = [Signal.parse("pdq", BASE)]
    assert {m.bank for m in engine.match(banks, query)} == {SELF_REPORTED_BANK, CSAM_BANK}
    only = engine.match(banks, query, banks={CSAM_BANK})
    assert [m.bank for m in only] == [CSAM_BANK]


def test_the_engine_follows_adds_and_withdrawals(banks: Session) -> None:
    engine = MatchEngine()
    query = [Signal.parse("pdq", BASE), Signal.parse("md5", MD5)]
    assert engine.match(banks, query) == []
    bank(banks, SELF_REPORTED_BANK, ("pdq", BASE), ("md5", MD5))
    assert len(engine.match(banks, query)) == 2
    withdraw_signals(
        banks,
        get_bank(banks, SELF_REPORTED_BANK),
        [Signal.parse("pdq", BASE), Signal.parse("md5", MD5)],
    )
    banks.commit()
    assert engine.match(banks, query) == []
    assert len(engine) == 0


def test_ten_thousand_adds_are_matchable_at_once(banks: Session) -> None:
    rng = np.random.default_rng(1)
    values = [bytes(row).hex() for row in rng.integers(0, 256, (10_000, 32), dtype=np.uint8)]
    bank(banks, CSAM_BANK, *[("pdq", v) for v in values])
    engine = MatchEngine()
    probes = [Signal.parse("pdq", flip(v, 8, seed=i)) for i, v in enumerate(values[::1000])]
    matches = engine.match(banks, probes)
    assert {m.query_index for m in matches} == set(range(len(probes)))
    assert engine.position > 0


def test_save_and_load_resume_from_the_saved_position(
    banks: Session, engine: Engine, tmp_path: Path
) -> None:
    bank(banks, CSAM_BANK, ("pdq", BASE), ("md5", MD5))
    first = MatchEngine()
    first.sync(banks)
    first.save(tmp_path / "index")
    # Changes made while the server was down are picked up by the sync after load.
    bank(banks, SELF_REPORTED_BANK, ("pdq", OTHER))
    withdraw_signals(banks, get_bank(banks, CSAM_BANK), [Signal.parse("md5", MD5)])
    banks.commit()
    with make_session_factory(engine)() as other:
        loaded = MatchEngine.load(tmp_path / "index", other)
        assert loaded.position > first.position
        found = loaded.match(
            other,
            [Signal.parse("pdq", BASE), Signal.parse("pdq", OTHER), Signal.parse("md5", MD5)],
        )
    assert [(m.query_index, m.bank) for m in found] == [
        (0, CSAM_BANK),
        (1, SELF_REPORTED_BANK),
    ]
    # Saving over the directory it was loaded from, then loading again, keeps it all.
    loaded.save(tmp_path / "index")
    again = MatchEngine.load(tmp_path / "index", banks)
    assert again.position == loaded.position
    assert len(again) == len(loaded) == 2


def test_a_saved_index_from_another_database_is_rebuilt(banks: Session, tmp_path: Path) -> None:
    bank(banks, CSAM_BANK, ("pdq", BASE))
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "meta.json").write_text('{"format": 2, "position": 999999}')
    loaded = MatchEngine.load(tmp_path / "index", banks)
    assert len(loaded.match(banks, [Signal.parse("pdq", BASE)])) == 1


def test_dihedral_variants_must_come_in_eights(banks: Session) -> None:
    engine = MatchEngine()
    with pytest.raises(ValueError, match="8 hashes"):
        engine.match(banks, [Signal.parse("pdq", BASE)], dihedral=[[BASE] * 7])
