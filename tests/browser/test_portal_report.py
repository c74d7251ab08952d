"""The report form in Chromium, as a reporter uses it: with files and URLs in both
languages, the urgent path, the keyboard alone, JavaScript off, and the confirmation's
buttons."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, FileChooser, Page
from sqlalchemy import select

from reclaim.cases.domain import ItemKind, MediaKind
from reclaim.cases.models import Report
from reclaim.domain.signals import SignalType, pdq_distance
from reclaim.security.secret_hashes import verify_secret
from tests.browser.conftest import LiveServer
from tests.browser.portal_support import (
    Media,
    choose_language,
    fill_report,
    receipt,
    self_reported,
    synthetic_photo,
    the_case,
    video,
    wait_for_files,
)
from tests.support.cases import signal_links

pytestmark = pytest.mark.browser

URLS = ("https://forum.example.net/t/1234", "https://img.example.org/a/5678.jpg")
TEXT = {
    "zh_TW": {"thanks": "謝謝你，我們收到你的通報了。", "urgent": "不要付錢"},
    "en": {"thanks": "Thank you. We have your report.", "urgent": "Do not pay"},
}


def reference_pdq(media: Media) -> str:
    import numpy as np
    import pdqhash
    from PIL import Image

    bits, _quality = pdqhash.compute(np.asarray(Image.open(media.path).convert("RGB")))
    return f"{int(''.join(str(b) for b in bits), 2):064x}"


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_a_full_report_with_files_and_urls(
    portal: Page, live_server: LiveServer, tmp_path: Path, language: str
) -> None:
    photo = synthetic_photo(tmp_path, "photo.jpg", seed=1)
    screenshot = synthetic_photo(tmp_path, "screenshot.png", seed=2, fmt="PNG")
    clip = video("doorknob-hd-no-bar.mp4")
    choose_language(portal, live_server, language)

    fill_report(
        portal,
        live_server,
        urls=(*URLS, URLS[0]),  # a duplicate, removed
        files=(photo, screenshot, clip),
        description="It started in a game.",
        contact="kid@example.com",
    )

    assert TEXT[language]["thanks"] in portal.text_content("h1")  # type: ignore[operator]
    assert TEXT[language]["urgent"] not in portal.content()
    number, pin = receipt(portal)
    case = the_case(live_server, number)
    assert verify_secret(case.pin_hash, pin) and not case.urgent
    assert [i.url for i in case.items if i.kind is ItemKind.URL] == list(URLS)
    files = [i for i in case.items if i.kind is ItemKind.FILE]
    assert [f.media_kind for f in files] == [MediaKind.IMAGE, MediaKind.IMAGE, MediaKind.VIDEO]
    for item, media in zip(files, (photo, screenshot, clip), strict=True):
        found = {link.signal.type: link.signal.value for link in signal_links(item)}
        assert (found[SignalType.MD5], found[SignalType.SHA256]) == (media.md5, media.sha256)
        if item.media_kind is MediaKind.IMAGE:
            assert pdq_distance(found[SignalType.PDQ], reference_pdq(media)) <= 2
        else:  # the clip was played and hashed on the device: its vPDQ frame list
            assert SignalType.VPDQ in found
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        assert len(self_reported(session)) == 3 + 3 + 3
        [report] = session.scalars(select(Report).where(Report.case_id == case.id)).all()
        assert report.language == language
        assert report.contact and "kid@example.com" not in report.contact


def test_the_urgent_path(portal: Page, live_server: LiveServer, tmp_path: Path) -> None:
    photo = synthetic_photo(tmp_path, "photo.jpg", seed=3)

    fill_report(portal, live_server, situation="threat", files=(photo,))

    page = portal.content()
    for advice in ("不要付錢", "留下對話紀錄", "然後封鎖對方", "告訴一個你信任的大人"):
        assert advice in page
    assert "113" in page and 'href="tel:110"' in page
    assert "已經把你的照片和影片的數位指紋分享給網站" in page
    number, _pin = receipt(portal)
    assert the_case(live_server, number).urgent
    with live_server.sessions() as session:  # type: ignore[attr-defined]
        entries = self_reported(session)
        assert {(e.signal.type, e.source_ref) for e in entries} == {
            (SignalType.MD5, number),
            (SignalType.SHA256, number),
            (SignalType.PDQ, number),
        }
        assert {e.signal.value for e in entries} >= {photo.md5, photo.sha256}


def tab_to(page: Page, selector: str, limit: int = 25) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_form_can_be_completed_with_the_keyboard_alone(
    portal: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    photo = synthetic_photo(tmp_path, "photo.jpg", seed=4)
    keys = portal.keyboard
    # Playwright turns on file-chooser interception when the first listener is added,
    # without waiting for the browser to confirm; a key pressed right after can open
    # the (headless, invisible) native chooser instead.  Listening from the start makes
    # the interception certain long before Space is pressed.
    choosers: list[FileChooser] = []
    # (a lambda, not choosers.append: Playwright wraps only Python functions)
    portal.on("filechooser", lambda chooser: choosers.append(chooser))  # noqa: PLW0108
    portal.goto(f"{live_server.url}/report")

    tab_to(portal, "input[name=reporter_role]")
    keys.press("Space")
    keys.press("Enter")  # Enter on a choice means "next step"
    assert portal.evaluate("document.activeElement.name") == "age_group"
    keys.press("ArrowDown")  # "18 or older"
    keys.press("ArrowUp")  # back to "under 18"
    tab_to(portal, "fieldset.step:not([hidden]) [data-next]")
    keys.press("Enter")
    assert portal.evaluate("document.activeElement.name") == "situation"
    keys.press("ArrowDown")  # "someone is threatening to share them"
    keys.press("Enter")
    assert portal.evaluate("document.activeElement.id") == "urls"
    keys.type(URLS[0])
    tab_to(portal, "fieldset.step:not([hidden]) [data-next]")
    keys.press("Enter")
    assert portal.evaluate("document.activeElement.id") == "file-input"
    keys.press("Space")
    if not choosers:  # events arrive only while Playwright waits
        portal.wait_for_event("filechooser")
    assert len(choosers) == 1
    choosers[0].set_files(str(photo.path))
    wait_for_files(portal, 1)
    tab_to(portal, "fieldset.step:not([hidden]) [data-next]")
    keys.press("Enter")
    keys.type("Someone I met in a game.")
    tab_to(portal, "button[type=submit]")
    with portal.expect_navigation():
        keys.press("Enter")

    number, _pin = receipt(portal)
    case = the_case(live_server, number)
    assert case.urgent
    assert [i.kind for i in case.items] == [ItemKind.URL, ItemKind.FILE]


def test_a_step_says_what_is_missing(portal: Page, live_server: LiveServer) -> None:
    portal.goto(f"{live_server.url}/report")
    portal.click("fieldset.step:not([hidden]) [data-next]")
    error = portal.locator("fieldset.step:not([hidden]) [data-step-error]")
    assert error.is_visible()
    assert error.text_content() == "請選擇是誰在通報。"
    assert portal.evaluate("document.activeElement.name") == "reporter_role"


def test_a_url_only_report_works_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/report")

    assert page.locator("fieldset.step").count() == 6
    assert all(step.is_visible() for step in page.locator("fieldset.step").all())
    assert page.locator("[data-no-js]").is_visible()  # hashing needs JavaScript, it says
    assert not page.locator("#file-input").is_visible()
    assert not page.locator("[data-next]").first.is_visible()
    page.check("input[name=reporter_role][value=guardian]")
    page.check("input[name=age_group][value=unsure]")
    page.check("input[name=situation][value=online]")
    page.fill("#urls", URLS[1])
    with page.expect_navigation():
        page.click("button[type=submit]")

    number, pin = receipt(page)
    case = the_case(live_server, number)
    assert [(i.kind, i.url) for i in case.items] == [(ItemKind.URL, URLS[1])]
    assert verify_secret(case.pin_hash, pin)
    assert not page.locator("[data-receipt-actions]").is_visible()  # they need JavaScript
    context.close()


def test_copy_print_and_save_as_text(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    page = context.new_page()
    choose_language(page, live_server, "en")
    fill_report(page, live_server, urls=(URLS[0],))
    number, pin = receipt(page)

    with page.expect_download() as download:
        page.click("[data-save]")
    saved = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert number in saved and pin in saved
    assert f"{live_server.url}/case" in saved
    assert download.value.suggested_filename == f"reclaim-{number}.txt"

    page.click("[data-copy]")
    page.wait_for_function("document.querySelector('[data-status]').textContent !== ''")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert number in copied and pin in copied

    page.click("[data-print]")
    assert page.evaluate("window.printed") == 1
    context.close()
