"""`reclaim feed-guard`: the allow list and the flood guard's holds from the command line."""

from __future__ import annotations

import os

from sqlalchemy import select

from reclaim.banks import feed_guard
from reclaim.banks.banking import NewEntry, add_signals, get_bank
from reclaim.banks.domain import SELF_REPORTED_BANK, EntrySource, HoldReason
from reclaim.banks.models import BankEntry
from reclaim.domain.signals import Signal
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke

MD5 = "d35c785545392755e7e4164457657269"
SHA = "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298"


def _self_reported(signals: list[Signal]) -> list[int]:
    engine = make_engine(os.environ["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        outcome = add_signals(
            session,
            get_bank(session, SELF_REPORTED_BANK),
            [NewEntry(s) for s in signals],
            source=EntrySource.REPORT,
            source_ref="RC-TEST-0001",
            min_pdq_quality=50,
        )
        ids = outcome.entry_ids
    engine.dispose()
    return ids


def _active(entry_id: int) -> bool:
    engine = make_engine(os.environ["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        entry = session.scalar(select(BankEntry).where(BankEntry.id == entry_id))
        active = entry is not None and entry.withdrawn_at is None
    engine.dispose()
    return active


def test_allow_list_from_the_command_line(reclaim: Invoke) -> None:
    [entry] = _self_reported([Signal.parse("md5", MD5)])
    result = reclaim("feed-guard", "allow", "--note", "a meme", "--hash", f"md5:{MD5}")
    assert result.exit_code == 0, result.output
    assert "allow-listed 1 (0 already), withdrew 1" in result.output
    assert not _active(entry)
    listed = reclaim("feed-guard", "allowed").output
    assert MD5 in listed and "a meme" in listed
    assert "removed 1" in reclaim("feed-guard", "disallow", "--hash", f"md5:{MD5}").output
    assert reclaim("feed-guard", "allow", "--note", "x", "--hash", "md5:nothex").exit_code == 1


def test_holds_are_listed_and_released(reclaim: Invoke) -> None:
    [entry] = _self_reported([Signal.parse("sha256", SHA)])
    engine = make_engine(os.environ["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine).begin() as session:
        [hold] = feed_guard.consider(
            session, {entry: 7}, reason=HoldReason.MANY_MATCHES, threshold=5
        )
        hold_id = hold.id
    engine.dispose()
    listed = reclaim("feed-guard", "holds").output
    assert SHA[:20] in listed and "many_matches" in listed and "held 1 (matches 1" in listed
    done = reclaim("feed-guard", "release", str(hold_id), "--as", "restored")
    assert done.exit_code == 0, done.output
    assert _active(entry)
    again = reclaim("feed-guard", "release", str(hold_id), "--as", "benign")
    assert again.exit_code == 1 and "no open hold" in again.output
