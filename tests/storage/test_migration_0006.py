"""Migration 0006 carries a live hotline's rows into pages, media and notices per page,
and is honest about trust: a confirmed hash becomes verified only if the audit trail
shows someone saw the picture."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, text

from reclaim.migrations import downgrade, upgrade

T = datetime(2026, 11, 1, 9, 0)  # noqa: DTZ001 - the schema stores naive UTC
URL = "https://photos.example/p/1"
OTHER_URL = "https://photos.example/p/2"
SEEN_MD5 = "a" * 32  # the picture an analyst previewed
UNSEEN_MD5 = "b" * 32  # a second picture nobody opened
SEEN_SHA = "c" * 64
UNSEEN_SHA = "d" * 64
DEVICE_MD5 = "e" * 32
IMPORTED_MD5 = "f" * 32


def _rows(engine: Engine) -> None:
    """A hotline as 0005 knew it: one URL in two cases, a file, a notice, banks."""
    statements = [
        (
            "INSERT INTO users (id, email, display_name, role, is_active, created_at) "
            "VALUES (1, 'ana@x.test', 'Ana', 'analyst', :t, :now)",
            {"t": True},
        ),
        (
            "INSERT INTO platforms (id, name, language, created_at) "
            "VALUES (1, 'Photo Site', 'en', :now)",
            {},
        ),
        (
            "INSERT INTO cases (id, number, pin_hash, status, urgent, created_at, updated_at) "
            "VALUES (1, 'RC-AAAA-0001', 'x', 'awaiting_removal', :f, :now, :now), "
            "(2, 'RC-BBBB-0002', 'x', 'actioned', :f, :now, :now)",
            {"f": False},
        ),
        (
            "INSERT INTO items (id, case_id, kind, url, platform_id, created_at, classification) "
            "VALUES (1, 1, 'url', :url, 1, :now, 'csam'), "
            "(2, 2, 'url', :frag, NULL, :now, 'csam')",
            {"url": URL, "frag": URL + "#post-2"},
        ),
        (
            "INSERT INTO items (id, case_id, kind, media_kind, created_at, classification) "
            "VALUES (3, 1, 'file', 'image', :now, 'csam')",
            {},
        ),
        (
            "INSERT INTO items (id, case_id, kind, url, platform_id, created_at, classification) "
            "VALUES (4, 2, 'url', :other, 1, :now, 'csam')",
            {"other": OTHER_URL},
        ),
        (
            "INSERT INTO signals (id, type, value, created_at) VALUES "
            "(1, 'md5', :a, :now), (2, 'md5', :b, :now), (3, 'sha256', :c, :now), "
            "(4, 'sha256', :d, :now), (5, 'md5', :e, :now), (6, 'md5', :i, :now)",
            {
                "a": SEEN_MD5,
                "b": UNSEEN_MD5,
                "c": SEEN_SHA,
                "d": UNSEEN_SHA,
                "e": DEVICE_MD5,
                "i": IMPORTED_MD5,
            },
        ),
        (
            "INSERT INTO item_signals (item_id, signal_id, quality) VALUES "
            "(1, 1, NULL), (1, 3, NULL), (4, 2, NULL), (4, 4, NULL), (3, 5, NULL)",
            {},
        ),
        (
            "INSERT INTO quarantined_media (id, item_id, object_id, final_url, content_type, "
            "size, sha256, fetched_by_id, fetched_at, expires_at) VALUES "
            "(1, 1, 'o1', 'https://cdn.photos.example/1.jpg', 'image/jpeg', 9, :c, 1, :now, :now), "
            "(2, 4, 'o2', 'https://cdn.photos.example/2.jpg', 'image/jpeg', 9, :d, 1, :now, :now)",
            {"c": SEEN_SHA, "d": UNSEEN_SHA},
        ),
        (
            "INSERT INTO decisions (id, item_id, analyst_id, classification, status, created_at) "
            "VALUES (1, 1, 1, 'csam', 'recorded', :now), (2, 3, 1, 'csam', 'recorded', :now), "
            "(3, 4, 1, 'csam', 'recorded', :now)",
            {},
        ),
        (
            "INSERT INTO notices (id, reference, platform_id, case_id, status, language, "
            "created_at, sent_at, reminders_sent) VALUES "
            "(1, 'RN-AAAA-BBBB', 1, 1, 'sent', 'en', :now, :now, 0)",
            {},
        ),
        (
            "INSERT INTO notice_items (id, notice_id, item_id, classification, outcome, "
            "baseline_sha256, checks_done) VALUES (1, 1, 1, 'csam', 'pending', :c, 1)",
            {"c": SEEN_SHA},
        ),
        (
            "INSERT INTO verifications (id, notice_item_id, checked_at, outcome) "
            "VALUES (1, 1, :now, 'still_up')",
            {},
        ),
        (
            "INSERT INTO banks (id, name, description, builtin, created_at) VALUES "
            "(1, 'confirmed', 'old', :t, :now), (2, 'self-reported', 'devices', :t, :now)",
            {"t": True},
        ),
        (
            "INSERT INTO bank_entries (bank_id, signal_id, verified, source, source_ref, added_at, "
            "change_seq) VALUES "
            "(1, 1, :t, 'decision', 'case RC-AAAA-0001/item 1/decision 1', :now, 1), "
            "(1, 2, :t, 'decision', 'case RC-BBBB-0002/item 4/decision 3', :now, 2), "
            "(1, 5, :t, 'decision', 'case RC-AAAA-0001/item 3/decision 2', :now, 3), "
            "(1, 6, :t, 'import', 'import:list.txt', :now, 4), "
            "(2, 5, :f, 'report', 'RC-AAAA-0001', :now, 5)",
            {"t": True, "f": False},
        ),
        ("INSERT INTO counters (name, value) VALUES ('bank_feed', 5)", {}),
        (
            "INSERT INTO audit_events (tag, actor_type, actor_id, target_type, target_id, "
            "details, created_at, prev_hash, row_hash) VALUES "
            "('case:item:previewed', 'user', 1, 'item', 1, :d, :now, 'p', 'r1')",
            {"d": json.dumps({"media": 1, "sha256": SEEN_SHA})},
        ),
    ]
    with engine.begin() as connection:
        for sql, values in statements:
            connection.execute(text(sql), {"now": T, **values})
        if connection.dialect.name == "postgresql":
            # Rows were written with their ids: move the sequences past them, as a live
            # database's would be.
            for table in (
                "users",
                "platforms",
                "cases",
                "items",
                "signals",
                "banks",
                "bank_entries",
                "quarantined_media",
                "decisions",
                "notices",
                "notice_items",
                "verifications",
                "audit_events",
            ):
                move_past = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608, E501 - our own table names
                connection.execute(text(move_past))


def _one(engine: Engine, sql: str, **values: object) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), values)]


def test_a_live_hotline_is_carried_over_truthfully(engine: Engine) -> None:
    downgrade(engine, "0005")
    _rows(engine)
    upgrade(engine)

    # One page for the URL reported twice (the fragment never reaches the server).
    assert _one(engine, "SELECT id, url, platform_id FROM pages ORDER BY id") == [
        (1, URL, 1),
        (2, OTHER_URL, 1),
    ]
    assert _one(engine, "SELECT id, page_id FROM items ORDER BY id") == [
        (1, 1),
        (2, 1),
        (3, None),
        (4, 2),
    ]
    # Each fetched picture and the device file is a media record with its own hashes.
    media = _one(
        engine,
        "SELECT id, origin, url, sha256, item_id, seen_by_id, seen_how FROM media ORDER BY id",
    )
    by_url = {row[2]: row for row in media}
    seen = by_url["https://cdn.photos.example/1.jpg"]
    unseen = by_url["https://cdn.photos.example/2.jpg"]
    device = by_url[None]
    assert (seen[1], seen[3], seen[5], seen[6]) == ("fetched", SEEN_SHA, 1, "preview")
    assert (unseen[3], unseen[5]) == (UNSEEN_SHA, None)
    assert (device[1], device[4]) == ("device", 3)
    links = _one(engine, "SELECT media_id, signal_id FROM media_signals ORDER BY signal_id")
    assert (seen[0], 3) in links and (unseen[0], 4) in links and (device[0], 5) in links
    assert _one(engine, "SELECT media_id FROM quarantined_media ORDER BY id") == [
        (seen[0],),
        (unseen[0],),
    ]
    # The decision covers what its item showed; the notice names the page and pictures.
    assert _one(engine, "SELECT media_id FROM decision_media WHERE decision_id = 1") == [(seen[0],)]
    assert _one(engine, "SELECT notice_id, page_id, outcome, checks_done FROM notice_pages") == [
        (1, 1, "pending", 1)
    ]
    assert _one(engine, "SELECT kind FROM notices") == [("content",)]
    assert _one(engine, "SELECT notice_page_id FROM verifications") == [(1,)]

    # Trust: only the picture someone saw is verified; the unseen one is unverified; the
    # device file stays only in self-reported; imports stay where they were.
    active = [
        (bank, value, bool(verified), category)
        for bank, value, verified, category in _one(
            engine,
            "SELECT b.name, s.value, e.verified, e.category FROM bank_entries e "
            "JOIN banks b ON b.id = e.bank_id JOIN signals s ON s.id = e.signal_id "
            "WHERE e.withdrawn_at IS NULL ORDER BY b.name, s.value",
        )
    ]
    assert active == [
        ("confirmed", IMPORTED_MD5, True, "unknown"),
        ("csam", SEEN_MD5, True, "csam"),
        ("self-reported", DEVICE_MD5, False, "unknown"),
        ("unverified", UNSEEN_MD5, False, "csam"),
    ]
    tombstones = dict(
        _one(
            engine,
            "SELECT s.value, e.withdrawn_reason FROM bank_entries e JOIN banks b "
            "ON b.id = e.bank_id JOIN signals s ON s.id = e.signal_id "
            "WHERE b.name = 'confirmed' AND e.withdrawn_at IS NOT NULL",
        )
    )
    assert tombstones[SEEN_MD5] == "moved to the csam bank"
    assert "unverified" in str(tombstones[UNSEEN_MD5])
    assert "device" in str(tombstones[DEVICE_MD5])
    via = _one(
        engine,
        "SELECT e.verified_via FROM bank_entries e JOIN banks b ON b.id = e.bank_id "
        "WHERE b.name = 'csam'",
    )
    assert via == [("seen by user 1 (from the audit trail)",)]
    # Every change has its own place in the feed, after what partners already have.
    sequences = [row[0] for row in _one(engine, "SELECT change_seq FROM bank_entries")]
    assert (
        len(set(sequences)) == len(sequences)
        and max(sequences)
        == _one(engine, "SELECT value FROM counters WHERE name = 'bank_feed'")[0][0]
    )
    assert [
        bool(b) for (b,) in _one(engine, "SELECT builtin FROM banks WHERE name = 'confirmed'")
    ] == [False]
