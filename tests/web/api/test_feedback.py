"""Feedback: per signal or per match, stored once, visible only to its partner, counted
on the case and per platform."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reclaim.audit.models import AuditEvent
from reclaim.domain.signals import Signal
from reclaim.partners.domain import FeedbackOutcome
from reclaim.partners.feedback import case_feedback_counts, feedback_by_platform
from reclaim.partners.models import Feedback
from tests.support.cases import PDQ_A, attach, make_case
from tests.web.api.conftest import BankSignals, PartnerKey, add_partner
from tests.web.api.test_auth import error_of

URL = "/api/v1/feedback"
MD5 = "0123456789abcdef0123456789abcdef"


def send(client: TestClient, key: PartnerKey, items: list[dict[str, Any]]) -> Any:
    return client.post(URL, headers=key.headers, json={"feedback": items})


def stored(app: FastAPI) -> int:
    with app.state.reclaim.sessions() as session:
        return session.scalar(select(func.count()).select_from(Feedback)) or 0


def test_feedback_per_signal_and_per_match_is_stored_once(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    (entry,) = banked([Signal.parse("pdq", PDQ_A)])
    items = [
        {
            "signal_type": "pdq",
            "value": PDQ_A.upper(),
            "outcome": "removed",
            "url": "https://photosite.example/p/1",
        },
        {"entry_id": entry, "outcome": "blocked_upload", "observed_at": "2026-11-20T10:00:00Z"},
        {
            "entry_id": entry,
            "outcome": "blocked_upload",
            "observed_at": "2026-11-20T11:00:00+08:00",
        },
    ]
    first = send(client, partner, items)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert send(client, partner, items).json() == {"accepted": 0, "duplicates": 3}  # a retry
    assert stored(app) == 3
    page = client.get(URL, headers=partner.headers).json()
    assert [f["outcome"] for f in page["feedback"]] == [
        "removed",
        "blocked_upload",
        "blocked_upload",
    ]
    assert page["feedback"][0]["value"] == PDQ_A
    assert page["feedback"][1]["entry_id"] == entry
    assert page["has_more"] is False
    with app.state.reclaim.sessions() as session:
        tags = session.scalars(
            select(AuditEvent.tag).where(AuditEvent.actor_type == "partner")
        ).all()
    assert tags == ["partner:feedback:received"]  # once: the retry stored nothing


def test_a_partner_sees_only_its_own_feedback(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    banked([Signal.parse("md5", MD5)])
    with app.state.reclaim.sessions() as session:
        other = add_partner(session, "Forum")
    send(client, partner, [{"signal_type": "md5", "value": MD5, "outcome": "removed"}])
    send(client, other, [{"signal_type": "md5", "value": MD5, "outcome": "not_violating"}])
    mine = client.get(URL, headers=partner.headers).json()["feedback"]
    theirs = client.get(URL, headers=other.headers).json()["feedback"]
    assert [f["outcome"] for f in mine] == ["removed"]
    assert [f["outcome"] for f in theirs] == ["not_violating"]
    cursor = client.get(URL, headers=partner.headers, params={"cursor": str(mine[0]["id"])}).json()
    assert cursor["feedback"] == []


def test_unknown_targets_and_bad_items_store_nothing(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    banked([Signal.parse("md5", MD5)])
    good = {"signal_type": "md5", "value": MD5, "outcome": "removed"}
    cases = [
        (
            [good, {"signal_type": "md5", "value": "f" * 32, "outcome": "removed"}],
            (422, "unknown_signal"),
        ),
        ([good, {"entry_id": 999, "outcome": "removed"}], (422, "unknown_entry")),
        ([{"outcome": "removed"}], (422, "feedback_target")),
        ([{**good, "entry_id": 1}], (422, "feedback_target")),
        ([{"signal_type": "md5", "outcome": "removed"}], (422, "feedback_target")),
        ([{**good, "outcome": "deleted"}], (422, "invalid_request")),
        ([{**good, "url": "javascript:alert(1)"}], (422, "invalid_request")),
        ([{**good, "observed_at": "2026-11-20T10:00:00"}], (422, "invalid_request")),
        ([{**good, "value": "xyz"}], (422, "invalid_signal")),
        ([{**good, "note": "hi"}], (422, "unknown_field")),
        ([good] * 1001, (422, "batch_too_large")),
    ]
    for items, expected in cases:
        assert error_of(send(client, partner, items)) == expected, items
    assert stored(app) == 0


def test_counts_on_the_case_and_per_platform(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    signal = Signal.parse("pdq", PDQ_A)
    picture = Signal.parse("md5", MD5)
    banked([signal, picture])
    with app.state.reclaim.sessions() as session:
        # A file hashed on the reporter's device, and a picture on a page that two
        # cases report (one page, shared by both).
        device = make_case(session, files=1)
        attach(session, device.items[0], signal)
        first = make_case(session, urls=["https://photosite.example/p/1"])
        second = make_case(session, urls=["https://photosite.example/p/1#reply"])
        attach(session, first.items[0], picture, media_url="https://img.photosite.example/1.jpg")
        unrelated = make_case(session, urls=["https://photosite.example/p/2"])
        session.commit()
        case_ids = device.id, first.id, second.id, unrelated.id
    send(
        client,
        partner,
        [
            {
                "signal_type": "pdq",
                "value": PDQ_A,
                "outcome": "blocked_upload",
                "observed_at": f"2026-11-2{d}T00:00:00Z",
            }
            for d in range(3)
        ]
        + [
            {"signal_type": "pdq", "value": PDQ_A, "outcome": "removed"},
            {"signal_type": "md5", "value": MD5, "outcome": "removed"},
        ],
    )
    with app.state.reclaim.sessions() as session:
        counts = [case_feedback_counts(session, case_id) for case_id in case_ids]
        (photo_site,) = feedback_by_platform(session)
    assert counts == [
        {FeedbackOutcome.BLOCKED_UPLOAD: 3, FeedbackOutcome.REMOVED: 1},
        {FeedbackOutcome.REMOVED: 1},
        {FeedbackOutcome.REMOVED: 1},  # the same page's picture: the same feedback
        {},
    ]
    assert photo_site.platform == "Photo Site"
    assert photo_site.total == 5
