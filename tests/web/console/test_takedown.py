"""Takedown in the console: drafting, previewing and sending notices; the platform
directory; the supervisor's dashboard and the escalation report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import Classification
from reclaim.cases.models import Case, Item
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.security.field_crypto import Purpose, field_cipher
from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Delivery, Notice
from reclaim.takedown.notices import NoticePolicy
from tests.support.cases import make_case
from tests.support.takedown import notice_for
from tests.web.conftest import csrf_from

Login = Callable[..., object]
EN = {"accept-language": "en"}


def _decided_case(app: FastAPI, *, email: str | None = "abuse@photos.example") -> str:
    with app.state.reclaim.sessions() as session:
        platform = Platform(name="Photo Site", abuse_email=email, language="en")
        platform.domains.append(PlatformDomain(domain="photos.example"))
        session.add(platform)
        case = make_case(
            session, urls=["https://cdn.photos.example/a.jpg", "https://elsewhere.example/b"]
        )
        for item in case.items:
            item.classification = Classification.SELF_GENERATED_MINOR
            if item.url and "photos.example" in item.url:
                item.platform_id = platform.id
        session.commit()
        return case.number


def _post(client: TestClient, page: str, action: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page, headers=EN).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def test_an_analyst_drafts_and_a_supervisor_sends(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(app)
    login_as(Role.ANALYST)
    page = f"/console/cases/{number}/notices"
    listing = client.get(page, headers=EN)
    assert "https://elsewhere.example/b" in listing.text  # no platform known: flagged
    with app.state.reclaim.sessions() as session:
        item_id = session.scalars(
            select(Item.id).where(Item.url == "https://cdn.photos.example/a.jpg")
        ).one()
    _post(client, page, f"/console/items/{item_id}/posted-by", {"posted_by": " @poster  one "})
    response = _post(client, page, page)
    assert response.status_code == 303
    with app.state.reclaim.sessions() as session:
        notice = session.scalars(select(Notice)).one()
        notice_id, reference = notice.id, notice.reference
        assert [i.item.url for i in notice.items] == ["https://cdn.photos.example/a.jpg"]
    preview = client.get(f"/console/notices/{notice_id}", headers=EN)
    assert reference in preview.text and "Removal notice" in preview.text
    assert "Posted by: @poster one" in preview.text
    assert "A supervisor sends notices" in preview.text
    refused = _post(client, f"/console/notices/{notice_id}", f"/console/notices/{notice_id}/send")
    assert refused.status_code == 403

    login_as(Role.SUPERVISOR)
    sent = _post(client, f"/console/notices/{notice_id}", f"/console/notices/{notice_id}/send")
    assert sent.status_code == 303
    with app.state.reclaim.sessions() as session:
        assert session.get_one(Notice, notice_id).status == NoticeStatus.QUEUED
        (delivery,) = session.scalars(select(Delivery)).all()
        assert (delivery.channel, delivery.status) == ("email", "pending")
    again = _post(client, f"/console/notices/{notice_id}", f"/console/notices/{notice_id}/send")
    assert again.headers["location"].endswith("error=not-draft")


def test_a_platform_without_contacts_cannot_be_sent_to(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(app, email=None)
    login_as(Role.SUPERVISOR)
    _post(client, f"/console/cases/{number}/notices", f"/console/cases/{number}/notices")
    with app.state.reclaim.sessions() as session:
        notice_id = session.scalars(select(Notice.id)).one()
    response = _post(client, f"/console/notices/{notice_id}", f"/console/notices/{notice_id}/send")
    assert response.headers["location"].endswith("error=no-contact")
    with app.state.reclaim.sessions() as session:
        assert session.get_one(Notice, notice_id).status == NoticeStatus.DRAFT
        assert session.scalars(select(Delivery)).all() == []


def test_editing_a_platform_keeps_the_secret_encrypted(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _decided_case(app)
    login_as(Role.SUPERVISOR)
    with app.state.reclaim.sessions() as session:
        platform_id = session.scalars(select(Platform.id)).one()
    page = f"/console/platforms/{platform_id}"
    bad = _post(client, page, page, {"webhook_url": "http://hooks.example/x"})
    assert bad.status_code == 400
    good = _post(
        client,
        page,
        page,
        {
            "abuse_email": "abuse@photos.example",
            "webhook_url": "https://hooks.photos.example/r",
            "webhook_secret": "s3cret-value",
            "language": "zh_TW",
            "add_domain": "PhotoCDN.example",
        },
    )
    assert good.status_code == 303
    with app.state.reclaim.sessions() as session:
        platform = session.get_one(Platform, platform_id)
        assert platform.webhook_secret and "s3cret" not in platform.webhook_secret
        cipher = field_cipher(app.state.reclaim.settings)
        assert (
            cipher.decrypt(platform.webhook_secret, purpose=Purpose.WEBHOOK_SECRET)
            == "s3cret-value"
        )
        assert {d.domain for d in platform.domains} == {"photos.example", "photocdn.example"}
        assert platform.language == "zh_TW"
    taken = _post(client, page, page, {"add_domain": "photos.example"})
    assert taken.status_code == 400


def test_the_dashboard_counts_overdue_and_the_report_is_audited(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(app)
    with app.state.reclaim.sessions() as session:
        case = session.scalars(select(Case).where(Case.number == number)).one()
        policy = NoticePolicy.from_settings(app.state.reclaim.settings)
        long_ago = app.state.reclaim.clock() - timedelta(hours=30)
        notice, _ = notice_for(session, case, policy, sent_at=long_ago)
        reference = notice.reference
        session.commit()
    login_as(Role.SUPERVISOR)
    dashboard = client.get("/console/takedown", headers=EN)
    assert 'data-overdue="1"' in dashboard.text and reference in dashboard.text
    for fmt, start in (("csv", b"notice,platform"), ("pdf", b"%PDF-"), ("html", b"<!doctype")):
        report = client.get(f"/console/takedown/escalation.{fmt}")
        assert report.status_code == 200 and report.content.startswith(start)
        assert report.headers["cache-control"] == "no-store"
    assert client.get("/console/takedown/escalation.exe").status_code == 404
    with app.state.reclaim.sessions() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.ESCALATION_EXPORTED.value)
        ).all()
        assert [e.details["format"] for e in exports] == ["csv", "pdf", "html"]
        assert all(e.details["notices"] == [reference] for e in exports)
