"""Safety in Chromium on a 360 x 740 phone, in zh_TW and en: the urgent path with no
link and no file, the numbers above the fold, the quick exit that leaves no portal page
behind, and a language switch that keeps everything typed and hashed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Report
from tests.browser.conftest import LiveServer
from tests.browser.portal_support import (
    axe_violations,
    next_step,
    receipt,
    synthetic_photo,
    the_case,
    wait_for_files,
)

pytestmark = pytest.mark.browser

NEUTRAL = "https://www.cwa.gov.tw/"
HOTLINE = "02-2345-6789"
PHONE = {"width": 360, "height": 740}
LOCALE = {"zh_TW": "zh-TW", "en": "en-US"}
TEXT = {
    "zh_TW": {"advice": "不要付錢", "english": "English"},
    "en": {"advice": "Do not pay", "english": "English"},
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path, hotline_phone=HOTLINE, quick_exit_url=NEUTRAL) as server:
        yield server


def phone(browser: Browser, language: str) -> Page:
    context = browser.new_context(viewport=PHONE, locale=LOCALE[language])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    # The neutral site, answered here: the test machine has no internet.
    page.route(
        f"{NEUTRAL}**",
        lambda route: route.fulfill(
            body="<!doctype html><title>Weather</title><p>Weather</p>",
            content_type="text/html",
        ),
    )
    return page


def above_the_fold(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_a_threat_with_no_link_and_no_file_ends_in_an_urgent_case(
    browser: Browser, live: LiveServer, language: str
) -> None:
    page = phone(browser, language)
    page.goto(live.url + "/")
    assert above_the_fold(page, "a[href='/urgent']")
    page.click("a[href='/urgent']")
    page.wait_for_url(live.url + "/urgent")

    for number in ("113", "110", HOTLINE):
        assert above_the_fold(page, f"a[href='tel:{number}']"), number
    assert above_the_fold(page, ".advice li:first-child")
    assert TEXT[language]["advice"] in page.locator(".advice").inner_text()
    assert axe_violations(page, live) == []

    page.fill("#threat_account", "@not.a.friend_2009")
    with page.expect_navigation():
        page.click("form.urgent-form button[type=submit]")

    number, _pin = receipt(page)
    case = the_case(live, number)
    assert case.urgent and case.items == []
    with live.sessions() as session:  # type: ignore[attr-defined]
        report = session.scalar(select(Report).where(Report.case_id == case.id))
        assert report.language == language and report.threat_account
    assert TEXT[language]["advice"] in page.content()
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_leaves_no_portal_page_in_the_history(
    browser: Browser, live: LiveServer, how: str
) -> None:
    page = phone(browser, "zh_TW")
    page.goto(live.url + "/")
    page.click("a[href='/urgent']")
    page.wait_for_url(live.url + "/urgent")
    page.fill("#threat_account", "typed before leaving")
    if how == "button":
        page.click("[data-quick-exit]")
    else:
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    # The URL changes when the navigation commits; the neutral page's title comes with
    # its document, so wait for that (a condition, not a time).
    expect(page).to_have_title("Weather")
    assert page.evaluate("sessionStorage.length") == 0
    page.go_back()
    # Back leads to where the tab was before the portal (here: its blank start page).
    assert not page.url.startswith(live.url), page.url
    page.context.close()


def test_a_single_escape_does_not_leave(browser: Browser, live: LiveServer) -> None:
    page = phone(browser, "en")
    page.goto(live.url + "/urgent")
    page.keyboard.press("Escape")
    page.wait_for_timeout(0)
    assert page.url == live.url + "/urgent"
    page.context.close()


@pytest.mark.parametrize(("start", "other"), [("zh_TW", "en"), ("en", "zh_TW")])
def test_a_language_switch_mid_form_keeps_everything(
    browser: Browser, live: LiveServer, tmp_path: Path, start: str, other: str
) -> None:
    photo = synthetic_photo(tmp_path, "photo.jpg", seed=21)
    page = phone(browser, start)
    page.goto(live.url + "/report")
    page.check("input[name=reporter_role][value=guardian]")
    next_step(page)
    page.check("input[name=age_group][value=under_18]")
    next_step(page)
    page.check("input[name=situation][value=online]")
    next_step(page)
    page.fill("#urls", "https://forum.example.net/t/77")
    next_step(page)
    page.set_input_files("#file-input", [str(photo.path)])
    wait_for_files(page, 1)
    hashed = page.locator("input[name=file]").input_value()
    key = page.locator("input[name=idempotency_key]").input_value()

    with page.expect_navigation():
        page.click(f".language-switch a[href^='/language/{other}']")

    assert page.locator("html").get_attribute("lang") == ("en" if other == "en" else "zh-Hant-TW")
    assert page.locator("input[name=reporter_role][value=guardian]").is_checked()
    assert page.locator("input[name=age_group][value=under_18]").is_checked()
    assert page.locator("input[name=situation][value=online]").is_checked()
    assert page.locator("#urls").input_value() == "https://forum.example.net/t/77"
    assert page.locator("input[name=file]").input_value() == hashed
    assert page.locator("input[name=idempotency_key]").input_value() == key
    assert page.locator("fieldset.step[data-step=files]").is_visible()  # the same step
    assert axe_violations(page, live) == []
    next_step(page)
    page.fill("#description", "kept")
    with page.expect_navigation():
        page.click("button[type=submit]")
    number, _pin = receipt(page)
    case = the_case(live, number)
    assert [i.kind for i in case.items] == [ItemKind.URL, ItemKind.FILE]
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_the_urgent_form_survives_a_language_switch(browser: Browser, live: LiveServer) -> None:
    page = phone(browser, "zh_TW")
    page.goto(live.url + "/urgent")
    page.fill("#threat_account", "@someone")
    page.fill("#threat_platform", "Instagram")
    page.check("input[name=age_group][value=under_18]")
    with page.expect_navigation():
        page.click(".language-switch a[href^='/language/en']")
    assert page.locator("#threat_account").input_value() == "@someone"
    assert page.locator("#threat_platform").input_value() == "Instagram"
    assert page.locator("input[name=age_group][value=under_18]").is_checked()
    page.context.close()


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_withdraw_by_choosing_the_file_again_highlights_the_right_row(
    browser: Browser, live: LiveServer, tmp_path: Path, language: str
) -> None:
    photos = [synthetic_photo(tmp_path, f"photo-{n}.jpg", seed=30 + n) for n in range(2)]
    page = phone(browser, language)
    page.goto(live.url + "/report")
    page.check("input[name=reporter_role][value=self]")
    next_step(page)
    page.check("input[name=age_group][value=under_18]")
    next_step(page)
    page.check("input[name=situation][value=online]")
    next_step(page)
    next_step(page)
    page.set_input_files("#file-input", [str(p.path) for p in photos])
    wait_for_files(page, 2)
    next_step(page)
    with page.expect_navigation():
        page.click("button[type=submit]")
    number, pin = receipt(page)

    page.goto(live.url + "/case")
    page.fill("#case_number", number)
    page.fill("#pin", pin)
    with page.expect_navigation():
        page.click("form.check-form button[type=submit]")
    page.set_input_files("#find-file-input", str(photos[1].path))
    page.wait_for_selector(".item.found")

    found = page.locator(".item.found")
    assert found.count() == 1
    assert found.get_attribute("data-sha256") == photos[1].sha256
    assert found.locator("img.thumbnail").get_attribute("src").startswith("blob:")  # type: ignore[union-attr]
    assert axe_violations(page, live) == []

    with page.expect_navigation():
        found.locator("button").click()
    assert page.locator("[data-confirm-withdraw]").is_visible()  # asked first
    assert axe_violations(page, live) == []
    with page.expect_navigation():
        page.click("[data-confirm-withdraw] button[type=submit]")
    case = the_case(live, number)
    withdrawn = [i for i in case.items if i.withdrawn_at is not None]
    assert len(withdrawn) == 1
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_new_pages_have_no_axe_violations_and_a_readable_header_at_200_percent(
    browser: Browser, live: LiveServer, language: str
) -> None:
    page = phone(browser, language)
    for path in ("/", "/help/four-no", "/help/parents", "/help/after-a-report", "/receipt"):
        page.goto(live.url + path)
        assert axe_violations(page, live) == [], path
    # Text at 200 %: the header wraps instead of running off the screen.
    page.goto(live.url + "/urgent")
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # CSSOM: CSP allows it
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert page.locator("[data-quick-exit]").is_visible()
    page.context.close()


def test_an_empty_file_is_called_empty_and_the_description_counts(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    page = phone(browser, "en")
    page.goto(live.url + "/urgent")
    page.set_input_files("#file-input", str(empty))
    wait_for_files(page, 1)
    assert "empty (0 bytes)" in page.locator(".file.failed").inner_text()
    page.fill("#description", "x" * 4001)
    counter = page.locator("#description-counter")
    assert counter.inner_text() == "4001 of 4000 characters"
    assert "over" in (counter.get_attribute("class") or "")
    page.context.close()


def test_axe_on_the_refused_and_the_receipt_states(browser: Browser, tmp_path: Path) -> None:
    with LiveServer(tmp_path, report_max_per_client_per_hour=1) as server:
        page = phone(browser, "zh_TW")
        page.goto(server.url + "/urgent")
        with page.expect_navigation():
            page.click("form.urgent-form button[type=submit]")
        signed = page.locator("[data-signed-receipt]").text_content()
        assert signed and "case_number" in signed
        assert axe_violations(page, server) == []  # the confirmation with its receipt

        page.goto(server.url + "/receipt")
        page.fill("#receipt", signed)
        with page.expect_navigation():
            page.click("form.receipt-form button[type=submit]")
        assert page.locator("[data-verified-case]").is_visible()
        assert axe_violations(page, server) == []

        page.goto(server.url + "/urgent")
        page.fill("#threat_account", "@kept")
        with page.expect_navigation():
            page.click("form.urgent-form button[type=submit]")
        assert page.locator("#error-summary").is_visible()  # refused: too many
        assert page.locator("#threat_account").input_value() == "@kept"
        assert page.locator("a[href='tel:113']").first.is_visible()
        assert axe_violations(page, server) == []
        page.context.close()


def test_an_error_page_does_not_lose_the_form_and_a_sent_report_clears_it(
    browser: Browser, live: LiveServer
) -> None:
    page = phone(browser, "zh_TW")
    page.goto(live.url + "/urgent")
    page.fill("#threat_account", "@kept.after.error")
    page.context.clear_cookies()  # the form's CSRF cookie is gone: the server refuses
    with page.expect_navigation():
        page.click("form.urgent-form button[type=submit]")
    assert page.locator("form.urgent-form").count() == 0  # an error page
    page.goto(live.url + "/urgent")
    assert page.locator("#threat_account").input_value() == "@kept.after.error"

    with page.expect_navigation():
        page.click("form.urgent-form button[type=submit]")
    receipt(page)
    page.goto(live.url + "/urgent")
    assert page.locator("#threat_account").input_value() == ""
    page.context.close()
