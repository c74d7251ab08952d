"""The notices inbox: a partner sees, acknowledges and resolves its own notices only
(each page with the decided pictures on it); its word is recorded, and verification
still decides removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.config import Settings
from reclaim.takedown.domain import NoticeStatus, VerificationOutcome
from reclaim.takedown.models import Notice, NoticePage
from reclaim.takedown.notices import NoticePolicy
from reclaim.takedown.verification import Finding, Findings, apply, due_pages, plan
from tests.support.takedown import make_notice
from tests.web.api.conftest import PartnerKey, add_partner
from tests.web.api.test_auth import error_of

INBOX = "/api/v1/notices"
PICTURES = {
    "/a": [
        ("https://img.photosite.example/a1.jpg", "first picture"),
        ("https://img.photosite.example/a2.jpg", "second picture"),
    ]
}


def notice_of(app: FastAPI, notice_id: int) -> Notice:
    with app.state.reclaim.sessions() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        _ = [(p.outcome, p.page.url) for p in notice.pages]
        session.expunge_all()
        return notice


def test_the_inbox_lists_only_this_platforms_sent_notices(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        other = add_partner(session, "Forum")
        mine = make_notice(session, api_settings, "Photo Site", pictures=PICTURES)
        draft = make_notice(session, api_settings, "Photo Site", ["/c"], stage="draft")
        theirs = make_notice(session, api_settings, "Forum")
    body = client.get(INBOX, headers=partner.headers).json()
    assert [n["id"] for n in body["notices"]] == [mine.id]
    notice = body["notices"][0]
    assert notice["reference"] == mine.reference
    assert notice["status"] == "sent"
    assert notice["deadline"] is not None and notice["kind"] == "content"
    assert [i["url"] for i in notice["items"]] == [
        "https://photosite.example/a",
        "https://photosite.example/b",
    ]
    assert {i["category"] for i in notice["items"]} == {"self_generated_minor"}
    # Every decided picture on a page is listed, to remove with it.
    assert [(m["url"], m["outcome"]) for m in notice["items"][0]["media"]] == [
        ("https://img.photosite.example/a1.jpg", "pending"),
        ("https://img.photosite.example/a2.jpg", "pending"),
    ]
    assert notice["items"][1]["media"] == []
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
        notices = [make_notice(session, api_settings, "Photo Site", [f"/{i}"]) for i in range(3)]
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
    first, second = (p.id for p in notice.pages)
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
        pages = session.scalars(select(NoticePage).where(NoticePage.notice_id == notice.id)).all()
        assert all(
            p.next_check_at is not None and p.next_check_at <= datetime.now(UTC) for p in pages
        )
        assert all(
            p.next_check_at is not None and p.next_check_at >= before - timedelta(seconds=1)
            for p in pages
        )
        assert {p.id for p in pages} <= set(due_pages(session))  # checked at the next run
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
        {"id": p.id, "outcome": "refused", "reason": "not on our service"} for p in notice.pages
    ]
    body = resolve(client, partner, notice.id, claims).json()
    assert body["status"] == "refused"
    assert {i["platform_reason"] for i in body["items"]} == {"not on our service"}
    assert body["resolved_at"] is not None


def _check(
    app: FastAPI, settings: Settings, page_id: int, page: Finding, media: list[Finding]
) -> None:
    """Record a check as verification would after fetching (the findings given)."""
    with app.state.reclaim.sessions() as session:
        check = plan(session, page_id)
        found = Findings(
            page, dict(zip([m.notice_media_id for m in check.media], media, strict=True))
        )
        apply(session, check, found, NoticePolicy.from_settings(settings))
        session.commit()


GONE = Finding(VerificationOutcome.REMOVED, 404)
UP = Finding(VerificationOutcome.STILL_UP, 200)


def test_a_verified_removal_and_a_refusal_make_a_partial_removal(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site", pictures=PICTURES)
    first, second = (p.id for p in notice.pages)
    # A check finds one of the first page's two pictures gone, the other still up.
    _check(app, api_settings, first, UP, [GONE, UP])
    body = client.get(f"{INBOX}/{notice.id}", headers=partner.headers).json()
    assert body["status"] == "partially_removed"
    assert body["items"][0]["outcome"] == "partially_removed"
    assert body["items"][0]["removed_at"] is None
    media = body["items"][0]["media"]
    assert [m["outcome"] for m in media] == ["removed", "pending"]
    assert media[0]["removed_at"] is not None and media[1]["removed_at"] is None

    # The second page is found gone; the platform refuses the first page's rest.
    _check(app, api_settings, second, GONE, [])
    body = resolve(
        client, partner, notice.id, [{"id": first, "outcome": "refused", "reason": "legal"}]
    ).json()
    assert [(i["outcome"], i["platform_outcome"]) for i in body["items"]] == [
        ("refused", "refused"),
        ("removed", None),
    ]
    assert body["status"] == "partially_removed"
    # The platform cannot undo a verified removal by saying otherwise.
    again = resolve(
        client, partner, notice.id, [{"id": second, "outcome": "refused", "reason": "x"}]
    ).json()
    assert [i["outcome"] for i in again["items"]] == ["refused", "removed"]
    assert again["items"][1]["platform_outcome"] == "refused"  # its word is still recorded


def test_bad_resolutions_change_nothing(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site")
        other = make_notice(session, api_settings, "Photo Site", ["/z"])
    item = notice.pages[0].id
    cases = [
        ([{"id": item, "outcome": "refused"}], (422, "reason_required")),
        ([{"id": item, "outcome": "refused", "reason": "   "}], (422, "reason_required")),
        ([{"id": other.pages[0].id, "outcome": "removed"}], (422, "unknown_item")),
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
    assert all(p.platform_outcome is None for p in unchanged.pages)


def test_a_removed_notice_is_closed(
    app: FastAPI, client: TestClient, partner: PartnerKey, api_settings: Settings
) -> None:
    with app.state.reclaim.sessions() as session:
        notice = make_notice(session, api_settings, "Photo Site", ["/a"])
    _check(app, api_settings, notice.pages[0].id, GONE, [])  # verified: the page is gone
    assert notice_of(app, notice.id).status is NoticeStatus.REMOVED
    response = resolve(
        client, partner, notice.id, [{"id": notice.pages[0].id, "outcome": "removed"}]
    )
    assert error_of(response) == (409, "notice_closed")
