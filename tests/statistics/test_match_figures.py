"""Partners' match volumes per platform, bank and category against a slow twin (every
row read into Python), over seeded rows on SQLite and PostgreSQL; whole operator days
at the period's edges; the table in the exports, on the page and in the monthly report,
in words."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks.domain import Category
from reclaim.partners.domain import ALL_BANKS
from reclaim.partners.match_volumes import Volume, VolumeKey, write
from reclaim.partners.models import MatchVolume, Partner
from reclaim.platforms.models import Platform
from reclaim.statistics import exporting, reports
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.figures import compute, tables
from reclaim.statistics.presenting import shown_tables
from reclaim.statistics.work import match_figures
from tests.support.documents import wording
from tests.web.api.conftest import add_partner

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
BANKS = (
    ("csam", Category.CSAM),
    ("sextortion", Category.SEXTORTION),
    ("unverified", Category.UNKNOWN),
    ("unverified", Category.ADULT_NCII),
)

Found = dict[tuple[str, str, str], tuple[int | None, int, int | None, int]]


def seed(session: Session) -> dict[str, int]:
    """Three platforms' partners, matching on random days from September to December:
    what a server process's writes leave (several writes per day add up)."""
    rng = random.Random(5)
    partners = {
        name: add_partner(session, name) for name in ("Photo Site", "Tube Site", "Chat App")
    }
    for key in partners.values():
        for _ in range(60):
            day = date(2026, 9, 1) + timedelta(days=rng.randrange(0, 110))
            asked = Volume(signals=rng.randrange(0, 5000), videos=rng.randrange(0, 20))
            asked.signals_matched = rng.randrange(0, asked.signals + 1)
            asked.videos_matched = rng.randrange(0, asked.videos + 1)
            batch = {VolumeKey(day, key.partner_id): asked}
            for bank, category in rng.sample(BANKS, rng.randrange(0, len(BANKS) + 1)):
                batch[VolumeKey(day, key.partner_id, bank, category.value)] = Volume(
                    signals_matched=rng.randrange(0, asked.signals_matched + 1),
                    videos_matched=rng.randrange(0, asked.videos_matched + 1),
                )
            write(session, batch)
    session.commit()
    return {name: key.platform_id for name, key in partners.items()}


def twin(session: Session, where: Filter) -> Found:
    platforms = {p.id: p.name for p in session.scalars(select(Platform))}
    partners = {p.id: p for p in session.scalars(select(Partner))}
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in session.scalars(select(MatchVolume)):
        partner = partners[row.partner_id]
        if where.platform_id is not None and partner.platform_id != where.platform_id:
            continue
        if not where.period.first <= row.day <= where.period.last:
            continue
        cell = sums[(platforms[partner.platform_id], row.bank, row.category)]
        for n, value in enumerate(
            (row.signals, row.signals_matched, row.videos, row.videos_matched)
        ):
            cell[n] += value
    return {
        k: (s if k[1] == ALL_BANKS else None, sm, v if k[1] == ALL_BANKS else None, vm)
        for k, (s, sm, v, vm) in sums.items()
    }


def test_match_volumes_match_the_twin(session: Session) -> None:
    platforms = seed(session)
    periods = [
        Period(date(2026, 9, 1), date(2026, 12, 31), TAIPEI),
        Period.month(2026, 10, TAIPEI),
        Period(date(2026, 10, 17), date(2026, 11, 3), TAIPEI),  # days at both edges
        Period(date(2026, 10, 17), date(2026, 10, 17), ZoneInfo("Europe/London")),
    ]
    for period in periods:
        for platform_id in (None, platforms["Tube Site"]):
            where = Filter(period, platform_id=platform_id)
            found = {
                (r.platform, r.bank, r.category): (
                    r.signals,
                    r.signals_matched,
                    r.videos,
                    r.videos_matched,
                )
                for r in match_figures(session, where)
            }
            assert found == twin(session, where), where
    whole = match_figures(session, Filter(periods[0]))
    assert {r.platform for r in whole} == {"Photo Site", "Tube Site", "Chat App"}
    assert {(r.bank, r.category) for r in whole} >= {("", ""), ("unverified", "adult_ncii")}
    assert [r.bank for r in whole][:1] == [""]  # what was asked comes first
    assert match_figures(session, Filter(Period.month(2027, 3, TAIPEI))) == []


def test_the_table_is_exported_and_shown_in_words(session: Session) -> None:
    seed(session)
    october = Period.month(2026, 10, TAIPEI)
    figures = compute(session, Filter(october), NOW)
    (table,) = [t for t in tables(figures) if t.key == "partner_matches"]
    assert table.columns == (
        "platform",
        "bank",
        "category",
        "signals",
        "signals_matched",
        "videos",
        "videos_matched",
    )
    exported = json.loads(exporting.json_bytes(figures))["tables"]["partner_matches"]
    asked = [row for row in exported["rows"] if row[1] == ""]
    per_bank = [row for row in exported["rows"] if row[1] != ""]
    assert asked and per_bank
    assert all(row[2] == "" and isinstance(row[3], int) for row in asked)
    assert all(row[3] is None and row[5] is None for row in per_bank)
    assert {row[2] for row in per_bank} <= {c.value for c in Category}
    csv = exporting.csv_bytes(figures, "partner_matches").decode("utf-8-sig")
    assert (
        csv.splitlines()[0]
        == "platform,bank,category,signals,signals_matched,videos,videos_matched"
    )

    (shown,) = [t for t in shown_tables(figures, wording("zh_TW")) if t.key == "partner_matches"]
    assert shown.title == "平臺的比對量"
    assert shown.header[3:5] == ("比對的雜湊值", "相符的雜湊值")
    text = " ".join(" ".join(row) for row in shown.rows)
    assert "所有雜湊庫" in text and "兒少性剝削內容" in text  # banks "" and categories in words
    assert "adult_ncii" not in text and "—" in text  # no code; no count asked per bank

    report = reports.build(session, reports.ReportKind.MONTHLY, october, hotline="Reclaim", now=NOW)
    html = reports.to_html(report, wording("en"))
    assert "What platforms matched" in html and "Signals matched" in html
