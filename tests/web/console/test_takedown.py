"""Takedown in the console: drafting, previewing and sending notices (one per page
whatever the number of cases); recording a platform's emailed answer; "check now"; the
platform directory; the supervisor's dashboard and the escalation report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case, Item
from reclaim.config import Settings
from reclaim.domain.times import for_people, zone_named
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.security.field_crypto import Purpose, field_cipher
from reclaim.takedown.domain import NoticeKind, NoticeStatus, PageOutcome
from reclaim.takedown.models import Delivery, Notice, Verification
from reclaim.takedown.notices import NoticePolicy
from tests.support.cases import make_case
from tests.support.http import LoopbackServer, send
from tests.support.settings import make_settings
from tests.support.takedown import case_with_urls, decide, notice_for
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}
PICTURES = {
    "https://photos.example/p/1": [
        ("https://cdn.photos.example/1a.jpg", "first picture"),
        ("https://cdn.photos.example/1b.jpg", "second picture"),
    ]
}


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    # "Check now" fetches from a loopback 'platform'.
    return make_settings(tmp_path, database_url=database_url, fetch_allowlist=["127.0.0.1/32"])


def _platform(app: FastAPI, *, email: str | None = "abuse@photos.example") -> None:
    """Photo Site, the platform at photos.example."""
    with app.state.reclaim.sessions() as session:
        platform = Platform(name="Photo Site", abuse_email=email, language="en")
        platform.domains.append(PlatformDomain(domain="photos.example"))
        session.add(platform)
        session.commit()


def _decided_case(
    app: FastAPI,
    urls: tuple[str, ...] = ("https://photos.example/p/1", "https://elsewhere.example/b"),
    classification: Classification = Classification.SELF_GENERATED_MINOR,
) -> str:
    """A case whose URLs were decided (the pages matched to platforms by host)."""
    with app.state.reclaim.sessions() as session:
        known = session.scalar(select(Platform.id)) is not None
    if not known:
        _platform(app)
    with app.state.reclaim.sessions() as session:
        case = case_with_urls(session, urls, classification=classification, pictures=PICTURES)
        session.commit()
        return case.number


def _sent(app: FastAPI, number: str, *, hours_ago: float) -> tuple[int, str]:
    """Draft and send the case's notice ``hours_ago`` (as the outbox would)."""
    with app.state.reclaim.sessions() as session:
        case = session.scalars(select(Case).where(Case.number == number)).one()
        policy = NoticePolicy.from_settings(app.state.reclaim.settings)
        sent_at = app.state.reclaim.clock() - timedelta(hours=hours_ago)
        notice, _ = notice_for(session, case, policy, sent_at=sent_at)
        session.commit()
        return notice.id, notice.reference


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
    assert "2 decided pictures" in listing.text
    with app.state.reclaim.sessions() as session:
        item_id = session.scalars(
            select(Item.id).where(Item.url == "https://photos.example/p/1")
        ).one()
    _post(client, page, f"/console/items/{item_id}/posted-by", {"posted_by": " @poster  one "})
    response = _post(client, page, page)
    assert response.status_code == 303
    with app.state.reclaim.sessions() as session:
        notice = session.scalars(select(Notice)).one()
        notice_id, reference = notice.id, notice.reference
        assert [p.page.url for p in notice.pages] == ["https://photos.example/p/1"]
        assert len(notice.pages[0].media) == 2
    preview = client.get(f"/console/notices/{notice_id}", headers=EN)
    assert reference in preview.text and "Removal notice" in preview.text
    assert "Posted by: @poster one" in preview.text
    for url in ("https://cdn.photos.example/1a.jpg", "https://cdn.photos.example/1b.jpg"):
        assert url in preview.text
    assert "A supervisor sends notices" in preview.text
    assert f"/console/cases/{number}/notices" in preview.text  # the case it serves
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


