"""A bulk scan's items on the case page: the history says where they came from."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.scanning.case_items import attach_matches
from tests.support.cases import make_case
from tests.support.clock import FakeClock

Login = Callable[..., User]
MATCH = [{"entry": 1, "bank": "csam-verified", "category": "csam", "verified": True}]


def test_the_case_history_names_the_scan_that_added_items(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    with app.state.reclaim.sessions() as session:
        case = make_case(session)
        records = [
            {
                "key": f"file:/device/{n}.jpg",
                "source": f"/device/{n}.jpg",
                "origin": "file",
                "kind": "image",
                "md5": f"{n:032x}",
                "sha256": f"{n:064x}",
                "pdq": f"{n + 1:064x}",
                "quality": 90,
                "matches": MATCH,
            }
            for n in (1, 2)
        ]
        attach_matches(session, case.number, records, source="/scan", clock=FakeClock())
        session.commit()
        number = case.number
    login_as(Role.ANALYST)

    english = client.get(f"/console/cases/{number}", headers={"accept-language": "en"}).text
    chinese = client.get(f"/console/cases/{number}", headers={"accept-language": "zh-TW"}).text

    assert "A bulk scan added 2 matched files" in english
    assert "批次掃描新增了 2 個比對相符的檔案" in chinese
