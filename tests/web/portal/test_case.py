"""Check my case through HTTP, on both databases: the same answer for unknown cases
and wrong PINs, lockouts, the case cookie, what the status page shows and never shows,
and what the reporter can change there."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.users import create_user
from reclaim.banks.models import BankEntry
from reclaim.cases.domain import Classification, DecisionStatus, ItemKind
from reclaim.cases.models import Case, CaseNote, Decision, Item
from reclaim.config import Settings
from reclaim.security.field_crypto import field_cipher
from reclaim.web.portal import case_cookie
from tests.support.intake import row_counts
from tests.support.portal import IMAGE, MD5, SHA, open_case, portal_settings, sessions, submit
from tests.web.conftest import csrf_from

SECRET_NOTE = "Analyst note: platform contact is Mr Lee, escalate Friday"
SECRET_REASON = "Decision reason: matches known series 17"


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url)


def try_pin(client: TestClient, number: str, pin: str, **headers: str) -> tuple[int, str]:
    csrf = csrf_from(client.get("/case").text)
    response = client.post(
        "/case",
        data={"csrf_token": csrf, "case_number": number, "pin": pin},
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code, response.text


def the_case(app: FastAPI, number: str) -> Case:
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        session.expunge_all()
        return case


def post_on_status_page(client: TestClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    csrf = csrf_from(client.get("/case/status").text)
    return client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


# --- checking --------------------------------------------------------------------------


def test_the_right_pin_opens_the_case_page_with_a_short_lived_cookie(
    client: TestClient,
) -> None:
    number, pin = submit(client)

    csrf = csrf_from(client.get("/case").text)
    response = client.post(
        "/case",
        data={"csrf_token": csrf, "case_number": number.lower(), "pin": pin},
        follow_redirects=False,
    )

    assert (response.status_code, response.headers["location"]) == (303, "/case/status")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{case_cookie.COOKIE}=")
    for attribute in ("HttpOnly", "Max-Age=1800", "Path=/case", "SameSite=strict"):
        assert attribute in cookie
    page = client.get("/case/status")
    assert page.status_code == 200 and number in page.text


def test_an_unknown_case_and_a_wrong_pin_get_the_same_answer(client: TestClient) -> None:
    number, _pin = submit(client)
    unknown = "RC-2345-6789"

    wrong_status, wrong_page = try_pin(client, number, "00000000")
    unknown_status, unknown_page = try_pin(client, unknown, "00000000")

    assert wrong_status == unknown_status == 400
    assert wrong_page.replace(number, "RC-NUMBER") == unknown_page.replace(unknown, "RC-NUMBER")
    assert "用這組案件編號和 PIN 碼打不開案件" in wrong_page


def test_an_unknown_case_takes_as_long_as_a_wrong_pin(tmp_path: Path, database_url: str) -> None:
    """Both run one argon2 verification (tens of milliseconds); without the dummy one,
    an unknown case number would be answered many times faster."""
    from huey import MemoryHuey

    from reclaim.web.app import create_app

    settings = portal_settings(tmp_path, database_url).model_copy(
        update={"pin_max_failures_per_case": 100, "pin_max_failures_per_client": 100}
    )
    with TestClient(create_app(settings, huey=MemoryHuey("t")), base_url="http://127.0.0.1") as c:
        number, _pin = submit(c)

        def fastest(case_number: str) -> float:
            times = []
            for _ in range(4):
                started = time.perf_counter()
                try_pin(c, case_number, "00000000")
                times.append(time.perf_counter() - started)
            return min(times)

        wrong, unknown = fastest(number), fastest("RC-2345-6789")
    assert unknown > 0.5 * wrong, (unknown, wrong)


def test_a_case_locks_after_too_many_wrong_pins(client: TestClient) -> None:
    number, pin = submit(client)
    assert [try_pin(client, number, "11111111")[0] for _ in range(2)] == [400, 400]

    status, page = try_pin(client, number, "11111111")

    assert status == 429
    assert "嘗試太多次了" in page and "15 分鐘後再試" in page
    assert try_pin(client, number, pin)[0] == 429  # even the right PIN, for now
    english = try_pin(client, number, pin, **{"accept-language": "en"})[1]
    assert "Please try again in 15 minutes." in english


def test_a_client_locks_after_too_many_failures_across_cases(client: TestClient) -> None:
    number, pin = submit(client)
    statuses = [try_pin(client, f"RC-{n + 2}222-2222", "11111111")[0] for n in range(5)]
    assert statuses == [400, 400, 400, 400, 429]  # the fifth failure locks

    assert try_pin(client, number, pin)[0] == 429


def test_the_case_page_needs_the_cookie(client: TestClient) -> None:
    response = client.get("/case/status", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/case?expired=1")
    assert "案件頁面已經關閉" in client.get("/case?expired=1").text

    number, pin = submit(client)
    open_case(client, number, pin)
    value = client.cookies.get(case_cookie.COOKIE)
    assert value is not None
    case_id, issued, expires, mac = value.split(".")
    client.cookies.set(case_cookie.COOKIE, f"{case_id}.{issued}.{int(expires) + 9999}.{mac}")
    assert client.get("/case/status", follow_redirects=False).status_code == 303


def test_leaving_deletes_the_cookie(client: TestClient) -> None:
    open_case(client, *submit(client))
    response = post_on_status_page(client, "/case/leave", {})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert client.get("/case/status", follow_redirects=False).status_code == 303


# --- what the page shows ---------------------------------------------------------------


def test_the_case_page_never_shows_internal_data(app: FastAPI, client: TestClient) -> None:
    number, pin = submit(client, contact="kid@example.com", contact_consent="1")
    settings = app.state.reclaim.settings
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        analyst = create_user(
            session,
            email="analyst.lee@staff.example",
            role=Role.ANALYST,
            display_name="Analyst Lee",
            password=None,
            actor=audit.SYSTEM,
        )
        sealed = field_cipher(settings).encrypt(SECRET_NOTE, purpose="case.note")
        session.add(CaseNote(case_id=case.id, author_id=analyst.id, body=sealed))
        item = case.items[0]
        item.classification = Classification.CSAM
        session.add(
            Decision(
                item_id=item.id,
                analyst_id=analyst.id,
                classification=Classification.CSAM,
                reason=SECRET_REASON,
                status=DecisionStatus.RECORDED,
            )
        )
        session.commit()

    open_case(client, number, pin)
    for language in ("zh_TW", "en"):
        html = client.get("/case/status", headers={"accept-language": language}).text
        for secret in (SECRET_NOTE, sealed, SECRET_REASON, "Analyst Lee", "analyst.lee", "csam"):
            assert secret not in html
        assert "kid@example.com" not in html and "k••@example.com" in html
        assert "https://forum.example.net/t/1" in html  # their own report, of course


def test_rows_show_when_they_were_added_and_a_short_fingerprint(client: TestClient) -> None:
    open_case(client, *submit(client))
    html = client.get("/case/status").text
    assert f'data-sha256="{SHA}"' in html and f'data-md5="{MD5}"' in html
    assert f"數位指紋 {SHA[:4].upper()} {SHA[4:8].upper()}" in html
    assert html.count(" 加入</span>") == 4  # two URLs and two files, each with its date
    assert "你的案件是緊急案件" not in html


def test_an_urgent_case_says_so_with_the_advice_and_numbers(client: TestClient) -> None:
    open_case(client, *submit(client, situation="threat"))
    html = client.get("/case/status").text
    assert "你的案件是緊急案件" in html and "不要付錢" in html and 'href="tel:113"' in html


def test_the_timeline_is_in_plain_words(client: TestClient) -> None:
    open_case(client, *submit(client))
    html = client.get("/case/status").text
    assert "我們收到你的通報了" in html
    assert "熱線工作人員會看你的通報" in html


# --- what the reporter can change ------------------------------------------------------


def test_adding_items(app: FastAPI, client: TestClient) -> None:
    number, pin = submit(client, file=None)
    open_case(client, number, pin)

    response = post_on_status_page(
        client, "/case/items", {"urls": "https://new.example/x", "file": [IMAGE]}
    )

    assert (response.status_code, response.headers["location"]) == (
        303,
        "/case/status?done=added",
    )
    assert "已經加到你的案件裡了" in client.get(response.headers["location"]).text
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        assert [i.kind for i in case.items].count(ItemKind.FILE) == 1
        assert "https://new.example/x" in [i.url for i in case.items]
        assert len(session.scalars(select(BankEntry)).all()) == 3
    again = post_on_status_page(client, "/case/items", {"urls": "https://new.example/x"})
    assert again.headers["location"] == "/case/status?done=nothing_new"


def test_invalid_additions_change_nothing(app: FastAPI, client: TestClient) -> None:
    open_case(client, *submit(client))
    with sessions(app) as session:
        before = row_counts(session)

    response = post_on_status_page(client, "/case/items", {"urls": "ftp://x.example/"})

    assert response.status_code == 400
    assert "網址要以 https:// 或 http:// 開頭" in response.text
    assert 'class="error-summary"' in response.text and 'href="#field-urls"' in response.text
    with sessions(app) as session:
        assert row_counts(session) == before


def test_withdrawing_one_item_and_then_everything(app: FastAPI, client: TestClient) -> None:
    number, pin = submit(client)
    open_case(client, number, pin)
    case = the_case(app, number)
    with sessions(app) as session:
        file_item = session.scalars(
            select(Item).where(Item.case_id == case.id, Item.kind == ItemKind.FILE)
        ).first()
        assert file_item is not None
        file_item_id = file_item.id

    asked = post_on_status_page(client, "/case/withdraw", {"item": str(file_item_id)})
    # First the question, naming the row (date added, short fingerprint); nothing yet.
    assert asked.status_code == 200 and "要撤回這一項嗎？" in asked.text
    assert f"數位指紋 {SHA[:4].upper()} {SHA[4:8].upper()}" in asked.text
    with sessions(app) as session:
        assert not [e for e in session.scalars(select(BankEntry)) if e.withdrawn_at]

    response = post_on_status_page(
        client, "/case/withdraw", {"item": str(file_item_id), "confirm": "1"}
    )

    assert response.headers["location"] == "/case/status?done=withdrawn"
    with sessions(app) as session:
        withdrawn = [e for e in session.scalars(select(BankEntry)) if e.withdrawn_at]
        assert len(withdrawn) == 3  # the image's MD5, SHA-256 and PDQ are tombstones
    assert "已撤回" in client.get("/case/status").text

    unconfirmed = post_on_status_page(client, "/case/withdraw", {"everything": "1"})
    assert unconfirmed.status_code == 400
    assert "如果確定要全部撤回，請勾選方框" in unconfirmed.text

    post_on_status_page(client, "/case/withdraw", {"everything": "1", "confirm": "1"})
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        assert all(item.withdrawn_at is not None for item in case.items)
        assert case.status.value == "withdrawn"
        assert all(e.withdrawn_at for e in session.scalars(select(BankEntry)))
    assert "因為你撤回了，案件已結案" in client.get("/case/status").text


def test_changing_and_removing_the_contact(app: FastAPI, client: TestClient) -> None:
    number, pin = submit(client)
    open_case(client, number, pin)

    refused = post_on_status_page(client, "/case/contact", {"contact": "new@example.com"})
    assert refused.status_code == 400 and "請勾選方框" in refused.text

    saved = post_on_status_page(
        client, "/case/contact", {"contact": "new@example.com", "contact_consent": "1"}
    )
    assert saved.headers["location"] == "/case/status?done=contact"
    assert "n••@example.com" in client.get("/case/status").text
    with sessions(app) as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None and "new@example.com" not in str(case.reports[0].contact)

    post_on_status_page(client, "/case/contact", {"remove": "1"})
    html = client.get("/case/status").text
    assert "你沒有留下聯絡方式" in html
    assert re.search(r"n•+@example\.com", html) is None


def test_changes_need_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    open_case(client, *submit(client))
    with sessions(app) as session:
        before = row_counts(session)
    for path, data in [
        ("/case/items", {"urls": "https://x.example/"}),
        ("/case/withdraw", {"everything": "1", "confirm": "1"}),
        ("/case/contact", {"remove": "1"}),
    ]:
        assert client.post(path, data=data).status_code == 403
    with sessions(app) as session:
        assert row_counts(session) == before
