"""Pure rules: periods on the operator's clock, filters from text, nearest-rank
percentiles, the small-cell rule, the mailing state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from reclaim.cases.domain import Classification
from reclaim.domain.states import IllegalTransitionError
from reclaim.statistics.domain import (
    MAILING_MACHINE,
    FilterError,
    MailingStatus,
    Period,
    nearest_rank,
    parse_filter,
    suppress,
)

TAIPEI = ZoneInfo("Asia/Taipei")


def test_a_month_in_taipei_starts_at_four_in_the_afternoon_utc() -> None:
    november = Period.month(2026, 11, TAIPEI)
    assert november.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert november.offset_minutes == 480
    assert november.months() == ["2026-11"]
    assert Period(date(2025, 11, 5), date(2026, 2, 1), TAIPEI).months() == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="ends on or after"):
        Period(date(2026, 2, 2), date(2026, 2, 1), TAIPEI)


def test_filters_from_text() -> None:
    today = date(2026, 12, 2)
    default = parse_filter(first=None, last=None, zone=TAIPEI, today=today)
    assert (default.period.first, default.period.last) == (date(2026, 1, 1), today)
    months = parse_filter(first="2026-02", last="2026-02", zone=TAIPEI, today=today)
    assert (months.period.first, months.period.last) == (date(2026, 2, 1), date(2026, 2, 28))
    chosen = parse_filter(
        first="2026-03-01", last=None, zone=TAIPEI, today=today,
        platform_id="4", classification="adult_ncii", urgent="no",
    )  # fmt: skip
    assert (chosen.platform_id, chosen.classification, chosen.urgent) == (
        4, Classification.ADULT_NCII, False,
    )  # fmt: skip
    for bad in (
        {"first": "2026-13-01"},
        {"first": "2026-05-01", "last": "2026-04-01"},
        {"classification": "needs_information"},
        {"classification": "nonsense"},
        {"platform_id": "abc"},
        {"urgent": "maybe"},
        {"first": "2010-01-01"},
    ):
        options = {"first": None, "last": None} | bad
        with pytest.raises(FilterError):
            parse_filter(zone=TAIPEI, today=today, **options)  # type: ignore[arg-type]


def test_nearest_rank() -> None:
    assert nearest_rank([], 1, 2) is None
    assert nearest_rank([5.0], 9, 10) == 5.0
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert nearest_rank(values, 1, 2) == 5.0  # rank ceil(5) = 5
    assert nearest_rank(values, 9, 10) == 9.0
    assert nearest_rank([3.0, 1.0, 2.0], 1, 2) == 2.0  # rank ceil(1.5) = 2


def test_small_cells_are_hidden_and_the_rest_rounded() -> None:
    assert [suppress(n, 5) for n in (0, 1, 4, 5, 7, 8, 12, 13, 100)] == [
        0, "<5", "<5", 5, 5, 10, 10, 15, 100,
    ]  # fmt: skip
    assert suppress(9, 10) == "<10" and suppress(15, 10) == 20


def test_a_sent_mailing_stays_sent() -> None:
    assert MAILING_MACHINE.check(MailingStatus.PENDING, MailingStatus.SENT)
    with pytest.raises(IllegalTransitionError):
        MAILING_MACHINE.check(MailingStatus.SENT, MailingStatus.PENDING)
