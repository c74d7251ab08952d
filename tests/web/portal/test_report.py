"""The report form through HTTP, on both databases: what is stored, what is refused
(and that a refused form changes nothing), retries, CSRF, languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.banks.models import BankEntry
from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.security.secret_hashes import verify_secret
from tests.support.intake import row_counts
from tests.support.portal import (
    HOTLINE_EMAIL,
    HOTLINE_HOURS,
    HOTLINE_PHONE,
    IMAGE,
    MD5,
    PDQ,
    SHA,
    VIDEO,
    case_number_and_pin,
    portal_settings,
    report_form,
    sessions,
    submit,
)

PORTAL_PAGES = ["/", "/report", "/case"]


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url)


def counts(app: FastAPI) -> dict[str, int]:
    with sessions(app) as session:
        return row_counts(session)


# --- pages ---------------------------------------------------------------------------


def test_the_home_page_says_who_to_call_in_both_languages(client: TestClient) -> None:
    chinese = client.get("/").text
    assert "113" in chinese and "保護專線" in chinese and 'href="tel:110"' in chinese
    assert HOTLINE_PHONE in chinese and HOTLINE_HOURS in chinese and HOTLINE_EMAIL in chinese
    assert 'href="/report"' in chinese and 'href="/case"' in chinese
    assert "數位指紋" in chinese  # the privacy promise

    english = client.get("/", headers={"accept-language": "en"}).text
    assert "Your pictures stay on your phone" in english
    assert "Police: call if you are in danger right now." in english


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_portal_pages_have_no_inline_code_and_are_not_cached(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert loaded and all(url.startswith("/static/") for url in loaded)  # nothing external


def test_the_form_works_without_javascript_and_never_names_a_file_input(
    client: TestClient,
) -> None:
    html = client.get("/report").text
    assert html.count('class="step"') == 6  # every step is in the page
    assert 'type="file"' in html
    file_input = html[html.index('type="file"') - 200 : html.index('type="file"') + 200]
    assert "name=" not in file_input.split("<input", 1)[1].split(">", 1)[0]
    assert "JavaScript" in html  # the file step says hashing needs it
    assert 'method="post" action="/report"' in html


# --- sending a report ----------------------------------------------------------------


def test_a_report_is_committed_before_its_case_number_is_shown(
    app: FastAPI, client: TestClient
) -> None:
    response = client.post(
        "/report",
        data=report_form(client, contact="kid@example.com", contact_consent="1"),
        headers={"accept-language": "en"},
    )

    assert response.status_code == 200
    number, pin = case_number_and_pin(response.text)
    assert pin is not None
    assert "Write them down or save them now" in response.text
    with sessions(app) as session:  # a new session: only what was committed
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None and verify_secret(case.pin_hash, pin)
        assert case.urgent is False
        kinds = sorted(item.kind.value for item in case.items)
        assert kinds == ["file", "file", "url", "url"]
        assert case.reports[0].contact not in (None, "kid@example.com")
        assert "kid@example.com" not in str(case.reports[0].contact)
        assert len(session.scalars(select(BankEntry)).all()) == 5


def test_an_urgent_report_shows_the_advice_that_matters(client: TestClient) -> None:
    html = client.post("/report", data=report_form(client, situation="threat")).text
    assert "不要付錢" in html and "留下對話紀錄" in html and "封鎖" in html
    assert "信任的大人" in html and "113" in html and HOTLINE_PHONE in html
    assert "已經把你的照片和影片的數位指紋分享給網站" in html

    english = client.post(
        "/report", data=report_form(client, situation="both"), headers={"accept-language": "en"}
    ).text
    assert "Do not pay, and do not send more pictures." in english


def test_a_retried_submission_makes_one_report(app: FastAPI, client: TestClient) -> None:
    form = report_form(client)
    first = client.post("/report", data=form)
    after_first = counts(app)

    again = client.post("/report", data=form)

    assert case_number_and_pin(again.text) == case_number_and_pin(first.text)
    assert counts(app) == after_first


def test_a_url_only_report_without_files(app: FastAPI, client: TestClient) -> None:
    number, _pin = submit(client, file=None, urls="https://only.example/post/9")
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        assert [(i.kind, i.url) for i in case.items] == [
            (ItemKind.URL, "https://only.example/post/9")
        ]


# --- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"urls": "ftp://files.example/a.jpg"}, "網址要以 https:// 或 http:// 開頭"),
        ({"urls": "javascript:alert(1)"}, "網址要以 https:// 或 http:// 開頭"),
        ({"urls": "https://example.com/" + "a" * 2100}, "這個網址太長了"),
        (
            {"urls": "\n".join(f"https://example.com/{n}" for n in range(4))},
            "最多只能有 3 個網址",
        ),
        ({"file": [IMAGE, VIDEO, f"video:{MD5}:{'01' * 32}"]}, "最多只能有 2 個檔案"),
        ({"file": [f"image:{MD5}:{SHA}:{PDQ[:-1]}:90"]}, "個檔案無法讀取"),
        ({"file": [f"image:{MD5}:{SHA}:{PDQ}:900"]}, "個檔案無法讀取"),
        ({"file": ["<script>"]}, "個檔案無法讀取"),
        ({"description": "字" * 4001}, "4000 個字以內"),
        (
            {"contact": "x" * 300 + "@example.com", "contact_consent": "1"},
            "電子郵件地址、電話號碼或 LINE ID",
        ),
        ({"contact": "kid@example.com"}, "請勾選方框"),
        ({"urls": "", "file": None}, "請至少加上一個網址"),
        ({"reporter_role": None}, "請選擇是誰在通報"),
        ({"situation": "panic"}, "請選擇發生了什麼事"),
        ({"idempotency_key": "x"}, "這份表單已經過期了"),
    ],
)
def test_an_invalid_report_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, changes: dict[str, object], message: str
) -> None:
    form = report_form(client, **changes)
    before = counts(app)

    response = client.post("/report", data=form)

    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary"' in response.text
    assert counts(app) == before
    assert "data-pin" not in response.text


def test_a_refused_form_keeps_the_answers(client: TestClient) -> None:
    form = report_form(client, urls="https://ok.example/1\nftp://bad.example/", situation="both")
    html = client.post("/report", data=form, headers={"accept-language": "en"}).text
    assert "Line 2: a web address starts with https:// or http://." in html
    assert 'id="error-urls"' in html and 'aria-invalid="true"' in html
    assert "https://ok.example/1\nftp://bad.example/" in html
    assert 'value="both" required checked' in html
    assert f'name="file" value="{IMAGE}"' in html  # hashed files need not be chosen again
    assert f'name="idempotency_key" value="{form["idempotency_key"]}"' in html
    assert 'data-first-step="4"' in html  # the script opens the step to fix


def test_a_report_without_the_csrf_token_is_refused(app: FastAPI, client: TestClient) -> None:
    form = report_form(client)
    del form["csrf_token"]
    before = counts(app)

    assert client.post("/report", data=form).status_code == 403
    assert client.post("/report", data={**form, "csrf_token": "0" * 64}).status_code == 403
    assert counts(app) == before


def test_a_report_from_another_site_is_refused(app: FastAPI, client: TestClient) -> None:
    form = report_form(client)
    before = counts(app)
    response = client.post("/report", data=form, headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert counts(app) == before
