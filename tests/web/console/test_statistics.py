"""The statistics page: filters, charts beside their tables, exports; supervisors only."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.demo.history import make_history
from reclaim.platforms.models import Platform

Login = Callable[..., User]
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-TW"}


def _history(app: FastAPI) -> None:
    with app.state.reclaim.sessions() as session:
        make_history(session, months=4, end=app.state.reclaim.clock(), cases_per_month=25, seed=3)
        session.commit()


def test_supervisors_see_figures_charts_and_tables(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _history(app)
    login_as(Role.SUPERVISOR)
    page = client.get("/console/statistics", headers=EN)
    assert page.status_code == 200
    html = page.text
    for key in ("trend", "time_to_removal", "compliance"):
        assert f'data-chart="{key}"' in html
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 3
    svg = base64.b64decode(images[0]).decode()
    assert "<svg" in svg and "Noto Sans CJK TC" in svg
    assert "Synthetic Tube" in html
    assert 'data-table="removal_by_platform"' in html and "All platforms" in html
    zh = client.get("/console/statistics", headers=ZH).text
    assert "統計" in zh and "平臺" in zh
    svg_zh = base64.b64decode(re.findall(r'base64,([^"]+)"', zh)[0]).decode()
    assert "自行拍攝" in svg_zh or "兒童" in svg_zh  # the legend speaks Chinese


def test_filters_narrow_the_figures_and_bad_ones_are_refused(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _history(app)
    login_as(Role.SUPERVISOR)
    with app.state.reclaim.sessions() as session:
        tube = session.scalar(select(Platform.id).where(Platform.name == "Synthetic Tube"))
    every = client.get("/console/statistics/figures.json").json()
    one = client.get(f"/console/statistics/figures.json?platform={tube}").json()
    rows = one["tables"]["removal_by_platform"]["rows"]
    assert [r[0] for r in rows] == ["Synthetic Tube", ""]
    assert len(every["tables"]["removal_by_platform"]["rows"]) > 2
    urgent = client.get("/console/statistics/figures.json?urgent=yes").json()
    assert urgent["tables"]["urgent"]["rows"][0][0] == urgent["tables"]["urgent"]["rows"][0][1]
    assert client.get("/console/statistics?first=2026-13-01").status_code == 400
    assert client.get("/console/statistics?type=not_actionable").status_code == 400


def test_exports_csv_with_a_bom_and_json_with_a_schema(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _history(app)
    login_as(Role.SUPERVISOR)
    csv = client.get("/console/statistics/figures.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert b"table,row,column,value" in csv.content.splitlines()[0]
    data = json.loads(client.get("/console/statistics/figures.json").content)
    assert data["schema"] == 1
    assert data["tables"]["by_type"]["columns"] == [
        "classification",
        "ministry_type",
        "reports",
        "cases",
    ]


def test_analysts_may_not_see_statistics(client: TestClient, login_as: Login) -> None:
    login_as(Role.ANALYST)
    assert client.get("/console/statistics").status_code == 403
    assert client.get("/console/statistics/figures.csv").status_code == 403


def test_monthly_and_annual_reports_download_in_every_format(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    _history(app)
    login_as(Role.SUPERVISOR)
    month = f"{app.state.reclaim.clock():%Y-%m}"
    html = client.get(f"/console/statistics/monthly.html?lang=zh_TW&month={month}")
    assert html.status_code == 200 and "每月" in html.text and "data:image/svg+xml" in html.text
    pdf = client.get(f"/console/statistics/monthly.pdf?lang=en&month={month}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = client.get("/console/statistics/annual.csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert client.get("/console/statistics/weekly.pdf").status_code == 404
    assert client.get("/console/statistics/monthly.pdf?month=2026-13").status_code == 400


def test_partner_match_volumes_are_on_the_page_and_in_the_export(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    from reclaim.partners.match_volumes import Volume, VolumeKey, write
    from tests.web.api.conftest import add_partner

    state = app.state.reclaim
    today = state.clock().astimezone(state.settings.zone).date()
    with state.sessions() as session:
        partner = add_partner(session, "Photo Site").partner_id
        write(
            session,
            {
                VolumeKey(today, partner): Volume(signals=1200, signals_matched=7),
                VolumeKey(today, partner, "csam", "csam"): Volume(signals_matched=5),
            },
        )
        session.commit()
    login_as(Role.SUPERVISOR)
    html = client.get("/console/statistics", headers=EN).text
    assert 'data-table="partner_matches"' in html and "What platforms matched" in html
    assert "All banks" in html and "1200" in html
    rows = client.get("/console/statistics/figures.json").json()["tables"]["partner_matches"]
    assert rows["rows"] == [
        ["Photo Site", "", "", 1200, 7, 0, 0],
        ["Photo Site", "csam", "csam", None, 5, None, 0],
    ]
