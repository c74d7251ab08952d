"""Referrals per agency kind, status and outcome against a slow twin (every referral
read into Python), on SQLite and PostgreSQL; drafts and referrals sent outside the
period are not counted; the table is in the export and on the page in words."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.cases.domain import AgeGroup
from reclaim.referrals import referring
from reclaim.referrals.domain import AgencyKind, ReferralStatus, Share
from reclaim.referrals.models import Agency, Referral
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.figures import compute, tables
from reclaim.statistics.presenting import shown_tables
from reclaim.statistics.work import referral_figures
from tests.statistics.twin import inside
from tests.support.cases import make_case, make_user
from tests.support.documents import wording
from tests.support.referrals import make_agency, sent_referral

TAIPEI = ZoneInfo("Asia/Taipei")


def twin(session: Session, where: Filter) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    counted: Counter[tuple[str, str, str]] = Counter()
    mandatory: Counter[tuple[str, str, str]] = Counter()
    on_time: Counter[tuple[str, str, str]] = Counter()
    for referral, agency in session.execute(
        select(Referral, Agency).join(Agency, Agency.id == Referral.agency_id)
    ).all():
        if not inside(referral.sent_at, where):
            continue
        if where.urgent is not None and referral.case.urgent is not where.urgent:
            continue
        key = (agency.kind.value, referral.status.value, referral.outcome or "")
        counted[key] += 1
        if referral.mandatory:
            mandatory[key] += 1
            sent, deadline = referral.sent_at, referral.deadline_at
            if sent is not None and deadline is not None and sent <= deadline:
                on_time[key] += 1
    return {k: (n, mandatory[k], on_time[k]) for k, n in counted.items()}


def test_referrals_by_kind_status_and_outcome_match_the_twin(session: Session) -> None:
    social = make_agency(session)
    police = make_agency(session, "Taipei City Police", AgencyKind.POLICE, email="p@police.example")
    sender = make_user(session, Role.SUPERVISOR)
    member = audit.Actor.user(make_user(session, Role.SOCIAL_WORKER).id)
    made = []
    for number in range(7):
        case = make_case(session, age=AgeGroup.UNDER_18, urgent=number % 3 == 0)
        agency = police if number % 2 else social
        made.append(sent_referral(session, case, agency, sender, shares=(Share.CASE,)))
    referring.answer(session, made[0], ReferralStatus.ACKNOWLEDGED, actor=member, who="user")
    for referral, outcome in ((made[1], "investigating"), (made[2], "will_contact")):
        referring.answer(
            session, referral, ReferralStatus.ACCEPTED, actor=member, who="u", outcome=outcome
        )
    made[3].mandatory, made[3].deadline_at = True, made[3].sent_at + timedelta(hours=1)  # type: ignore[operator]
    made[4].mandatory, made[4].deadline_at = True, made[4].sent_at - timedelta(hours=1)  # type: ignore[operator]
    made[5].sent_at = datetime(2020, 5, 1, tzinfo=UTC)  # long before the period
    referring.draft(  # never sent: not counted
        session,
        make_case(session, age=AgeGroup.UNDER_18),
        social,
        (Share.CASE,),
        actor=audit.Actor.user(sender.id),
        created_by_id=sender.id,
    )
    session.commit()

    today = datetime.now(UTC).astimezone(TAIPEI).date()
    period = Period.last_months(today, 12, TAIPEI)
    for where in (Filter(period), Filter(period, urgent=True), Filter(period, urgent=False)):
        rows = referral_figures(session, where)
        found = {
            (r.kind, r.status, r.outcome): (r.referrals, r.mandatory, r.mandatory_on_time)
            for r in rows
        }
        assert found == twin(session, where), where
    whole = {(r.kind, r.status, r.outcome): r for r in referral_figures(session, Filter(period))}
    assert sum(r.referrals for r in whole.values()) == 6
    assert whole[("police", "accepted", "investigating")].referrals == 1
    assert sum(r.mandatory for r in whole.values()) == 2
    assert sum(r.mandatory_on_time for r in whole.values()) == 1

    figures = compute(session, Filter(period), datetime.now(UTC))
    (table,) = [t for t in tables(figures) if t.key == "referrals"]
    assert table.columns[:3] == ("agency_kind", "status", "agency_outcome")
    (shown,) = [t for t in shown_tables(figures, wording("zh_TW")) if t.key == "referrals"]
    text = " ".join(" ".join(row) for row in shown.rows)
    assert "警察" in text and "社政單位" in text and "investigating" not in text
