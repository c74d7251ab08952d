"""The hash banks in the console: what each holds, a new bank for a list, an import,
a withdrawal with its reason (tombstones partners see), and who may do what."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.contents import bank_stats
from reclaim.banks.domain import Category
from reclaim.banks.models import Bank
from tests.support.cases import bank_entries, bank_unverified, md5
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def post(client: TestClient, path: str, data: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/console/banks").text)
    return client.post(
        path, data={"csrf_token": token, **data}, headers=EN, follow_redirects=False, **kwargs
    )


def test_analysts_see_every_bank_and_change_none(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.ANALYST)
    page = client.get("/console/banks", headers=EN)
    assert page.status_code == 200
    for name in ("self-reported", "unverified", "csam", "minor-self-generated", "adult-ncii"):
        assert f'href="/console/banks/{name}"' in page.text
    assert "Verified: Sexual abuse material of a child" in page.text
    assert "Unverified: each entry says" in page.text
    assert 'action="/console/banks"' not in page.text  # no form to create one
    assert 'action="/console/banks/csam/withdraw"' not in client.get("/console/banks/csam").text
    refused = post(client, "/console/banks/csam/withdraw", {"hashes": "md5 x", "reason": "r"})
    assert refused.status_code == 403
    assert client.get("/console/banks/no-such-bank").status_code == 404


def test_a_supervisor_creates_a_bank_and_imports_a_list(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.SUPERVISOR)
    bad = post(client, "/console/banks", {"name": "Bad Name", "description": ""})
    assert bad.status_code == 400
    assert "lower-case letters" in bad.text
    created = post(
        client,
        "/console/banks",
        {
            "name": "kr-hotline",
            "description": "From the KR hotline",
            "verified": "yes",
            "category": "csam",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/console/banks/kr-hotline?done=created"
    taken = post(client, "/console/banks", {"name": "kr-hotline"})
    assert "already exists" in taken.text

    good = [secrets.token_hex(16) for _ in range(2)]
    listing = (
        "signal_type,value,category\n"
        f"md5,{good[0]},csam\nmd5,{good[1]},\nmd5,not-a-hash,\nmd5,{secrets.token_hex(16)},adult_ncii\n"
    )
    imported = post(
        client,
        "/console/banks/kr-hotline/import",
        {"file_format": "csv"},
        files={"file": ("list.csv", listing.encode(), "text/csv")},
    )
    assert imported.status_code == 200
    assert "Imported, except the lines below." in imported.text
    assert "line 4:" in imported.text  # the bad line, by number
    assert "holds csam only, not adult_ncii" in imported.text  # the wrong category
    with app.state.reclaim.sessions() as session:
        (stats,) = [s for s in bank_stats(session) if s.name == "kr-hotline"]
        assert stats.active == {"md5": 2} and stats.verified == 2
        bank = session.scalar(select(Bank).where(Bank.name == "kr-hotline"))
        assert bank is not None and bank.verified and bank.category is Category.CSAM
        tags = set(session.scalars(select(AuditEvent.tag)))
    assert {AuditTag.BANK_CREATED.value, AuditTag.BANK_IMPORTED.value} <= tags

    wrong = post(
        client,
        "/console/banks/kr-hotline/import",
        {"file_format": "nonsense"},
        files={"file": ("list.csv", b"x", "text/csv")},
    )
    assert wrong.status_code == 400 and "Choose the file" in wrong.text


def test_a_withdrawal_needs_a_reason_and_reaches_the_feed_with_it(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.SUPERVISOR)
    wrong, right = md5("wrongly reported"), md5("still reported")
    with app.state.reclaim.sessions() as session:
        bank_unverified(session, wrong, right)
        session.commit()

    for data, message in (
        ({"hashes": f"md5 {wrong.value}", "reason": "  "}, "Say why these hashes are withdrawn"),
        ({"hashes": f"md5 {wrong.value}\nmd5 nope", "reason": "x"}, "Some lines are not hashes"),
        ({"hashes": "", "reason": "x"}, "List the hashes to withdraw"),
    ):
        refused = post(client, "/console/banks/self-reported/withdraw", data)
        assert message in refused.text
    with app.state.reclaim.sessions() as session:
        assert all(e.withdrawn_at is None for e in bank_entries(session, "self-reported").values())

    done = post(
        client,
        "/console/banks/self-reported/withdraw",
        {
            "hashes": f"md5:{wrong.value}\npdq {PDQ}  # never banked here",
            "reason": "the reporter's file was a screenshot of a news site",
        },
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"], headers=EN).text
    assert "Withdrawn: 1." in page and "1 of the hashes were not active in this bank." in page
    assert "the reporter&#39;s file was a screenshot of a news site" in page  # the history
    with app.state.reclaim.sessions() as session:
        entries = bank_entries(session, "self-reported")
        assert entries[wrong.value].withdrawn_reason == (
            "the reporter's file was a screenshot of a news site"
        )
        assert entries[right.value].withdrawn_at is None
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.SIGNAL_WITHDRAWN.value)
        )
        assert event is not None and event.details["withdrawn"] == 1


def test_the_feed_guard_figures_and_an_analysts_decision_on_a_hold(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    from reclaim.banks import feed_guard
    from reclaim.banks.domain import HoldReason

    held, kept = md5("a meme everybody uploads"), md5("still reported")
    with app.state.reclaim.sessions() as session:
        bank_unverified(session, held, kept)
        entries = bank_entries(session, "self-reported")
        [hold] = feed_guard.consider(
            session,
            {entries[held.value].id: 9},
            reason=HoldReason.MANY_MATCHES,
            threshold=5,
        )
        hold_id = hold.id
        session.commit()

    login_as(Role.ANALYST)
    page = client.get("/console/banks", headers=EN).text
    assert 'data-figure="held">1<' in page and 'data-figure="matches">1<' in page
    assert f"md5:{held.value[:16]}" in page and f'action="/console/banks/holds/{hold_id}"' in page
    done = post(client, f"/console/banks/holds/{hold_id}", {"outcome": "benign"})
    assert done.status_code == 303
    page = client.get(done.headers["location"], headers=EN).text
    assert "The hash is on the allow list" in page and 'data-figure="benign">1<' in page
    assert 'data-figure="allowed">1<' in page and 'data-figure="held">0<' in page
    again = post(client, f"/console/banks/holds/{hold_id}", {"outcome": "restored"})
    assert again.status_code == 404
    with app.state.reclaim.sessions() as session:
        tags = set(session.scalars(select(AuditEvent.tag)))
        assert AuditTag.SIGNAL_HOLD_RELEASED.value in tags
        assert bank_entries(session, "self-reported")[held.value].withdrawn_at is not None
