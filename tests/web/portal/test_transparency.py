"""The public transparency page: aggregates only, small cells suppressed, fixed periods;
and an attempt to re-identify a planted case through it, which fails."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reclaim.cases.domain import AgeGroup, Situation
from reclaim.demo.history import make_history
from tests.support.cases import make_case

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-TW"}
#: What an attacker might try: periods, filters and crossings the page does not offer.
PROBES = (
    "?month=2026-10",
    "?first=2026-10-01&last=2026-10-31",
    "?age=unsure",
    "?age=unsure&month=2026-10",
    "?region=taipei&age=under_18&month=2026-10",
    "?platform=1",
    "?type=adult_ncii&urgent=yes",
    "?threshold=1",
)


def _background(app: FastAPI) -> None:
    with app.state.reclaim.sessions() as session:
        make_history(session, months=13, end=app.state.reclaim.clock(), cases_per_month=20, seed=5)
        session.commit()


def _plant(app: FastAPI) -> None:
    """The one report in the database sent with neither files nor addresses (the
    synthetic history always has one or the other), from 40 days ago: the attacker
    knows this about the child and wants to confirm the report and its month."""
    with app.state.reclaim.sessions() as session:
        make_case(
            session,
            age=AgeGroup.UNSURE,
            situation=Situation.THREAT,
            created_at=app.state.reclaim.clock() - timedelta(days=40),
        )
        session.commit()


def _cells(html: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<td>([^<]*)</td>", html)]


def test_the_page_shows_aggregates_in_both_languages(app: FastAPI, client: TestClient) -> None:
    _background(app)
    page = client.get("/transparency", headers=EN)
    assert page.status_code == 200
    assert "Transparency" in page.text
    assert 'data-chart="reports_by_month"' in page.text and "data:image/svg+xml" in page.text
    assert "Synthetic Tube" in page.text
    zh = client.get("/transparency", headers=ZH).text
    assert "透明度" in zh and "平臺" in zh
    # No case numbers, no addresses, no descriptions: aggregates only.
    assert "SY-" not in page.text and "synthetic.example" not in page.text
    assert "[synthetic]" not in page.text


def test_every_public_count_is_zero_suppressed_or_rounded(app: FastAPI, client: TestClient) -> None:
    _background(app)
    _plant(app)
    threshold = app.state.reclaim.settings.statistics_small_cell
    for query in ("", "?year=2025", *PROBES):
        html = client.get("/transparency" + query, headers=EN).text
        for cell in _cells(html):
            if cell.isdigit():
                assert int(cell) == 0 or int(cell) % threshold == 0, (query, cell)
            elif not cell.endswith("%") and cell != "—":
                assert cell == f"&lt;{threshold}", (query, cell)


def test_a_planted_case_cannot_be_singled_out(app: FastAPI, client: TestClient) -> None:
    _background(app)
    before = client.get("/transparency", headers=EN).text
    _plant(app)
    after = client.get("/transparency", headers=EN).text
    # Its one distinctive trait shows only as "fewer than 5", never as 1.
    channel = after[after.index('data-table="reports_by_channel"') :]
    channel = channel[: channel.index("</section>")]
    assert "Neither (a threat described in words)</th><td>&lt;5</td>" in channel
    assert "Neither (a threat described in words)</th><td>0</td>" in before
    # No table crosses two characteristics: the month table has months and counts only.
    months = after[after.index('data-chart="reports_by_month"') :]
    months = months[: months.index("</section>")]
    assert re.findall(r'<th scope="col">([^<]*)</th>', months) == ["Month", "Reports"]
    assert set(re.findall(r'data-table="([a-z_]+)"', after)) == {
        "cases_by_type",
        "reports_by_age",
        "reports_by_reporter",
        "reports_by_channel",
        "platforms",
    }
    # Filters, periods and thresholds of the attacker's choosing are ignored: every probe
    # gets the same page as no probe at all.
    for query in PROBES:
        assert client.get("/transparency" + query, headers=EN).text == after, query
    # Only past calendar years are offered besides the last twelve months.
    assert client.get("/transparency?year=2026", headers=EN).status_code == 404
    assert client.get("/transparency?year=abc", headers=EN).status_code == 404
