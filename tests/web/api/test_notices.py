"""The notices inbox: a partner sees, acknowledges and resolves its own notices only;
its word is recorded, and verification still decides removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.config import Settings
from reclaim.takedown.domain import ItemOutcome, NoticeStatus
from reclaim.takedown.models import Notice, NoticeItem
from reclaim.takedown.verification import due_items
from tests.support.takedown import make_notice
from tests.web.api.conftest import PartnerKey, add_partner
from tests.web.api.test_auth import error_of

INBOX = "/api/v1/notices"


def notice_of(app: FastAPI, notice_id: int) -> Notice:
    with app.state.reclaim.sessions() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        _ = [i.outcome for i in notice.items]
        session.expunge_all()
        return notice


def test_the_inbox_lists_only_this_platforms_sent_notices(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        other = add_partner(session, "Forum")
        mine = make_notice(session, api_settings, "Photo Site")
        draft = make_notice(session, api_settings, "Photo Site", ["/c.jpg"], stage="draft")
        theirs = make_notice(session, api_settings, "Forum")
    body = client.get(INBOX, headers=partner.headers).json()
    assert [n["id"] for n in body["notices"]] == [mine.id]
    notice = body["notices"][0]
    assert notice["reference"] == mine.reference
    assert notice["status"] == "sent"
    assert notice["deadline"] is not None
    assert [i["url"] for i in notice["items"]] == [
        "https://photosite.example/a.jpg",
        "https://photosite.example/b.jpg",
    ]
    assert {i["category"] for i in notice["items"]} == {"self_generated_minor"}
    assert [n["id"] for n in client.get(INBOX, headers=other.headers).json()["notices"]] == [
        theirs.id
    ]
    for notice_id in (theirs.id, draft.id, 999):
        for response in (
            client.get(f"{INBOX}/{notice_id}", headers=partner.headers),
            client.post(f"{INBOX}/{notice_id}/acknowledge", headers=partner.headers),
            client.post(
                f"{INBOX}/{notice_id}/resolve",
                headers=partner.headers,
                json={"items": [{"id": 1, "outcome": "removed"}]},
            ),
        ):
            assert error_of(response) == (404, "unknown_notice")
    assert notice_of(app, theirs.id).status is NoticeStatus.SENT


def test_status_filter_and_cursor(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notices = [
            make_notice(session, api_settings, "Photo Site", [f"/{i}.jpg"]) for i in range(3)
        ]
    client.post(f"{INBOX}/{notices[1].id}/acknowledge", headers=partner.headers)
    acked = client.get(INBOX, headers=partner.headers, params={"status": "acknowledged"}).json()
    assert [n["id"] for n in acked["notices"]] == [notices[1].id]
    first = client.get(INBOX, headers=partner.headers, params={"limit": 2}).json()
    assert first["has_more"] is True
    rest = client.get(
        INBOX, headers=partner.headers, params={"cursor": first["next_cursor"]}
    ).json()
    assert [n["id"] for n in first["notices"] + rest["notices"]] == [n.id for n in notices]
    bad = client.get(INBOX, headers=partner.headers, params={"status": "draft"})
    assert error_of(bad) == (422, "invalid_request")


def test_acknowledge_is_idempotent_and_audited(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
    first = client.post(f"{INBOX}/{notice.id}/acknowledge", headers=partner.headers)
    assert first.status_code == 200
    assert first.json()["status"] == "acknowledged"
    assert first.json()["acknowledged_at"] is not None
    again = client.post(f"{INBOX}/{notice.id}/acknowledge", headers=partner.headers)
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    with app.state.reclaim.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.target_id == notice.id)).all()
    partner_events = [e for e in events if e.actor_type == "partner"]
    assert {e.tag for e in partner_events} == {
        AuditTag.NOTICE_CHANGED.value,
        AuditTag.PARTNER_NOTICE_ACKNOWLEDGED.value,
    }
    assert all(e.actor_id == partner.partner_id for e in partner_events)


def test_a_queued_notice_read_through_the_api_counts_as_sent(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site", stage="queued")
    body = client.post(f"{INBOX}/{notice.id}/acknowledge", headers=partner.headers).json()
    assert body["status"] == "acknowledged"
    assert body["sent_at"] is not None and body["deadline"] is not None


def resolve(
    client: TestClient, key: PartnerKey, notice_id: int, items: list[dict[str, Any]]
) -> Any:
    return client.post(f"{INBOX}/{notice_id}/resolve", headers=key.headers, json={"items": items})


def test_a_claim_of_removal_is_checked_not_believed(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
    first, second = (i.id for i in notice.items)
    before = datetime.now(UTC)
    response = resolve(
        client,
        partner,
        notice.id,
        [{"id": first, "outcome": "removed"}, {"id": second, "outcome": "not_found"}],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "acknowledged"  # not "removed": nothing was verified yet
    assert [(i["outcome"], i["platform_outcome"]) for i in body["items"]] == [
        ("pending", "removed"),
        ("pending", "not_found"),
    ]
    with app.state.reclaim.sessions() as session:
        items = session.scalars(select(NoticeItem).where(NoticeItem.notice_id == notice.id)).all()
        assert all(
            i.next_check_at is not None and i.next_check_at <= datetime.now(UTC) for i in items
        )
        assert all(
            i.next_check_at is not None and i.next_check_at >= before - timedelta(seconds=1)
            for i in items
        )
        assert {i.id for i in items} <= set(due_items(session))  # checked at the next run
        tags = session.scalars(
            select(AuditEvent.tag).where(AuditEvent.actor_type == "partner")
        ).all()
    assert AuditTag.PARTNER_NOTICE_RESOLVED.value in tags


def test_refusals_settle_the_notice_as_refused(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
    claims = [
        {"id": i.id, "outcome": "refused", "reason": "not on our service"} for i in notice.items
    ]
    body = resolve(client, partner, notice.id, claims).json()
    assert body["status"] == "refused"
    assert {i["platform_reason"] for i in body["items"]} == {"not on our service"}
    assert body["resolved_at"] is not None


def test_a_verified_removal_and_a_refusal_make_a_partial_removal(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
        first = session.get(NoticeItem, notice.items[0].id)
        assert first is not None
        first.outcome = ItemOutcome.REMOVED  # as a verification would record it
        first.removed_at = datetime.now(UTC)
        session.commit()
    second = notice.items[1].id
    body = resolve(
        client, partner, notice.id, [{"id": second, "outcome": "refused", "reason": "legal"}]
    ).json()
    assert body["status"] == "partially_removed"
    # The platform cannot undo a verified removal by saying otherwise.
    again = resolve(
        client,
        partner,
        notice.id,
        [{"id": notice.items[0].id, "outcome": "refused", "reason": "x"}],
    ).json()
    assert again["items"][0]["outcome"] == "removed"


def test_bad_resolutions_change_nothing(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
        other = make_notice(session, api_settings, "Photo Site", ["/z.jpg"])
    item = notice.items[0].id
    cases = [
        ([{"id": item, "outcome": "refused"}], (422, "reason_required")),
        ([{"id": item, "outcome": "refused", "reason": "   "}], (422, "reason_required")),
        ([{"id": other.items[0].id, "outcome": "removed"}], (422, "unknown_item")),
        (
            [{"id": item, "outcome": "removed"}, {"id": item, "outcome": "removed"}],
            (422, "duplicate_item"),
        ),
        ([{"id": item, "outcome": "gone"}], (422, "invalid_request")),
        ([{"id": item, "outcome": "removed", "extra": 1}], (422, "unknown_field")),
        ([], (422, "invalid_request")),
    ]
    for items, expected in cases:
        assert error_of(resolve(client, partner, notice.id, items)) == expected, items
    unchanged = notice_of(app, notice.id)
    assert unchanged.status is NoticeStatus.SENT
    assert all(i.platform_outcome is None for i in unchanged.items)


def test_a_removed_notice_is_closed(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site", ["/a.jpg"])
        row = session.get(Notice, notice.id)
        assert row is not None
        row.status = NoticeStatus.REMOVED
        session.commit()
    response = resolve(
        client, partner, notice.id, [{"id": notice.items[0].id, "outcome": "removed"}]
    )
    assert error_of(response) == (409, "notice_closed")
