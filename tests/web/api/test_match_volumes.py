"""POST /api/v1/match counts what partners ask and what matched, per the operator's day,
bank and category, for the statistics: written at most every interval, and when the
server stops; a request sent again counts again; a refused request counts nothing.
On SQLite and PostgreSQL, through the app as a partner calls it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import select

from reclaim.banks.banking import ensure_builtin_banks
from reclaim.banks.domain import VERIFIED_BANKS, Category
from reclaim.banks.videos import features
from reclaim.domain.signals import Signal
from reclaim.partners.domain import ALL_BANKS
from reclaim.partners.models import MatchVolume
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.work import match_figures
from reclaim.web.api.deps import close_readers
from reclaim.web.app import create_app
from tests.banks.test_videos import a_video, bank_video
from tests.support.cases import PDQ_A, flip_bits
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.web.api.conftest import PartnerKey, add_partner, bank
from tests.web.api.test_auth import error_of

MATCH = "/api/v1/match"
TAIPEI = ZoneInfo("Asia/Taipei")
#: 01:30 on 1 December in Taipei, still 30 November in UTC.
NOW = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
TODAY = date(2026, 12, 1)

Counts = dict[tuple[str, str], tuple[int, int, int, int]]


def make_app(tmp_path: Path, database_url: str, flush_seconds: float) -> FastAPI:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        time_zone="Asia/Taipei",
        api_match_volume_flush_seconds=flush_seconds,
    )
    return create_app(settings, huey=MemoryHuey("volumes", immediate=True), clock=FakeClock(NOW))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    """Counts written after every request (interval 0)."""
    application = make_app(tmp_path, database_url, 0)
    yield application
    close_readers(application)
    application.state.reclaim.engine.dispose()


def counts(app: FastAPI, day: date = TODAY) -> Counts:
    with app.state.reclaim.sessions() as session:
        return {
            (r.bank, r.category): (r.signals, r.signals_matched, r.videos, r.videos_matched)
            for r in session.scalars(select(MatchVolume).where(MatchVolume.day == day))
        }


def pdq_in(value: str) -> dict[str, str]:
    return {"signal_type": "pdq", "value": value}


def ask(client: TestClient, key: PartnerKey, **body: Any) -> Any:
    response = client.post(MATCH, headers=key.headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_matches_are_counted_per_day_bank_and_category(app: FastAPI, client: TestClient) -> None:
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
        bank(session, [Signal.parse("pdq", PDQ_A)])  # csam, verified
        bank(session, [Signal.parse("pdq", PDQ_A)], name="ngo-list", verified=False)
    signals = [pdq_in(flip_bits(PDQ_A, 5)), pdq_in(secrets.token_hex(32))]

    ask(client, key, signals=signals)
    assert counts(app) == {
        (ALL_BANKS, ALL_BANKS): (2, 1, 0, 0),
        ("csam", "csam"): (0, 1, 0, 0),
        ("ngo-list", "unknown"): (0, 1, 0, 0),
    }
    # The same request again (a retry) is another request answered: counted again.
    ask(client, key, signals=signals)
    # Restricted to one bank: only that bank can match.
    ask(client, key, signals=signals[:1], banks=["ngo-list"])
    # Refused requests are not answered, and not counted.
    assert error_of(client.post(MATCH, headers=key.headers, json={"signals": []})) == (
        422,
        "nothing_to_match",
    )
    unknown = client.post(MATCH, headers=key.headers, json={"signals": signals, "banks": ["x"]})
    assert error_of(unknown) == (404, "unknown_bank")

    assert counts(app) == {
        (ALL_BANKS, ALL_BANKS): (5, 3, 0, 0),
        ("csam", "csam"): (0, 2, 0, 0),
        ("ngo-list", "unknown"): (0, 3, 0, 0),
    }
    # The operator's day, not UTC's: 30 November in UTC is 1 December in Taipei.
    assert counts(app, date(2026, 11, 30)) == {}
    with app.state.reclaim.sessions() as session:
        december = match_figures(session, Filter(Period.month(2026, 12, TAIPEI)))
        november = match_figures(session, Filter(Period.month(2026, 11, TAIPEI)))
    assert [(r.platform, r.bank, r.signals, r.signals_matched) for r in december] == [
        ("Photo Site", "", 5, 3),
        ("Photo Site", "csam", None, 2),
        ("Photo Site", "ngo-list", None, 3),
    ]
    assert november == []


def test_videos_are_counted_as_videos(app: FastAPI, client: TestClient) -> None:
    banked, other = a_video(1), a_video(2)
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
        ensure_builtin_banks(session)
        session.commit()
        bank_video(session, banked)

    def frames(video: Any) -> list[dict[str, Any]]:
        return [
            {"pdq": f.value, "quality": f.quality, "timestamp": f.timestamp}
            for f in features(video)
        ]

    body = ask(client, key, videos=[{"frames": frames(banked)}, {"frames": frames(other)}])
    assert [len(v["matches"]) for v in body["videos"]] == [1, 0]
    sextortion = VERIFIED_BANKS[Category.SEXTORTION]
    assert counts(app) == {
        (ALL_BANKS, ALL_BANKS): (0, 0, 2, 1),
        (sextortion, "sextortion"): (0, 0, 0, 1),
    }


def test_counts_wait_for_the_interval_and_the_server_writes_them_when_it_stops(
    tmp_path: Path, database_url: str
) -> None:
    app = make_app(tmp_path, database_url, 60)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            with app.state.reclaim.sessions() as session:
                key = add_partner(session)
            for _ in range(3):
                ask(client, key, signals=[pdq_in(PDQ_A)])
            assert counts(app) == {}  # within the interval: in memory only
            assert sum(v.signals for v in app.state.reclaim.match_volumes.pending().values()) == 3
        # The lifespan's end (the server stopping) wrote them.
        assert counts(app) == {(ALL_BANKS, ALL_BANKS): (3, 0, 0, 0)}
        assert app.state.reclaim.match_volumes.pending() == {}
    finally:
        close_readers(app)
        app.state.reclaim.engine.dispose()
