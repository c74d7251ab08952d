"""The hash feed: order, tombstones, filters, cursors, snapshots, and stable paging while
signals are being added."""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reclaim.banks.banking import get_bank, withdraw_signals
from reclaim.domain.signals import Signal
from tests.web.api.conftest import BankSignals, PartnerKey, bank
from tests.web.api.test_auth import error_of

FEED = "/api/v1/hashes"


def pdq() -> Signal:
    return Signal.parse("pdq", secrets.token_hex(32))


def md5() -> Signal:
    return Signal.parse("md5", secrets.token_hex(16))


def read_all(
    client: TestClient, key: PartnerKey, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    entries: list[dict[str, Any]] = []
    cursor = params.pop("cursor", "")
    while True:
        page = client.get(FEED, headers=key.headers, params={"cursor": cursor, **params})
        assert page.status_code == 200, page.text
        body = page.json()
        entries += body["entries"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return entries, cursor


def test_pages_follow_change_order_and_end_at_the_head(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    signals = [pdq() for _ in range(5)] + [md5() for _ in range(3)]
    banked(signals)
    first = client.get(FEED, headers=partner.headers, params={"limit": 3}).json()
    assert [e["value"] for e in first["entries"]] == [s.value for s in signals[:3]]
    assert first["has_more"] is True
    entries, cursor = read_all(client, partner, limit=3)
    assert [(e["signal_type"], e["value"]) for e in entries] == [
        (s.type.value, s.value) for s in signals
    ]
    assert cursor == "8"
    entry = entries[0]
    assert (entry["bank"], entry["category"]) == ("csam", "csam")
    assert entry["verified"] is True
    assert entry["deleted"] is False
    assert entry["withdrawn_at"] is None
    assert entry["added_at"].endswith("Z")
    again = client.get(FEED, headers=partner.headers, params={"cursor": cursor}).json()
    assert again == {"entries": [], "next_cursor": cursor, "has_more": False}


def test_a_withdrawal_is_a_tombstone_after_the_cursor(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    kept, withdrawn = pdq(), pdq()
    banked([kept, withdrawn], name="self-reported", verified=False)
    _, cursor = read_all(client, partner)
    with app.state.reclaim.sessions() as session:
        withdraw_signals(
            session,
            get_bank(session, "self-reported"),
            [withdrawn],
            reason="the reporter withdrew the report",
        )
        session.commit()
    entries, _ = read_all(client, partner, cursor=cursor)
    assert len(entries) == 1
    tombstone = entries[0]
    assert (tombstone["value"], tombstone["deleted"]) == (withdrawn.value, True)
    assert tombstone["withdrawn_at"] is not None
    assert tombstone["verified"] is False
    assert tombstone["withdrawn_reason"] == "the reporter withdrew the report"
    assert tombstone["category"] == "unknown"
    # From the start, the withdrawn entry appears once: at its latest change.
    everything, _ = read_all(client, partner)
    assert [(e["value"], e["deleted"]) for e in everything] == [
        (kept.value, False),
        (withdrawn.value, True),
    ]


def test_bank_and_type_filters(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    confirmed = [pdq(), md5()]
    imported = [pdq(), md5()]
    banked(confirmed)
    banked(imported, name="ngo-list", verified=False)
    in_bank, cursor = read_all(client, partner, bank="ngo-list")
    assert [e["value"] for e in in_bank] == [s.value for s in imported]
    assert cursor == "4"  # the head: the reader skips what is not for it
    only_pdq, _ = read_all(client, partner, signal_type=["pdq"])
    assert [e["value"] for e in only_pdq] == [confirmed[0].value, imported[0].value]
    unknown = client.get(FEED, headers=partner.headers, params={"bank": "nope"})
    assert error_of(unknown) == (404, "unknown_bank")


def test_bad_cursors_and_limits_are_clear_errors(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    banked([pdq()])
    for cursor in ("abc", "-1", "1.5", "9" * 19):
        response = client.get(FEED, headers=partner.headers, params={"cursor": cursor})
        assert error_of(response)[0] in (400, 422), cursor
    ahead = client.get(FEED, headers=partner.headers, params={"cursor": "50"})
    assert error_of(ahead) == (400, "invalid_cursor")
    assert "ahead" in ahead.json()["error"]["message"]
    for limit in ("0", "10001", "many"):
        response = client.get(FEED, headers=partner.headers, params={"limit": limit})
        assert error_of(response) == (422, "invalid_request")
    bad_type = client.get(FEED, headers=partner.headers, params={"signal_type": "tmk"})
    assert error_of(bad_type) == (422, "invalid_request")


def test_snapshot_streams_the_three_formats_with_a_cursor(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    signals = [pdq(), md5(), Signal.parse("sha256", secrets.token_hex(32))]
    gone = pdq()
    banked([*signals, gone])
    with app.state.reclaim.sessions() as session:
        withdraw_signals(session, get_bank(session, "csam"), [gone])
        session.commit()
    url = "/api/v1/hashes/snapshot"
    local = client.get(url, headers=partner.headers, params={"bank": "csam"})
    assert local.status_code == 200
    assert local.headers["content-type"].startswith("text/plain")
    assert local.headers["x-reclaim-cursor"] == "5"
    assert local.text.splitlines() == [
        f"pdq {signals[0].value}",
        f"video_md5 {signals[1].value}",
        f"video_sha256 {signals[2].value}",
    ]
    table = client.get(url, headers=partner.headers, params={"bank": "csam", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["value"] for r in rows] == [s.value for s in signals]
    assert {r["verified"] for r in rows} == {"true"}
    lines = client.get(url, headers=partner.headers, params={"bank": "csam", "format": "jsonl"})
    assert lines.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line)["value"] for line in lines.text.splitlines()] == [
        s.value for s in signals
    ]
    missing = client.get(url, headers=partner.headers, params={"bank": "nope"})
    assert error_of(missing) == (404, "unknown_bank")


def test_paging_while_signals_are_added_never_skips_or_repeats(
    app: FastAPI, client: TestClient, partner: PartnerKey
) -> None:
    """A writer banks signals in many small transactions (and withdraws some) while a
    reader pages through the feed; replaying the pages gives exactly the final state,
    and no entry is seen twice at the same change."""
    sessions = app.state.reclaim.sessions
    added: list[Signal] = []
    done = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for round_number in range(40):
                batch = [pdq() if i % 2 else md5() for i in range(5)]
                with sessions() as session:
                    bank(session, batch, name="csam" if round_number % 3 else "other")
                added.extend(batch)
                if round_number % 7 == 6:
                    with sessions() as session:
                        withdraw_signals(session, get_bank(session, "csam"), added[-12:-9])
                        session.commit()
        except BaseException as exc:  # surfaced in the test thread
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[tuple[int, int, bool]] = []  # (entry id, change, deleted)
    state: dict[int, bool] = {}  # entry id -> active, by replaying the pages in order
    cursor, pages = "", 0
    while True:
        finished = done.is_set()  # read before the page: a page after it sees everything
        page = client.get(FEED, headers=partner.headers, params={"cursor": cursor, "limit": 7})
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        for entry in body["entries"]:
            seen.append((entry["id"], int(cursor or 0), entry["deleted"]))
            state[entry["id"]] = not entry["deleted"]
        assert int(body["next_cursor"]) >= int(cursor or 0)
        cursor = body["next_cursor"]
        if finished and not body["has_more"]:
            break
    thread.join()
    assert not failures
    assert pages > 10  # the reader really paged while the writer wrote
    with sessions() as session:
        from sqlalchemy import select

        from reclaim.banks.models import BankEntry

        final = {
            entry_id: bool(active)
            for entry_id, active in session.execute(
                select(BankEntry.id, BankEntry.withdrawn_at.is_(None))
            )
        }
    assert len(final) == len(added) == 200
    assert state == final  # no entry skipped, each in its final state
    # Entries never withdrawn were seen exactly once.
    withdrawn_ever = {entry_id for entry_id, _, deleted in seen if deleted}
    once = [entry_id for entry_id, _, _ in seen if entry_id not in withdrawn_ever]
    assert len(once) == len(set(once))
