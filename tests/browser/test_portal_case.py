"""Check my case in Chromium: opening a case, its timeline, adding URLs and files,
withdrawing (tombstones in the bank), and the wrong-PIN lockout."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Item
from reclaim.intake.submission import IntakePolicy, submit_report
from reclaim.security.field_crypto import field_cipher
from tests.browser.conftest import LiveServer
from tests.browser.portal_support import (
    self_reported,
    synthetic_photo,
    the_case,
    wait_for_files,
)
from tests.support.cases import signal_links
from tests.support.intake import a_report, hashed_file

pytestmark = pytest.mark.browser


def reported_case(live: LiveServer, **report: object) -> tuple[str, str]:
    """A case made through the intake service, as a report would make it."""
    with live.sessions() as session:  # type: ignore[attr-defined]
        made = submit_report(
            session,
            a_report(idempotency_key=secrets.token_urlsafe(24), **report),
            policy=IntakePolicy.from_settings(live.settings),
            cipher=field_cipher(live.settings),
        )
        session.commit()
    assert made.pin is not None
    return made.case_number, made.pin


def open_case(page: Page, live: LiveServer, number: str, pin: str) -> None:
    page.goto(f"{live.url}/case")
    page.fill("#case_number", number.lower().replace("-", " "))  # as typed from paper
    page.fill("#pin", pin)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_checking_a_case_shows_its_timeline(portal: Page, live_server: LiveServer) -> None:
    number, pin = reported_case(live_server, contact="kid@example.com", contact_consent=True)

    open_case(portal, live_server, number, pin)

    assert portal.url == f"{live_server.url}/case/status"
    assert number in portal.text_content("h1")  # type: ignore[operator]
    assert "我們收到你的通報了" in portal.text_content(".timeline")  # type: ignore[operator]
    assert "k••@example.com" in portal.content()
    portal.click("text=關閉我的案件頁面")
    assert portal.url == f"{live_server.url}/"
    portal.goto(f"{live_server.url}/case/status")
    assert portal.url.endswith("/case?expired=1")


def test_adding_a_url_and_a_file(portal: Page, live_server: LiveServer, tmp_path: Path) -> None:
    number, pin = reported_case(live_server, files=())
    photo = synthetic_photo(tmp_path, "another.jpg", seed=21)
    open_case(portal, live_server, number, pin)

    portal.fill("#urls", "https://more.example/post/2")
    portal.set_input_files("#file-input", str(photo.path))
    wait_for_files(portal, 1)
    with portal.expect_navigation():
        portal.click("text=加到我的案件")

    assert "已經加到你的案件裡了" in portal.content()
    case = the_case(live_server, number)
    assert [i.url for i in case.items if i.kind is ItemKind.URL][
        -1
    ] == "https://more.example/post/2"
    [added] = [i for i in case.items if i.kind is ItemKind.FILE]
    assert photo.sha256 in {link.signal.value for link in signal_links(added)}
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        assert photo.sha256 in {e.signal.value for e in self_reported(session)}


def test_withdrawing_a_file_leaves_tombstones_in_the_bank(
    portal: Page,
    live_server: LiveServer,
) -> None:
    keep, drop = hashed_file("keep me"), hashed_file("withdraw me")
    number, pin = reported_case(live_server, files=(keep, drop))
    open_case(portal, live_server, number, pin)
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        items = session.scalars(select(Item).order_by(Item.id)).all()
        drop_index = [i.kind for i in items].index(ItemKind.FILE) + 1  # the second file

    with portal.expect_navigation():
        portal.locator(".items li").nth(drop_index).locator("button").click()
    assert "要撤回這一項嗎？" in portal.content()  # asked first
    with portal.expect_navigation():
        portal.click("[data-confirm-withdraw] button[type=submit]")

    assert "完成了" in portal.content() and "已撤回" in portal.content()
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        states = {e.signal.value: e.withdrawn_at for e in self_reported(session)}
    assert all(states[s.value] is not None for s, _q in drop.signals())
    assert all(states[s.value] is None for s, _q in keep.signals())

    portal.check("input[name=confirm]")
    with portal.expect_navigation():
        portal.click("text=全部撤回")
    assert "因為你撤回了，案件已結案" in portal.content()
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        assert all(e.withdrawn_at is not None for e in self_reported(session))


def test_too_many_wrong_pins_lock_the_case(portal: Page, live_server: LiveServer) -> None:
    number, pin = reported_case(live_server)
    for _ in range(live_server.settings.pin_max_failures_per_case - 1):
        open_case(portal, live_server, number, "00000000")
        assert "用這組案件編號和 PIN 碼打不開案件" in portal.content()

    open_case(portal, live_server, number, "00000000")
    assert portal.text_content("h1") == "嘗試太多次了"
    assert "15 分鐘後再試" in portal.content()

    open_case(portal, live_server, number, pin)
    assert portal.text_content("h1") == "嘗試太多次了"  # the right PIN waits too
