"""One account notice to a platform covering every victim's report of one account,
drafted from the cluster view, sent through the outbox (a real SMTP server on
loopback), shown on each cited case's page; never a reporter's details."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import Page
from reclaim.config import Settings
from reclaim.linkage import identifiers
from reclaim.linkage.domain import IdentifierKind
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.security.field_crypto import field_cipher
from reclaim.takedown.domain import NoticeKind, NoticeStatus
from reclaim.takedown.models import Notice, NoticeCitation
from tests.support.cases import make_case, make_user
from tests.support.linkage import linkage_keys
from tests.support.settings import make_settings
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-TW"}
PROFILE = "https://www.instagram.com/user_alpha/"


@pytest.fixture
def db_settings(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <notices@hotline.example>",
        hotline_email="hotline@hotline.example",
    )


def _cluster(app: FastAPI) -> list[str]:
    """Three victims naming user_alpha three ways (their Instagram posts reported), and
    a fourth linked to the first only by a shared page, naming no account."""
    state = app.state.reclaim
    cipher = field_cipher(state.settings)
    with state.sessions() as session:
        platform = Platform(name="Instagram", abuse_email="abuse@ig.example", language="en")
        platform.domains.append(PlatformDomain(domain="instagram.com"))
        session.add(platform)
        analyst = make_user(session)
        numbers = []
        for index, written in enumerate(["@user_alpha", "ｕｓｅｒ＿ａｌｐｈａ", PROFILE]):
            case = make_case(
                session,
                urls=[f"https://www.instagram.com/p/victim{index}/", "https://leak.example/x"],
                contact=f"reporter{index}@example.com",
                cipher=cipher,
                description=f"Reporter {index}'s own words",
            )
            identifiers.add_by_analyst(
                session,
                case,
                IdentifierKind.HANDLE,
                written,
                actor_id=analyst.id,
                keys=linkage_keys(state.settings),
            )
            numbers.append(case.number)
        bystander = make_case(session, urls=["https://www.instagram.com/p/victim0/"])
        numbers.append(bystander.number)
        session.flush()
        for page in session.scalars(select(Page).where(Page.url.contains("instagram.com"))):
            page.platform_id = platform.id
        session.commit()
    return numbers


def _account_key(html: str) -> str:
    start = html.index('name="account"')
    return html[
        html.index('value="', start) + 7 : html.index('"', html.index('value="', start) + 7)
    ]


def test_one_account_notice_cites_every_case_naming_the_account(
    app: FastAPI,
    client: TestClient,
    login_as: Login,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    numbers = _cluster(app)
    cluster = f"/console/cases/{numbers[0]}/cluster"
    login_as(Role.ANALYST)
    client.get(f"/console/cases/{numbers[0]}")  # linking runs when a case is opened
    assert client.get(cluster).status_code == 403
    token = csrf_from(client.get(f"/console/cases/{numbers[0]}").text)
    refused = client.post(f"{cluster}/account-notice", data={"csrf_token": token, "account": "1:1"})
    assert refused.status_code == 403

    login_as(Role.SUPERVISOR)
    page = client.get(cluster, headers=EN)
    assert 'data-victims="4"' in page.text
    assert "user_alpha · Instagram · 3 cases" in page.text
    key = _account_key(page.text)
    no_csrf = client.post(f"{cluster}/account-notice", data={"account": key})
    assert no_csrf.status_code == 403
    wrong = client.post(
        f"{cluster}/account-notice",
        data={"csrf_token": csrf_from(page.text), "account": "999:999"},
        follow_redirects=True,
        headers=EN,
    )
    assert "Choose an account and the platform" in wrong.text
    with app.state.reclaim.sessions() as session:
        assert session.scalars(select(Notice)).all() == []  # nothing was drafted

    drafted = client.post(
        f"{cluster}/account-notice",
        data={"csrf_token": csrf_from(page.text), "account": key},
        follow_redirects=False,
    )
    assert drafted.status_code == 303
    with app.state.reclaim.sessions() as session:
        notice = session.scalars(select(Notice)).one()
        assert notice.kind is NoticeKind.ACCOUNT and notice.status is NoticeStatus.DRAFT
        assert [p.page.url for p in notice.pages] == [PROFILE]
        cited = session.scalars(select(NoticeCitation.case_id).distinct()).all()
        assert len(cited) == 3  # the bystander names no account: not cited
        notice_id, reference = notice.id, notice.reference
    assert drafted.headers["location"] == f"/console/notices/{notice_id}"
    preview = client.get(f"/console/notices/{notice_id}", headers=EN).text
    assert "Account notice" in preview and PROFILE in preview
    assert "reported to us in 3 cases" in preview
    for index, number in enumerate(numbers[:3]):
        assert number in preview and f"https://www.instagram.com/p/victim{index}/" in preview
    assert numbers[3] not in preview.split("Deadline")[0]
    assert "reporter0@example.com" not in preview and "own words" not in preview
    assert "leak.example" not in preview  # another site's URLs are not this platform's

    again = client.post(
        f"{cluster}/account-notice",
        data={"csrf_token": csrf_from(page.text), "account": key},
        follow_redirects=True,
        headers=EN,
    )
    assert "already open" in again.text

    case_page = client.get(f"/console/cases/{numbers[1]}", headers=EN).text
    assert "Account notices citing this case" in case_page
    assert f'data-notice="{reference}"' in case_page and 'data-status="draft"' in case_page

    token = csrf_from(client.get(f"/console/notices/{notice_id}").text)
    sent = client.post(
        f"/console/notices/{notice_id}/send", data={"csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303
    (received,) = mailbox[1].received
    assert received.rcpt_tos == ("abuse@ig.example",)
    message = received.parsed()
    assert message["Subject"].startswith(f"Account notice {reference}")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert PROFILE in body and all(number in body for number in numbers[:3])
        assert "https://www.instagram.com/p/victim2/" in body
        assert "reporter" not in body.replace("reporters", "").replace("reported", "")
        assert numbers[3] not in body
    with app.state.reclaim.sessions() as session:
        notice = session.get_one(Notice, notice_id)
        assert notice.status is NoticeStatus.SENT and notice.deadline_at is not None
        changes = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == AuditTag.NOTICE_CHANGED.value)
            .order_by(AuditEvent.id)
        ).all()
    # The first change is the draft, which records the cited cases.
    assert sorted(changes[0].details["cases"]) == sorted(numbers[:3])
    for number in numbers[:3]:
        shown = client.get(f"/console/cases/{number}", headers=ZH).text
        assert f'data-notice="{reference}"' in shown and 'data-status="sent"' in shown
        assert "引用本案的帳號通知" in shown
