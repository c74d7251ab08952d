"""A case's status follows the work: new until someone works on it, in review while an
item waits, decided when notices are to go, resolved when nothing needs removing; every
move legal and audited with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases import decisions, status
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case
from tests.support.cases import make_case, make_user

ONE = decisions.DecisionPolicy()


def moves(session: Session, case: Case) -> list[tuple[str, str, str | None]]:
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.tag == AuditTag.CASE_STATUS_CHANGED.value,
            AuditEvent.target_id == case.id,
        )
        .order_by(AuditEvent.id)
    )
    return [(e.details["from"], e.details["to"], e.details.get("why")) for e in rows]


def decide(session: Session, case: Case, index: int, classification: Classification) -> None:
    analyst = make_user(session)
    reason = "a clothed photo" if classification is Classification.NOT_ACTIONABLE else None
    decisions.decide(
        session,
        case.items[index],
        classification,
        analyst_id=analyst.id,
        reason=reason,
        policy=ONE,
    )


def test_deciding_every_item_makes_the_case_decided(session: Session) -> None:
    case = make_case(session, urls=["https://a.example/1", "https://a.example/2"])
    decide(session, case, 0, Classification.CSAM)
    assert case.status is CaseStatus.IN_REVIEW  # one item still waits
    decide(session, case, 1, Classification.NOT_ACTIONABLE)
    assert case.status is CaseStatus.ACTIONED
    assert moves(session, case) == [
        ("new", "in_review", "items wait for a decision"),
        ("in_review", "actioned", "every item is decided; notices are to go"),
    ]


def test_needing_information_keeps_the_case_in_review(session: Session) -> None:
    case = make_case(session, urls=["https://a.example/1"])
    decide(session, case, 0, Classification.NEEDS_INFORMATION)
    assert case.status is CaseStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("classification", "expected"),
    [
        (Classification.NOT_ACTIONABLE, CaseStatus.NOT_ACTIONABLE),
        # A file hashed on the device: banked at intake, no platform to ask.
        (Classification.CSAM, CaseStatus.RESOLVED),
    ],
)
def test_a_case_with_nothing_to_notice_is_closed(
    session: Session, classification: Classification, expected: CaseStatus
) -> None:
    case = make_case(session, files=1)
    decide(session, case, 0, classification)
    assert case.status is expected


def test_an_offenders_account_is_work_still_to_do(session: Session) -> None:
    case = make_case(session, urls=["https://social.example/u/offender"])
    decide(session, case, 0, Classification.SEXTORTION_THREAT)
    assert case.status is CaseStatus.ACTIONED  # an account notice is to go


def test_a_case_awaiting_removal_stays_so_when_decided_again(session: Session) -> None:
    case = make_case(session, urls=["https://a.example/1"], status=CaseStatus.AWAITING_REMOVAL)
    decide(session, case, 0, Classification.SELF_GENERATED_MINOR)
    assert case.status is CaseStatus.AWAITING_REMOVAL


def test_the_system_does_not_start_work_nobody_started(session: Session) -> None:
    case = make_case(session, urls=["https://a.example/1"])
    status.follow_work(session, case, actor=audit.SYSTEM)
    assert case.status is CaseStatus.NEW


def test_move_towards_takes_the_fewest_legal_steps(session: Session) -> None:
    case = make_case(session)
    assert status.move_towards(
        session, case, CaseStatus.AWAITING_REMOVAL, actor=audit.SYSTEM, why="test"
    )
    assert [(a, b) for a, b, _why in moves(session, case)] == [
        ("new", "in_review"),
        ("in_review", "actioned"),
        ("actioned", "awaiting_removal"),
    ]
    resolved = make_case(session, status=CaseStatus.RESOLVED)
    assert status.move_towards(session, resolved, CaseStatus.RESOLVED, actor=audit.SYSTEM, why="")
    assert moves(session, resolved) == []
