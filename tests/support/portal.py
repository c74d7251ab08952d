"""Helpers for the portal's web tests: settings, forms, and what a page says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reclaim.config import Settings
from tests.support.settings import make_settings
from tests.web.conftest import csrf_from

HOTLINE_PHONE = "02-2345-6789"
HOTLINE_HOURS = "週一至週五 09:00–18:00"
HOTLINE_EMAIL = "help@hotline.example"
MD5 = "0123456789abcdef0123456789abcdef"
SHA = "ab" * 32
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
IMAGE = f"image:{MD5}:{SHA}:{PDQ}:87"
VIDEO = f"video:{'cd' * 16}:{'ef' * 32}"

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_NUMBER = re.compile(r"data-case-number>(RC-[0-9A-Z]{4}-[0-9A-Z]{4})<")
_PIN = re.compile(r"data-pin>([0-9]{8})<")


def portal_settings(tmp_path: Path, database_url: str) -> Settings:
    """Small limits, so that "too many" is quick to reach, and a hotline to show."""
    return make_settings(
        tmp_path,
        database_url=database_url,
        hotline_phone=HOTLINE_PHONE,
        hotline_hours=HOTLINE_HOURS,
        hotline_email=HOTLINE_EMAIL,
        report_max_urls=3,
        report_max_files=2,
        pin_max_failures_per_case=3,
        pin_max_failures_per_client=5,
    )


def sessions(app: FastAPI) -> Session:
    session: Session = app.state.reclaim.sessions()
    return session


def report_form(client: TestClient, **changes: Any) -> dict[str, Any]:
    """A filled-in report form, as the page's own form would post it."""
    html = client.get("/report").text
    match = _KEY.search(html)
    assert match is not None
    data: dict[str, Any] = {
        "csrf_token": csrf_from(html),
        "idempotency_key": match.group(1),
        "reporter_role": "self",
        "age_group": "under_18",
        "situation": "online",
        "urls": "https://forum.example.net/t/1\nhttps://img.example.org/a.jpg",
        "file": [IMAGE, VIDEO],
        "description": "It started in a game.",
        "contact": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def case_number_and_pin(html: str) -> tuple[str, str | None]:
    number = _NUMBER.search(html)
    assert number is not None, "no case number on the page"
    pin = _PIN.search(html)
    return number.group(1), pin.group(1) if pin else None


def submit(client: TestClient, **changes: Any) -> tuple[str, str]:
    """Send a report; its case number and PIN."""
    response = client.post("/report", data=report_form(client, **changes))
    assert response.status_code == 200, response.text
    number, pin = case_number_and_pin(response.text)
    assert pin is not None
    return number, pin


def open_case(client: TestClient, number: str, pin: str) -> None:
    """Check my case, so the client holds the case cookie."""
    csrf = csrf_from(client.get("/case").text)
    response = client.post(
        "/case",
        data={"csrf_token": csrf, "case_number": number, "pin": pin},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
