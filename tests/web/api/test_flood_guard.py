"""The guards between the self-reported bank and the feed, through the partner API on
both databases: widely matched hashes and hashes partners call "not violating" are held
out of the feed until an analyst decides; allow-listed benign hashes never reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks import feed_guard
from reclaim.banks.domain import HoldOutcome, HoldReason
from reclaim.banks.models import FeedHold
from reclaim.config import Settings
from reclaim.intake.domain import FileHashes
from reclaim.intake.submission import submit_report
from reclaim.security.field_crypto import field_cipher
from tests.support.intake import a_policy, a_report, hashed_file
from tests.support.settings import make_settings
from tests.web.api.conftest import PartnerKey, add_partner
from tests.web.api.test_feed import read_all

MATCH = "/api/v1/match"
OPERATOR = audit.Actor(ActorKind.OPERATOR)


@pytest.fixture
def api_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        flood_guard_match_partners=3,
        flood_guard_feedback_partners=2,
    )


def report_file(app: FastAPI, seed: str) -> FileHashes:
    """A reporter's file, hashed on their device, through intake: its hashes banked."""
    hashed = hashed_file(seed)
    with app.state.reclaim.sessions() as session:
        submit_report(
            session,
            a_report(files=(hashed,)),
            policy=a_policy(),
            cipher=field_cipher(app.state.reclaim.settings),
        )
        session.commit()
    return hashed


def partners(app: FastAPI, count: int) -> list[PartnerKey]:
    with app.state.reclaim.sessions() as session:
        return [add_partner(session, f"Platform {n}") for n in range(count)]


def md5_in(hashed: FileHashes) -> dict[str, Any]:
    return {"signal_type": "md5", "value": hashed.md5.value}


def live_in_feed(client: TestClient, key: PartnerKey) -> dict[str, dict[str, Any]]:
    """The feed replayed: the entries a platform holds afterwards, by value."""
    entries, _cursor = read_all(client, key)
    state: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["deleted"]:
            state.pop(entry["value"], None)
        else:
            state[entry["value"]] = entry
    return state


def matches(client: TestClient, key: PartnerKey, hashed: FileHashes) -> list[dict[str, Any]]:
    response = client.post(MATCH, headers=key.headers, json={"signals": [md5_in(hashed)]})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["matches"]  # type: ignore[no-any-return]


def test_a_hash_many_partners_match_is_held_until_an_analyst_decides(
    app: FastAPI, client: TestClient
) -> None:
    meme = report_file(app, "a popular meme someone reported")
    keys = partners(app, 4)
    assert live_in_feed(client, keys[0])[meme.md5.value]["verified"] is False  # unverified

    assert matches(client, keys[0], meme) and matches(client, keys[0], meme)  # one partner twice
    assert matches(client, keys[1], meme)
    assert meme.md5.value in live_in_feed(client, keys[0])  # two partners: not yet
    assert matches(client, keys[2], meme)  # the third: held

    assert meme.md5.value not in live_in_feed(client, keys[0])
    assert matches(client, keys[3], meme) == []  # no longer matches
    with app.state.reclaim.sessions() as session:
        [hold] = feed_guard.open_holds(session)
        assert (hold.reason, hold.partners) == (HoldReason.MANY_MATCHES, 3)
        figures = feed_guard.figures(session)
        assert (figures.held_pending, figures.held_for_matches) == (1, 1)
        assert session.scalar(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.SIGNAL_HELD.value)
        )
    # Reported again while held: it stays out.
    report_file(app, "a popular meme someone reported")
    assert meme.md5.value not in live_in_feed(client, keys[0])

    with app.state.reclaim.sessions() as session:
        feed_guard.release(session, hold.id, HoldOutcome.RESTORED, actor=OPERATOR)
        session.commit()
    assert meme.md5.value in live_in_feed(client, keys[0])
    with app.state.reclaim.sessions() as session:
        assert feed_guard.figures(session).restored == 1


def test_not_violating_from_two_partners_holds_the_hash(app: FastAPI, client: TestClient) -> None:
    stock = report_file(app, "a stock photo")
    keys = partners(app, 2)
    [match] = matches(client, keys[0], stock)
    for key in keys:
        sent = client.post(
            "/api/v1/feedback",
            headers=key.headers,
            json={"feedback": [{"entry_id": match["entry_id"], "outcome": "not_violating"}]},
        )
        assert sent.status_code == 200, sent.text
        if key is keys[0]:
            assert stock.md5.value in live_in_feed(client, key)  # one partner is not enough
    assert stock.md5.value not in live_in_feed(client, keys[0])
    with app.state.reclaim.sessions() as session:
        [hold] = feed_guard.open_holds(session)
        assert (hold.reason, hold.partners) == (HoldReason.NOT_VIOLATING, 2)
        feed_guard.release(session, hold.id, HoldOutcome.BENIGN, actor=OPERATOR)
        session.commit()
        assert feed_guard.figures(session).allow_listed == 1
    report_file(app, "a stock photo")  # benign now: never banked again
    assert stock.md5.value not in live_in_feed(client, keys[0])


def test_allow_listed_hashes_never_reach_the_feed(app: FastAPI, client: TestClient) -> None:
    [key] = partners(app, 1)
    already = report_file(app, "test media already reported")
    with app.state.reclaim.sessions() as session:
        outcome = feed_guard.allow(
            session,
            [already.md5, already.sha256, hashed_file("test media never reported").sha256],
            note="the public test media",
            actor=OPERATOR,
        )
        session.commit()
    assert (outcome.added, outcome.withdrawn) == (3, 2)
    feed = live_in_feed(client, key)
    assert already.md5.value not in feed and already.sha256.value not in feed
    assert already.pdq is not None and already.pdq.value in feed  # not listed: stays

    later = report_file(app, "test media never reported")
    feed = live_in_feed(client, key)
    assert later.sha256.value not in feed and later.md5.value in feed
    entries, _cursor = read_all(client, key)
    assert later.sha256.value not in {e["value"] for e in entries}  # not even a tombstone

    with app.state.reclaim.sessions() as session:
        assert feed_guard.disallow(session, [later.sha256], actor=OPERATOR) == 1
        session.commit()
    report_file(app, "test media never reported")
    assert later.sha256.value in live_in_feed(client, key)


def test_a_hold_is_released_once(app: FastAPI, client: TestClient) -> None:
    hashed = report_file(app, "held once")
    keys = partners(app, 3)
    for key in keys:
        matches(client, key, hashed)
    with app.state.reclaim.sessions() as session:
        [hold] = session.scalars(select(FeedHold)).all()
        feed_guard.release(session, hold.id, HoldOutcome.RESTORED, actor=OPERATOR)
        session.commit()
        with pytest.raises(feed_guard.HoldError):
            feed_guard.release(session, hold.id, HoldOutcome.BENIGN, actor=OPERATOR)
