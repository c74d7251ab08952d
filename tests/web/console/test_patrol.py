"""The patrol page: a supervisor watches a page for a case and stops watching it
(audited); a re-upload found by the patrol is marked on the case page (zh_TW and en)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases import pages
from reclaim.cases.domain import Classification, ItemKind, MediaKind
from reclaim.cases.models import Item
from reclaim.scanning.models import PatrolFind, WatchedPage
from tests.support.takedown import case_with_urls
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


def confirmed_case_number(app: FastAPI) -> str:
    with app.state.reclaim.sessions() as session:
        case = case_with_urls(
            session,
            ["https://board.example.org/old.jpg"],
            classification=Classification.SELF_GENERATED_MINOR,
        )
        session.commit()
        return case.number


def test_a_supervisor_watches_a_page_and_stops_watching_it(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = confirmed_case_number(app)
    login_as(Role.SUPERVISOR)
    token = csrf_from(client.get("/console/patrol", headers=EN).text)

    bad = client.post(
        "/console/patrol",
        data={"csrf_token": token, "url": "https://board.example.org/", "case": "RC-NONE"},
        headers=EN,
    )
    assert bad.status_code == 400 and "no case RC-NONE" in bad.text

    added = client.post(
        "/console/patrol",
        data={"csrf_token": token, "url": "https://board.example.org/u/7", "case": number},
        headers=EN,
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = client.get("/console/patrol", headers=EN).text
    assert "https://board.example.org/u/7" in page and number in page
    assert "巡查" in client.get("/console/patrol", headers={"accept-language": "zh-TW"}).text

    with app.state.reclaim.sessions() as session:
        watch = session.scalars(select(WatchedPage)).one()
        watch_id = watch.id
    removed = client.post(
        "/console/patrol/remove",
        data={"csrf_token": token, "watch": str(watch_id)},
        headers=EN,
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "No page is watched." in client.get("/console/patrol", headers=EN).text
    with app.state.reclaim.sessions() as session:
        tags = set(session.scalars(select(AuditEvent.tag)))
    assert {AuditTag.PATROL_WATCH_ADDED.value, AuditTag.PATROL_WATCH_REMOVED.value} <= tags


def test_a_reupload_is_marked_on_the_case_page(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = confirmed_case_number(app)
    with app.state.reclaim.sessions() as session:
        from reclaim.cases.models import Case

        case = session.scalars(select(Case).where(Case.number == number)).one()
        watch = WatchedPage(
            url="https://board.example.org/", host="board.example.org", case_id=case.id
        )
        session.add(watch)
        page = pages.page_for(session, "https://board.example.org/new.jpg", now=case.created_at)
        item = Item(case_id=case.id, kind=ItemKind.URL, url=page.url, page=page)
        session.add(item)
        media = pages.fetched_media(
            session, page, url=page.url, sha256="ab" * 32, kind=MediaKind.IMAGE, now=case.created_at
        )
        session.add(
            PatrolFind(watch_id=watch.id, item_id=item.id, media_id=media.id, bank="csam-verified")
        )
        session.commit()
    login_as(Role.SUPERVISOR)

    english = client.get(f"/console/cases/{number}", headers=EN).text
    chinese = client.get(f"/console/cases/{number}", headers={"accept-language": "zh-TW"}).text

    assert "Re-upload" in english and "csam-verified" in english
    assert "重新上傳" in chinese
