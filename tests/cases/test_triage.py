"""The triage queue: order, explanation, filters, overdue count, and no N+1 queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.banks.engine import MatchEngine
from reclaim.cases.domain import AgeGroup, CaseStatus, Classification, Situation
from reclaim.cases.triage import (
    CaseFacts,
    Factor,
    QueueFilters,
    TriagePolicy,
    build_queue,
    count_overdue,
    is_overdue,
    score,
)
from tests.support.cases import (
    PDQ_A,
    attach,
    bank_verified,
    flip_bits,
    make_case,
    make_user,
    md5,
    pdq,
    quarantined,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = TriagePolicy(overdue_hours=24, urgent_overdue_hours=2, max_distance=31)


def queue(session: Session, viewer: int = 0, **filters: object) -> list[str]:
    built = build_queue(
        session,
        viewer_id=viewer,
        filters=QueueFilters(**filters),  # type: ignore[arg-type]
        policy=POLICY,
        matcher=MatchEngine(),
        now=NOW,
    )
    return [entry.number for entry in built.entries]


# --- the score, as a pure function -------------------------------------------------


def test_each_factor_is_explained_with_its_points() -> None:
    facts = CaseFacts(
        created_at=NOW - timedelta(hours=3),
        threat=True,
        under_18=True,
        live_items=2,
        matched_items=1,
        url_count=3,
        platforms=frozenset({"a.example", "b.example"}),
    )
    lines = {line.factor: line for line in score(facts, NOW, POLICY)}
    assert lines[Factor.THREAT].points == 50
    assert lines[Factor.UNDER_18].points == 30
    assert (lines[Factor.CONFIRMED_LIVE].points, lines[Factor.CONFIRMED_LIVE].count) == (15, 2)
    assert lines[Factor.CONFIRMED_MATCH].points == 20
    assert (lines[Factor.URLS].points, lines[Factor.URLS].count) == (6, 3)
    assert lines[Factor.PLATFORMS].points == 8
    assert (lines[Factor.WAITING].points, lines[Factor.WAITING].count) == (3, 3)
    # Urgent after 2 hours: this one is overdue.
    assert lines[Factor.OVERDUE].points == 25
    assert Factor.AGE_UNSURE not in lines


def test_counted_factors_are_capped() -> None:
    facts = CaseFacts(
        created_at=NOW - timedelta(days=10),
        url_count=40,
        platforms=frozenset(f"p{i}.example" for i in range(10)),
    )
    lines = {line.factor: line.points for line in score(facts, NOW, POLICY)}
    assert lines[Factor.URLS] == 10
    assert lines[Factor.PLATFORMS] == 12
    assert lines[Factor.WAITING] == 24
    # A flood of URLs on an old case still ranks below a child under threat today.
    child = CaseFacts(created_at=NOW, threat=True, under_18=True)
    assert sum(lines.values()) < sum(line.points for line in score(child, NOW, POLICY))


def test_urgent_cases_are_overdue_sooner() -> None:
    three_hours = NOW - timedelta(hours=3)
    assert is_overdue(CaseFacts(created_at=three_hours, threat=True), NOW, POLICY)
    assert not is_overdue(CaseFacts(created_at=three_hours), NOW, POLICY)
    assert is_overdue(CaseFacts(created_at=NOW - timedelta(hours=25)), NOW, POLICY)


def test_a_new_victim_of_a_known_offender_jumps_the_queue() -> None:
    known = CaseFacts(created_at=NOW - timedelta(hours=1), linked_cases=4)
    lines = {line.factor: line for line in score(known, NOW, POLICY)}
    assert (lines[Factor.LINKED_GROUP_GREW].points, lines[Factor.LINKED_GROUP_GREW].count) == (
        40,
        4,
    )
    # above a lone adult's case waiting a day, below a child under threat now
    lone = CaseFacts(created_at=NOW - timedelta(hours=23))
    child = CaseFacts(created_at=NOW, threat=True, under_18=True)
    total = sum(line.points for line in lines.values())
    assert sum(line.points for line in score(lone, NOW, POLICY)) < total
    assert total < sum(line.points for line in score(child, NOW, POLICY))
    assert Factor.LINKED_GROUP_GREW not in {line.factor for line in score(lone, NOW, POLICY)}


def test_the_queue_takes_linked_groups_from_its_collaborator(session: Session) -> None:
    older = make_case(session, created_at=NOW - timedelta(hours=10))
    linked = make_case(session, created_at=NOW - timedelta(hours=1))
    seen: list[list[int]] = []

    def groups(_session: Session, case_ids: list[int], now: datetime) -> dict[int, int]:
        assert now == NOW
        seen.append(sorted(case_ids))
        return {linked.id: 2}

    built = build_queue(
        session,
        viewer_id=0,
        filters=QueueFilters(),
        policy=POLICY,
        matcher=MatchEngine(),
        now=NOW,
        linked_groups=groups,
    )
    assert [e.number for e in built.entries] == [linked.number, older.number]
    assert seen == [sorted([older.id, linked.id])]


# --- the queue, on both databases --------------------------------------------------


def test_the_queue_puts_threats_and_minors_first(session: Session) -> None:
    adult_new = make_case(session, created_at=NOW - timedelta(hours=1))
    adult_old = make_case(session, created_at=NOW - timedelta(hours=20))
    minor = make_case(session, age=AgeGroup.UNDER_18, created_at=NOW - timedelta(hours=1))
    threat = make_case(
        session, situation=Situation.THREAT, urgent=True, created_at=NOW - timedelta(minutes=5)
    )
    closed = make_case(session, age=AgeGroup.UNDER_18, status=CaseStatus.RESOLVED)
    order = queue(session)
    assert order == [threat.number, minor.number, adult_old.number, adult_new.number]
    assert closed.number not in order


def test_a_threat_in_a_report_counts_even_if_the_case_is_not_flagged(session: Session) -> None:
    flagged_later = make_case(session, situation=Situation.BOTH, created_at=NOW)
    plain = make_case(session, created_at=NOW - timedelta(hours=5))
    assert queue(session) == [flagged_later.number, plain.number]
    assert queue(session, urgent_only=True) == [flagged_later.number]


def test_live_content_and_confirmed_matches_raise_a_case(session: Session) -> None:
    analyst = make_user(session)
    plain = make_case(session, urls=["https://a.example/1"], created_at=NOW - timedelta(hours=2))
    live = make_case(session, urls=["https://a.example/2"], created_at=NOW)
    matched = make_case(session, files=1, created_at=NOW)
    decided = make_case(session, files=1, created_at=NOW - timedelta(hours=1))
    quarantined(
        session, live.items[0], "obj-live", fetched_at=NOW, expires_at=NOW + timedelta(days=30)
    )
    bank_verified(session, pdq(), md5("known"))
    attach(session, matched.items[0], pdq(flip_bits(PDQ_A, 6)))
    # An item already decided as confirmed matches its own banked hash: no extra points.
    attach(session, decided.items[0], md5("known"))
    decided.items[0].classification = Classification.CSAM
    session.flush()
    built = build_queue(
        session,
        viewer_id=analyst.id,
        filters=QueueFilters(),
        policy=POLICY,
        matcher=MatchEngine(),
        now=NOW,
    )
    factors = {e.number: {line.factor for line in e.lines} for e in built.entries}
    assert Factor.CONFIRMED_LIVE in factors[live.number]
    assert Factor.CONFIRMED_MATCH in factors[matched.number]
    assert Factor.CONFIRMED_MATCH not in factors[decided.number]
    order = [e.number for e in built.entries]
    assert set(order[:2]) == {matched.number, live.number}
    assert set(order[2:]) == {plain.number, decided.number}


def test_filters_by_status_platform_and_assignee(session: Session) -> None:
    me = make_user(session)
    other = make_user(session)
    mine = make_case(session, urls=["https://www.forum.example/t/1"])
    theirs = make_case(session, urls=["https://img.example.org/x.jpg"])
    nobody = make_case(session, urls=["https://img.example.org/y.jpg"], status=CaseStatus.IN_REVIEW)
    mine.assignee_id, theirs.assignee_id = me.id, other.id
    session.flush()
    assert queue(session, me.id, assignee="me") == [mine.number]
    assert queue(session, me.id, assignee="unassigned") == [nobody.number]
    assert set(queue(session, me.id, platform="img.example.org")) == {theirs.number, nobody.number}
    assert queue(session, me.id, platform="forum.example") == [mine.number]  # www. dropped
    assert queue(session, me.id, status=CaseStatus.IN_REVIEW) == [nobody.number]
    built = build_queue(
        session,
        viewer_id=me.id,
        filters=QueueFilters(),
        policy=POLICY,
        matcher=MatchEngine(),
        now=NOW,
    )
    assert built.platforms == ["forum.example", "img.example.org"]
    assert {e.assignee_name for e in built.entries} == {me.display_name, other.display_name, None}


def test_the_overdue_count(session: Session) -> None:
    make_case(session, created_at=NOW - timedelta(hours=30))  # overdue
    make_case(session, created_at=NOW - timedelta(hours=3))  # not yet
    make_case(session, urgent=True, created_at=NOW - timedelta(hours=3))  # urgent: overdue
    make_case(session, situation=Situation.THREAT, created_at=NOW - timedelta(hours=3))  # too
    make_case(session, created_at=NOW - timedelta(days=9), status=CaseStatus.RESOLVED)  # closed
    assert count_overdue(session, now=NOW, policy=POLICY) == 3


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_queue_costs_the_same_queries_for_3_or_30_cases(session: Session) -> None:
    viewer = make_user(session, Role.ANALYST)

    def add_cases(count: int) -> None:
        for index in range(count):
            case = make_case(
                session,
                urls=[f"https://p{index}.example/a", f"https://q{index}.example/b"],
                age=AgeGroup.UNDER_18 if index % 2 else AgeGroup.ADULT,
            )
            case.assignee_id = viewer.id
            attach(session, case.items[0], md5(f"case {index}"))
        session.flush()

    bank_verified(session, md5("case 1"))
    add_cases(3)
    matcher = MatchEngine()
    matcher.sync(session)
    with counted_statements(session) as few:
        build_queue(
            session,
            viewer_id=viewer.id,
            filters=QueueFilters(),
            policy=POLICY,
            matcher=matcher,
            now=NOW,
        )
    add_cases(27)
    with counted_statements(session) as many:
        built = build_queue(
            session,
            viewer_id=viewer.id,
            filters=QueueFilters(),
            policy=POLICY,
            matcher=matcher,
            now=NOW,
        )
    assert len(built.entries) == 30
    assert len(many) == len(few) <= 12
