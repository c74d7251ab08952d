"""A reporter's own page never mentions other victims, even when their cases are linked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.linkage import identifiers, linking
from reclaim.linkage.domain import IdentifierKind
from reclaim.linkage.media_index import MediaPdqIndex
from tests.support.cases import make_user
from tests.support.linkage import linkage_keys
from tests.support.portal import open_case, portal_settings, sessions, submit


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return portal_settings(tmp_path, database_url)


def test_the_reporters_page_says_nothing_of_linked_cases(app: FastAPI, client: TestClient) -> None:
    words = "他用 @user_alpha 威脅我"
    first, pin = submit(client, description=words, urls="https://leaks.example/a/1")
    second, _ = submit(client, description="the account @user_alpha, second child", urls="")
    keys = linkage_keys(app.state.reclaim.settings)
    with sessions(app) as session:
        cases = {c.number: c for c in session.scalars(select(Case))}
        analyst = make_user(session)
        identifiers.add_by_analyst(
            session,
            cases[second],
            IdentifierKind.PHONE,
            "0912345678",
            actor_id=analyst.id,
            keys=keys,
        )
        for case in cases.values():
            outcome = linking.link_case(
                session, case, keys=keys, media_index=MediaPdqIndex(), max_distance=31
            )
        assert outcome.linked_case_ids  # the two cases are linked (same @handle)
        session.commit()
    open_case(client, first, pin)
    page = client.get("/case/status", headers={"accept-language": "en"})
    assert page.status_code == 200
    html = page.text
    assert first in html
    assert second not in html
    assert "+886912345678" not in html and "0912345678" not in html
    assert "second child" not in html
    for word in ("linked", "Linked", "other victim", "cluster", "相關案件"):
        assert word not in html, word
