"""The signed receipt on the confirmation page and the public page that checks it."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reclaim.config import Settings
from tests.support.portal import SHA, portal_settings, report_form
from tests.web.conftest import csrf_from

_SIGNED = re.compile(r"data-signed-receipt>(.*?)</pre>", re.S)


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url)


def signed_receipt(client: TestClient) -> tuple[str, str, str]:
    response = client.post("/report", data=report_form(client))
    assert response.status_code == 200
    found = _SIGNED.search(response.text)
    assert found is not None
    number = re.search(r"data-case-number>([^<]+)<", response.text)
    pin = re.search(r"data-pin>([^<]+)<", response.text)
    assert number and pin
    return html.unescape(found.group(1)), number.group(1), pin.group(1)


def check(client: TestClient, text: str):  # type: ignore[no-untyped-def]
    csrf = csrf_from(client.get("/receipt").text)
    return client.post("/receipt", data={"csrf_token": csrf, "receipt": text})


def test_the_confirmation_gives_a_signed_receipt_without_the_pin(client: TestClient) -> None:
    text, number, pin = signed_receipt(client)
    document = json.loads(text)
    assert document["receipt"]["case_number"] == number
    assert [f["sha256"] for f in document["receipt"]["fingerprints"]] == [SHA, "ef" * 32]
    assert pin not in text and document["signature"]["key_id"] == "s1"


def test_the_public_page_says_genuine_or_not(client: TestClient) -> None:
    text, number, _pin = signed_receipt(client)
    genuine = check(client, text)
    assert genuine.status_code == 200
    assert (
        f"data-verified-case>{number}<" in genuine.text and "data-verified-count>2<" in genuine.text
    )
    assert "真的" in genuine.text

    changed = json.loads(text)
    changed["receipt"]["case_number"] = "RC-2345-6789"
    refused = check(client, json.dumps(changed))
    assert refused.status_code == 400 and "這張收據不是真的" in refused.text
    assert "data-verified-case" not in refused.text


def test_a_retry_gets_the_same_receipt_contents(client: TestClient) -> None:
    form = report_form(client)
    first = client.post("/report", data=form).text
    again = client.post("/report", data=form).text
    bodies = [
        json.loads(html.unescape(_SIGNED.search(t).group(1)))["receipt"] for t in (first, again)
    ]  # type: ignore[union-attr]
    assert bodies[0] == bodies[1]
