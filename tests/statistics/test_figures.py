"""Every figure of the statistics module against the slow twin (tests/statistics/twin.py),
over the same seeded synthetic history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.domain import Classification
from reclaim.demo.history import make_history
from reclaim.platforms.models import Platform
from reclaim.statistics.domain import COUNTED_TYPES, Filter, Period, Spread
from reclaim.statistics.intake import intake_figures
from reclaim.statistics.removal import removal_figures
from reclaim.statistics.work import bank_figures, work_figures
from tests.statistics import twin

TAIPEI = ZoneInfo("Asia/Taipei")
END = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
NOW = END


@pytest.fixture
def history(session: Session) -> Session:
    make_history(session, months=5, end=END, cases_per_month=40, seed=7)
    session.commit()
    return session


def filters(session: Session) -> list[Filter]:
    whole = Period(date(2026, 6, 1), date(2026, 11, 30), TAIPEI)
    one_month = Period.month(2026, 9, TAIPEI)
    platform = session.scalar(select(Platform.id).where(Platform.name == "Synthetic Social"))
    return [
        Filter(whole),
        Filter(one_month),
        Filter(whole, urgent=True),
        Filter(whole, classification=Classification.ADULT_NCII),
        Filter(whole, classification=Classification.SYNTHETIC_MINOR),
        Filter(whole, classification=Classification.GROOMING),
        Filter(whole, platform_id=platform),
        Filter(Period(date(2026, 8, 15), date(2026, 10, 3), ZoneInfo("Europe/London"))),
    ]


def same_spread(sql: Spread, slow: twin.Spread) -> None:
    assert sql.count == slow.count
    for mine, theirs in (
        (sql.median_hours, slow.median),
        (sql.p90_hours, slow.p90),
        (sql.max_hours, slow.top),
    ):
        if theirs is None:
            assert mine is None
        else:
            assert mine == pytest.approx(theirs, abs=0.01)


def test_history_is_big_enough_to_mean_something(history: Session) -> None:
    where = Filter(Period(date(2026, 6, 1), date(2026, 11, 30), TAIPEI))
    slow = twin.removal(history, where, NOW)
    assert slow[""]["pages"] > 50
    assert slow[""]["removed"] > 30
    assert slow[""]["reuploads"] > 0
    assert slow[""]["expired"] > 0
    assert twin.intake(history, where)["urgent_cases"] > 0
    # Every type of exploitation, the AI-made images and grooming included, has cases.
    by_type = twin.intake(history, where)["by_type"]
    assert all(by_type[c.value][1] > 0 for c in COUNTED_TYPES), by_type


def test_intake_figures_match_the_twin(history: Session) -> None:
    for where in filters(history):
        sql = intake_figures(history, where)
        slow = twin.intake(history, where)
        assert sql.reports == slow["reports"], where
        assert sql.cases == slow["cases"]
        assert sql.urgent_cases == slow["urgent_cases"]
        assert sql.reports_by_month == slow["reports_by_month"]
        assert sql.cases_by_month == slow["cases_by_month"]
        assert sql.by_type == slow["by_type"]
        assert sql.type_by_month == slow["type_by_month"]
        assert sql.by_age == slow["by_age"]
        assert sql.by_reporter == slow["by_reporter"]
        assert sql.by_channel == slow["by_channel"]


def test_removal_figures_match_the_twin(history: Session) -> None:
    for where in filters(history):
        sql = {row.platform: row for row in removal_figures(history, where, NOW)}
        slow = twin.removal(history, where, NOW)
        assert set(sql) == set(slow) | {""}, where
        for name, expected in slow.items():
            row = sql[name]
            for field in (
                "notices",
                "pages",
                "removed",
                "partially_removed",
                "refused",
                "expired",
                "media",
                "media_removed",
                "overdue",
                "removed_with_deadline",
                "within_deadline",
                "reuploads",
                "bands",
            ):
                assert getattr(row, field) == expected[field], (name, field, where)
            same_spread(row.time_to_removal, expected["time"])


def test_work_figures_match_the_twin(history: Session) -> None:
    for where in filters(history):
        sql = work_figures(history, where)
        slow = twin.work(history, where)
        for urgency in ("urgent", "not_urgent"):
            same_spread(sql.first_look[urgency], slow["first_look"][urgency])
            same_spread(sql.decision[urgency], slow["decision"][urgency])


def test_bank_figures_match_the_twin(history: Session) -> None:
    for where in filters(history):
        sql = {
            (r.bank, r.category, r.month): (r.added, r.withdrawn)
            for r in bank_figures(history, where)
        }
        assert sql == twin.banks(history, where)
        assert sql


def test_empty_database_gives_zeros_not_errors(session: Session) -> None:
    where = Filter(Period.month(2026, 9, TAIPEI))
    assert intake_figures(session, where).reports == 0
    rows = removal_figures(session, where, NOW)
    assert [r.platform for r in rows] == [""]
    assert rows[0].pages == 0 and rows[0].time_to_removal.count == 0
    assert work_figures(session, where).decision["urgent"].count == 0
