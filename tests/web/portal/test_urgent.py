"""The urgent path through HTTP: a threat reported with no link and no file becomes an
urgent case; the numbers and the advice come first; the quick exit is on every portal
page; report creation is limited per client and overall, never hiding the advice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.cases.models import Case, Report
from reclaim.config import Settings
from reclaim.security.field_crypto import Purpose, field_cipher
from tests.support.portal import HOTLINE_PHONE, portal_settings, sessions, submit
from tests.web.conftest import csrf_from

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_NUMBER = re.compile(r"data-case-number>(RC-[0-9A-Z]{4}-[0-9A-Z]{4})<")
PORTAL_PAGES = ["/", "/report", "/urgent", "/case"]


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url).model_copy(
        update={"report_max_per_client_per_hour": 3, "report_max_per_hour": 5}
    )


def urgent_form(client: TestClient, **changes: Any) -> dict[str, Any]:
    html = client.get("/urgent").text
    key = _KEY.search(html)
    assert key is not None
    data = {
        "csrf_token": csrf_from(html),
        "idempotency_key": key.group(1),
        "reporter_role": "self",
        "age_group": "under_18",
        "situation": "threat",
        "threat_account": "@not.a.friend_2009",
        "threat_platform": "Instagram",
    }
    return data | changes


def test_the_urgent_page_puts_numbers_and_advice_before_the_form(client: TestClient) -> None:
    for language, advice in (("zh_TW", "不要付錢"), ("en", "Do not pay")):
        page = client.get("/urgent", headers={"accept-language": language}).text
        numbers = [page.index('href="tel:113"'), page.index('href="tel:110"')]
        numbers.append(page.index(f'href="tel:{HOTLINE_PHONE.replace(" ", "")}"'))
        assert max(numbers) < page.index(advice) < page.index("<form")
        assert 'name="urls"' in page and "required" not in page.split("<form")[1].split("</form>")[
            0
        ].replace("aria-required", "")


def test_a_threat_with_no_link_and_no_file_becomes_an_urgent_case(
    app: FastAPI, client: TestClient, db_settings: Settings
) -> None:
    response = client.post("/urgent", data=urgent_form(client))
    assert response.status_code == 200, response.text
    number = _NUMBER.search(response.text)
    assert number is not None and "不要付錢" in response.text
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number.group(1)))
        assert case is not None and case.urgent and case.items == []
        report = session.scalar(select(Report).where(Report.case_id == case.id))
        assert report is not None and report.threat_platform == "Instagram"
        assert report.threat_account and "not.a.friend" not in report.threat_account
        clear = field_cipher(db_settings).decrypt(
            report.threat_account, purpose=Purpose.REPORT_THREAT_ACCOUNT
        )
        assert clear == "@not.a.friend_2009"


def test_the_urgent_path_is_urgent_whatever_the_form_says(client: TestClient, app: FastAPI) -> None:
    response = client.post("/urgent", data=urgent_form(client, situation="online"))
    number = _NUMBER.search(response.text)
    assert number is not None
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number.group(1)))
        assert case is not None and case.urgent


def test_the_report_form_takes_a_threat_without_items(client: TestClient) -> None:
    number, pin = submit(client, situation="threat", urls="", file=None)
    assert number.startswith("RC-") and len(pin) == 8


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_every_portal_page_has_the_quick_exit_and_a_neutral_title(
    client: TestClient, path: str
) -> None:
    page = client.get(path).text
    assert "data-quick-exit" in page and 'href="https://www.cwa.gov.tw/"' in page
    assert '<script type="module" src="/static/portal/safety.js"></script>' in page
    title = page.split("<title>")[1].split("</title>")[0]
    for topic in ("性", "私密", "sexual", "naked", "威脅", "threat"):
        assert topic not in title


def test_the_home_page_offers_the_urgent_path_first(client: TestClient) -> None:
    page = client.get("/").text
    assert page.index('href="/urgent"') < page.index('href="/report"')
    assert "有人威脅要散布我的照片" in page


# --- limits --------------------------------------------------------------------------


def test_one_client_is_limited_and_sees_the_advice_with_the_form_kept(
    app: FastAPI, client: TestClient
) -> None:
    forms = [urgent_form(client) for _ in range(3)]
    accepted = [client.post("/urgent", data=form) for form in forms]
    assert [r.status_code for r in accepted] == [200, 200, 200]
    form = urgent_form(client, threat_account="@still.here")
    refused = client.post("/urgent", data=form)
    assert refused.status_code == 429
    for kept in ('value="@still.here"', 'href="tel:113"', 'href="tel:110"', "不要付錢", "60 分鐘"):
        assert kept in refused.text
    # A retry of a report already made is never refused: its case number comes back.
    again = client.post("/urgent", data=forms[0])
    assert again.status_code == 200
    assert _NUMBER.findall(again.text) == _NUMBER.findall(accepted[0].text)
    # The report form is limited the same way, its answers kept.
    report = client.post(
        "/report",
        data={
            "csrf_token": form["csrf_token"],
            "idempotency_key": "x" * 32,
            "reporter_role": "self",
            "age_group": "under_18",
            "situation": "online",
            "urls": "https://forum.example.net/t/9",
        },
    )
    assert report.status_code == 429 and "https://forum.example.net/t/9" in report.text
    with sessions(app) as session:
        assert len(session.scalars(select(Case)).all()) == 3
    app.state.reclaim.clock.advance(hours=1, seconds=1)
    assert client.post("/urgent", data=urgent_form(client)).status_code == 200


def test_many_clients_together_are_limited(app: FastAPI) -> None:
    codes = []
    for n in range(7):
        with TestClient(app, base_url="http://127.0.0.1", client=(f"192.0.2.{n}", 5000)) as one:
            codes.append(one.post("/urgent", data=urgent_form(one)).status_code)
    assert codes == [200] * 5 + [429] * 2
    with sessions(app) as session:
        assert len(session.scalars(select(Case)).all()) == 5


def test_a_full_width_case_number_and_pin_open_the_case(client: TestClient) -> None:
    number, pin = submit(client)
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in number)
    wide_pin = "".join(chr(ord(c) + 0xFEE0) for c in pin)
    csrf = csrf_from(client.get("/case").text)
    response = client.post(
        "/case",
        data={"csrf_token": csrf, "case_number": wide, "pin": wide_pin},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/case/status")


@pytest.mark.parametrize(
    ("path", "chinese", "english"),
    [
        ("/help/four-no", "不傳送私密照片", "Do not send them."),
        ("/help/parents", "保留證據，不要保留照片", "Keep the evidence, not the picture."),
        ("/help/after-a-report", "數位指紋會馬上送到網站", "Fingerprints of your pictures go"),
    ],
)
def test_the_help_pages_in_both_languages(
    client: TestClient, path: str, chinese: str, english: str
) -> None:
    assert f'href="{path}"' in client.get("/").text
    assert chinese in client.get(path).text
    assert english in client.get(path, headers={"accept-language": "en"}).text
    assert client.get("/help/nothing-here").status_code == 404


def test_hotline_hours_follow_the_language_and_a_missing_hotline_is_said(
    tmp_path: Path, database_url: str
) -> None:
    from huey import MemoryHuey

    from reclaim.web.app import create_app

    base = portal_settings(tmp_path, database_url)
    hours = base.model_copy(update={"hotline_hours_en": "Mon–Fri 09:00–18:00"})
    with TestClient(create_app(hours, huey=MemoryHuey("t", immediate=True))) as client:
        assert "週一至週五 09:00–18:00" in client.get("/").text
        english = client.get("/", headers={"accept-language": "en"}).text
        assert "Mon–Fri 09:00–18:00" in english and "週一" not in english
    bare = base.model_copy(update={"hotline_phone": "", "hotline_email": ""})
    with TestClient(create_app(bare, huey=MemoryHuey("t", immediate=True))) as client:
        assert "這個熱線還沒有公布電話或電子郵件" in client.get("/case").text