def test_a_page_reported_in_two_cases_gets_one_notice(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    first = _decided_case(app, ("https://photos.example/p/1",))
    second = _decided_case(app, ("https://photos.example/p/1#comments",))
    login_as(Role.ANALYST)
    listing = client.get(f"/console/cases/{second}/notices", headers=EN)
    assert "reported in 2 cases: one notice for all" in listing.text
    _post(client, f"/console/cases/{second}/notices", f"/console/cases/{second}/notices")
    with app.state.reclaim.sessions() as session:
        (notice,) = session.scalars(select(Notice)).all()
        assert [p.page.url for p in notice.pages] == ["https://photos.example/p/1"]
    # Drafting from the first case adds nothing; both cases list the one notice.
    _post(client, f"/console/cases/{first}/notices", f"/console/cases/{first}/notices")
    for number in (first, second):
        page = client.get(f"/console/cases/{number}/notices", headers=EN).text
        assert notice.reference in page
        assert "No decided page is waiting for a notice." in page
    with app.state.reclaim.sessions() as session:
        assert len(session.scalars(select(Notice)).all()) == 1
    shown = client.get(f"/console/notices/{notice.id}", headers=EN).text
    assert (
        f"/console/cases/{first}/notices" in shown and f"/console/cases/{second}/notices" in shown
    )


def test_conflicting_decisions_are_held_for_a_supervisor(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    minor = _decided_case(app, ("https://photos.example/p/1",), Classification.CSAM)
    adult = _decided_case(app, ("https://photos.example/p/1",), Classification.ADULT_NCII)
    login_as(Role.ANALYST)
    page = client.get(f"/console/cases/{adult}/notices", headers=EN).text
    assert "Held: conflicting decisions" in page and "data-held=" in page
    assert minor in page and "No decided page is waiting for a notice." in page
    _post(client, f"/console/cases/{adult}/notices", f"/console/cases/{adult}/notices")
    with app.state.reclaim.sessions() as session:
        assert session.scalars(select(Notice)).all() == []  # nothing sent about it


def test_an_offenders_account_gets_an_account_notice(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(
        app, ("https://photos.example/u/extorter",), Classification.SEXTORTION_THREAT
    )
    login_as(Role.ANALYST)
    page = f"/console/cases/{number}/notices"
    listing = client.get(page, headers=EN).text
    assert "Offender accounts" in listing and "https://photos.example/u/extorter" in listing
    with app.state.reclaim.sessions() as session:
        item_id = session.scalars(select(Item.id)).one()
    drafted = _post(client, page, f"/console/items/{item_id}/account-notice")
    assert drafted.status_code == 303
    with app.state.reclaim.sessions() as session:
        notice = session.scalars(select(Notice)).one()
        assert notice.kind is NoticeKind.ACCOUNT
    assert drafted.headers["location"] == f"/console/notices/{notice.id}"
    assert "Account notice" in client.get(f"/console/notices/{notice.id}", headers=EN).text
    # Only one open account notice per page.
    again = _post(client, page, f"/console/items/{item_id}/account-notice")
    assert again.headers["location"].endswith("error=account")


def test_a_platform_without_contacts_cannot_be_sent_to(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _platform(app, email=None)
    number = _decided_case(app)
    login_as(Role.SUPERVISOR)
    _post(client, f"/console/cases/{number}/notices", f"/console/cases/{number}/notices")
    with app.state.reclaim.sessions() as session:
        notice_id = session.scalars(select(Notice.id)).one()
    response = _post(client, f"/console/notices/{notice_id}", f"/console/notices/{notice_id}/send")
    assert response.headers["location"].endswith("error=no-contact")
    with app.state.reclaim.sessions() as session:
        assert session.get_one(Notice, notice_id).status == NoticeStatus.DRAFT
        assert session.scalars(select(Delivery)).all() == []


def test_a_refusal_answered_by_email_shows_on_the_notice_the_dashboard_and_the_report(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(app, ("https://photos.example/p/1",))
    notice_id, reference = _sent(app, number, hours_ago=30)  # past the 24 h deadline
    page = f"/console/notices/{notice_id}"
    login_as(Role.ANALYST)
    assert "Record the platform" not in client.get(page, headers=EN).text
    assert _post(client, page, f"{page}/answer", {"answer": "refused"}).status_code == 403

    login_as(Role.SUPERVISOR)
    missing = _post(client, page, f"{page}/answer", {"answer": "refused", "reason": "  "})
    assert missing.headers["location"].endswith("error=reason_required")
    with app.state.reclaim.sessions() as session:
        assert session.get_one(Notice, notice_id).status is NoticeStatus.SENT
    reason = "Legal in our jurisdiction <we think>"
    done = _post(client, page, f"{page}/answer", {"answer": "refused", "reason": reason})
    assert done.headers["location"].endswith("done=answer")
    with app.state.reclaim.sessions() as session:
        notice = session.get_one(Notice, notice_id)
        assert notice.status is NoticeStatus.REFUSED
        (noticed,) = notice.pages
        assert (noticed.platform_outcome, noticed.platform_reason) == (PageOutcome.REFUSED, reason)
        recorded = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.NOTICE_ANSWER_RECORDED.value)
        ).one()
        assert recorded.details["via"] == "email" and recorded.actor_type == "user"

    escaped = "Legal in our jurisdiction &lt;we think&gt;"
    shown = client.get(page, headers=EN).text
    assert 'data-platform-outcome="refused"' in shown and escaped in shown
    dashboard = client.get("/console/takedown", headers=EN).text
    assert f'data-refused="{noticed.id}"' in dashboard and escaped in dashboard
    assert reference in dashboard
    report = client.get("/console/takedown/escalation.html").text
    assert reference in report and escaped in report
    assert 'data-overdue="0"' in dashboard  # refused, not waiting: the report has it


def test_an_emailed_acknowledgement_and_claim_of_removal(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _decided_case(app, ("https://photos.example/p/1", "https://photos.example/p/2"))
    notice_id, _reference = _sent(app, number, hours_ago=0.5)  # first check in 30 minutes
    page = f"/console/notices/{notice_id}"
    login_as(Role.SUPERVISOR)
    _post(client, page, f"{page}/answer", {"answer": "acknowledged"})
    with app.state.reclaim.sessions() as session:
        notice = session.get_one(Notice, notice_id)
        assert notice.status is NoticeStatus.ACKNOWLEDGED and notice.acknowledged_at
        second = notice.pages[1].id
    # The platform says it removed the second page: recorded, to be checked at once.
    _post(client, page, f"{page}/answer", {"answer": "removed", "page": str(second)})
    now = app.state.reclaim.clock()
    with app.state.reclaim.sessions() as session:
        first, claimed = session.get_one(Notice, notice_id).pages
        assert claimed.platform_outcome is PageOutcome.REMOVED
        assert claimed.outcome is PageOutcome.PENDING and claimed.next_check_at == now
        assert first.platform_outcome is None and first.next_check_at == now + timedelta(minutes=30)


@pytest.fixture
def platform_site() -> Iterator[LoopbackServer]:
    site = LoopbackServer().start()
    site.routes["/p/gone"] = lambda handler: send(handler, 404, b"removed", "text/plain")
    yield site
    site.stop()


def test_check_now_verifies_at_once(
    app: FastAPI, client: TestClient, login_as: Login, platform_site: LoopbackServer
) -> None:
    _platform(app)
    url = platform_site.url("/p/gone")
    with app.state.reclaim.sessions() as session:
        platform = session.scalars(select(Platform)).one()
        case = case_with_urls(session, [url], platform=platform)
        session.commit()
        number = case.number
    notice_id, _ = _sent(app, number, hours_ago=0.1)  # the first check is not due yet
    page = f"/console/notices/{notice_id}"
    user = login_as(Role.ANALYST)
    assert "Check now" in client.get(page, headers=EN).text
    checked = _post(client, page, f"{page}/check")
    assert checked.headers["location"].endswith("done=checked")
    with app.state.reclaim.sessions() as session:
        (check,) = session.scalars(select(Verification)).all()
        assert check.requested_by_id == user.id
        notice = session.get_one(Notice, notice_id)
        assert notice.status is NoticeStatus.REMOVED
        assert session.scalars(select(Case)).one().status is CaseStatus.RESOLVED
    shown = client.get(page, headers=EN).text
    assert 'data-check="removed"' in shown and "Check now" not in shown
    assert _post(client, page, f"{page}/check").headers["location"].endswith("error=not-open")


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
    _notice_id, reference = _sent(app, number, hours_ago=30)
    # A second case reports the same page later: the dashboard still counts it once.
    with app.state.reclaim.sessions() as session:
        again = make_case(session, urls=["https://photos.example/p/1"])
        decide(session, again.items[0], Classification.SELF_GENERATED_MINOR)
        session.commit()
    login_as(Role.SUPERVISOR)
    dashboard = client.get("/console/takedown", headers=EN)
    assert 'data-overdue="1"' in dashboard.text and reference in dashboard.text
    row = dashboard.text.split('data-platform="Photo Site"', 1)[1].split("</tr>", 1)[0]
    assert "<td>0 / 1</td>" in row and "<td>0 / 2</td>" in row  # one page, two pictures
    # Statuses in words and times on the operator's clock (Taipei), never raw codes.
    assert ">Sent to the platform<" in dashboard.text and ">sent<" not in dashboard.text
    deadline = notice_deadline_text(app, reference)
    assert deadline.endswith("UTC+8") and deadline in dashboard.text
    assert 'href="/console/takedown/escalation.pdf?lang=zh_TW"' in dashboard.text
    assert 'href="/console/takedown/escalation.pdf?lang=en"' in dashboard.text

    zh_tw = {"accept-language": "zh-TW"}  # the staff member's language
    for fmt, start in (("csv", "\ufeff通知,平臺"), ("pdf", "%PDF-"), ("html", "<!doctype")):
        report = client.get(f"/console/takedown/escalation.{fmt}", headers=zh_tw)
        assert report.status_code == 200
        assert report.content.startswith(start.encode()), report.content[:40]
        assert report.headers["cache-control"] == "no-store"
        assert report.headers["content-language"] == "zh-TW"
    english = client.get("/console/takedown/escalation.html?lang=en", headers=zh_tw)
    assert "overdue removal notices" in english.text and english.headers["content-language"] == "en"
    assert "-en.html" in english.headers["content-disposition"]
    assert client.get("/console/takedown/escalation.exe").status_code == 404
    with app.state.reclaim.sessions() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.ESCALATION_EXPORTED.value)
        ).all()
        assert [e.details["format"] for e in exports] == ["csv", "pdf", "html", "html"]
        assert [e.details["language"] for e in exports] == ["zh_TW"] * 3 + ["en"]
        assert all(e.details["notices"] == [reference] for e in exports)


def notice_deadline_text(app: FastAPI, reference: str) -> str:
    """The notice's deadline as staff in Taipei read it."""
    with app.state.reclaim.sessions() as session:
        notice = session.scalars(select(Notice).where(Notice.reference == reference)).one()
        assert notice.deadline_at is not None
        return for_people(notice.deadline_at, zone_named("Asia/Taipei"))
