"""`reclaim stats` as tables, CSV (with a byte-order mark) and JSON; and `reclaim demo
--synthetic-history` filling the statistics with marked synthetic data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from reclaim.cases.models import Case
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke


@pytest.fixture
def history(reclaim: Invoke, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_ENVIRONMENT", "development")
    result = reclaim("demo", "--synthetic-history", "3")
    assert result.exit_code == 0, result.output
    assert "Synthetic history (3 months, marked synthetic)" in result.output
    again = reclaim("demo", "--synthetic-history", "3")
    assert "already there" in again.output
    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        synthetic = session.scalar(select(func.count()).where(Case.number.like("SY-%")))
        assert synthetic == 3 * 60  # made once, not twice
    engine.dispose()
    monkeypatch.setenv("RECLAIM_ENVIRONMENT", "test")


def test_stats_prints_tables(reclaim: Invoke, history: None) -> None:
    result = reclaim("stats")
    assert result.exit_code == 0, result.output
    assert "removal_by_platform" in result.output and "Synthetic Tube" in result.output


def test_stats_json_follows_the_schema(reclaim: Invoke, history: None) -> None:
    result = reclaim("stats", "--format", "json", "--type", "adult_ncii")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == 1 and data["filter"]["classification"] == "adult_ncii"
    every = json.loads(reclaim("stats", "--format", "json").stdout)
    by_type = {row[0]: row for row in data["tables"]["by_type"]["rows"]}
    all_types = {row[0]: row for row in every["tables"]["by_type"]["rows"]}
    # Every case with an adult's image, and only cases with one.
    assert by_type["adult_ncii"][3] == all_types["adult_ncii"][3] > 0
    assert data["tables"]["urgent"]["rows"][0][0] == by_type["adult_ncii"][3]
    assert every["tables"]["urgent"]["rows"][0][0] > by_type["adult_ncii"][3]


def test_stats_csv_has_a_bom_and_one_table_on_request(reclaim: Invoke, history: None) -> None:
    result = reclaim("stats", "--format", "csv", "--table", "reports_by_month")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert result.stdout_bytes.decode("utf-8-sig").splitlines()[0] == "month,reports,cases"


def test_bad_options_say_what_is_wrong(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    result = reclaim("stats", "--from", "2026-99")
    assert result.exit_code == 1 and "2026-11-30" in result.output
    assert reclaim("stats", "--format", "csv", "--table", "nope").exit_code == 1
