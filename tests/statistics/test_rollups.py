"""The monthly rollups give exactly the live figures, on SQLite and PostgreSQL: over a
generated history, for periods of whole months, months with ragged edges and the month
in progress; and a change to a counted row in a closed month makes its rollup stale at
once (the figures stay the live ones) until the job computes it again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.cases.domain import Classification
from reclaim.demo.history import make_history
from reclaim.statistics import rollups
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.figures import Figures, compute, tables
from reclaim.statistics.intake import intake_figures
from reclaim.statistics.models import Rollup, RollupDuration, StaleMark
from reclaim.statistics.public import public_figures
from reclaim.statistics.removal import removal_figures
from reclaim.statistics.work import bank_figures, work_figures
from reclaim.takedown.domain import PageOutcome
from reclaim.takedown.models import Notice, NoticePage
from tests.support.cases import make_case
from tests.support.takedown import decide

TAIPEI = ZoneInfo("Asia/Taipei")
END = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
NOW = END

PERIODS = [
    Period(date(2026, 6, 1), date(2026, 11, 30), TAIPEI),  # five closed months + November
    Period.month(2026, 9, TAIPEI),  # one closed month: the monthly report
    Period(date(2026, 7, 15), date(2026, 10, 3), TAIPEI),  # ragged edges
    Period.year(2026, TAIPEI),  # the annual report, months without data
    Period(date(2026, 6, 1), date(2026, 10, 31), TAIPEI),  # closed months only
]


@pytest.fixture
def history(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    # Rollups ignore changes flushed up to MARGIN before they were computed (a commit
    # that came late); the history was made a moment ago, so the tests do without it.
    monkeypatch.setattr(rollups, "MARGIN", timedelta(0))
    make_history(session, months=5, end=END, cases_per_month=40, seed=7)
    session.commit()
    return session


def live(session: Session, where: Filter) -> tuple[object, ...]:
    return (
        intake_figures(session, where),
        removal_figures(session, where, NOW),
        work_figures(session, where),
        bank_figures(session, where),
    )


def rolled(figures: Figures) -> tuple[object, ...]:
    return (figures.intake, figures.removal, figures.work, figures.banks)


def test_within_the_margin_a_change_keeps_the_month_live(
    history: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "MARGIN", timedelta(minutes=10))
    rollups.refresh(history, TAIPEI, NOW, count=6)
    history.commit()
    # The history's own writes (the analyst, the audited case views) were just made.
    assert rollups.valid(history, [(480, "2026-09")]) == []
    where = Filter(PERIODS[0])
    assert rolled(compute(history, where, NOW)) == live(history, where)


def test_rollups_give_the_live_figures(history: Session) -> None:
    expected = {p: live(history, Filter(p)) for p in PERIODS}
    assert rollups.parts(history, Filter(PERIODS[0]), NOW, work=True) is None  # none yet

    built = rollups.refresh(history, TAIPEI, NOW, count=8)
    history.commit()
    assert built == 8
    months = set(history.scalars(select(Rollup.month)))
    assert {"2026-06", "2026-10", "2026-03"} <= months and "2026-11" not in months
    assert history.scalar(select(func.count()).select_from(RollupDuration)) > 100

    for period in PERIODS:
        where = Filter(period)
        parts = rollups.parts(history, where, NOW, work=True)
        assert parts is not None, period  # the rollups were used
        assert rolled(compute(history, where, NOW)) == expected[period], period
    # The tables (what exports and reports show) are the same, cell for cell.
    where = Filter(PERIODS[0])
    figures = compute(history, where, NOW)
    live_figures = Figures(  # type: ignore[arg-type]
        where, NOW, *expected[PERIODS[0]], figures.feedback, figures.referrals, figures.matches
    )
    assert tables(figures) == tables(live_figures)


def test_a_filter_or_a_zone_with_another_offset_reads_live(history: Session) -> None:
    rollups.refresh(history, TAIPEI, NOW, count=6)
    history.commit()
    whole = PERIODS[0]
    for where in (
        Filter(whole, urgent=True),
        Filter(whole, classification=Classification.ADULT_NCII),
        Filter(Period(date(2026, 6, 1), date(2026, 10, 31), ZoneInfo("Europe/London"))),
    ):
        assert rollups.parts(history, where, NOW, work=True) is None
        assert rolled(compute(history, where, NOW)) == live(history, where)


def test_a_change_in_a_closed_month_makes_its_rollup_stale(history: Session) -> None:
    rollups.refresh(history, TAIPEI, NOW, count=6)
    history.commit()
    september = Period.month(2026, 9, TAIPEI)
    page = history.scalars(
        select(NoticePage)
        .join(Notice, Notice.id == NoticePage.notice_id)
        .where(
            Notice.sent_at >= september.start,
            Notice.sent_at < september.end,
            NoticePage.outcome.not_in([PageOutcome.REMOVED, PageOutcome.NOT_FOUND]),
        )
        .limit(1)
    ).one()
    notice = history.get(Notice, page.notice_id)
    assert notice is not None and notice.sent_at is not None
    before = live(history, Filter(september))

    # A page removed weeks after the month closed, through the ORM as the app does it.
    page.outcome = PageOutcome.REMOVED
    page.removed_at = notice.sent_at + timedelta(hours=5)
    history.commit()
    assert history.scalar(select(func.count()).select_from(StaleMark)) >= 1
    after = live(history, Filter(september))
    assert after != before
    fresh = {r.month for r in rollups.valid(history, [(480, "2026-09"), (480, "2026-08")])}
    assert fresh == {"2026-08"}  # September's is stale, August's untouched
    for period in (september, PERIODS[0]):
        assert rolled(compute(history, Filter(period), NOW)) == live(history, Filter(period))

    # The job computes September again and forgets the marks it has seen.
    assert rollups.refresh(history, TAIPEI, NOW, count=6) == 1
    history.commit()
    assert {r.month for r in rollups.valid(history, [(480, "2026-09")])} == {"2026-09"}
    assert history.scalar(select(func.count()).select_from(StaleMark)) == 0
    assert rolled(compute(history, Filter(september), NOW)) == after


def test_the_public_page_reads_the_rollups_with_the_same_result(history: Session) -> None:
    period = PERIODS[4]
    before = public_figures(history, period, threshold=5, now=NOW)
    rollups.refresh(history, TAIPEI, NOW, count=6)
    history.commit()
    assert rollups.parts(history, Filter(period), NOW, work=False) is not None
    assert public_figures(history, period, threshold=5, now=NOW) == before


def test_a_decision_and_a_case_view_mark_the_month_the_case_was_created(session: Session) -> None:
    created = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    case = make_case(session, urls=["https://photos.example/p/1"], created_at=created)
    session.commit()
    session.execute(delete(StaleMark))
    session.commit()

    decide(session, case.items[0], Classification.ADULT_NCII)  # the decision service
    session.commit()
    anchors = set(session.scalars(select(StaleMark.anchor_at)))
    assert created in anchors  # the case's month (its items' type changed)

    session.execute(delete(StaleMark))
    audit.record(
        session,
        AuditTag.CASE_VIEWED,
        actor=audit.Actor(ActorKind.USER, None),
        target=(TargetKind.CASE, case.id),
    )
    session.commit()
    assert set(session.scalars(select(StaleMark.anchor_at))) == {created}
