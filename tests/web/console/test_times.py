"""Staff read times on the operator's clock (RECLAIM_TIME_ZONE) with the zone named;
the database and machine exports stay UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.config import Settings
from reclaim.web.app import create_app
from tests.support.cases import make_case
from tests.support.clock import FakeClock, mid_totp_step

Login = Callable[..., User]
OPENED = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)  # 00:30 the next day in Taipei


def _open_case(app: FastAPI) -> str:
    with app.state.reclaim.sessions() as session:
        case = make_case(session, urls=["https://photos.example/p/1"], created_at=OPENED)
        session.commit()
        return case.number


def test_the_queue_and_the_case_show_taipei_time(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _open_case(app)
    login_as(Role.ANALYST)
    instant = '<time datetime="2026-11-02T16:30:00+00:00">2026-11-03 00:30 UTC+8</time>'
    for page in ("/console/", f"/console/cases/{number}"):
        body = client.get(page).text
        assert instant in body, page
        assert " UTC</time>" not in body
    account = client.get("/console/account").text
    assert "UTC+8</time>" in account  # when the authenticator was connected


class TestAnotherZone:
    @pytest.fixture
    def app(self, db_settings: Settings) -> FastAPI:
        settings = db_settings.model_copy(update={"time_zone": "Europe/London"})
        return create_app(
            settings, huey=MemoryHuey("test", immediate=True), clock=FakeClock(mid_totp_step())
        )

    def test_the_operator_chooses_the_zone(
        self, app: FastAPI, client: TestClient, login_as: Login
    ) -> None:
        number = _open_case(app)
        login_as(Role.ANALYST)
        body = client.get(f"/console/cases/{number}").text
        assert '<time datetime="2026-11-02T16:30:00+00:00">2026-11-02 16:30 UTC</time>' in body
