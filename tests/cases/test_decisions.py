"""Decisions: banking with provenance, the second-analyst rule, supersede and withdraw."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import EntrySource
from reclaim.cases import decisions
from reclaim.cases.decisions import DecisionError, DecisionPolicy
from reclaim.cases.domain import Classification, DecisionStatus
from reclaim.cases.models import Item
from reclaim.domain.signals import Signal
from tests.support.cases import (
    attach,
    bank_confirmed,
    confirmed_entries,
    make_case,
    make_user,
    md5,
    pdq,
)

ONE = DecisionPolicy(require_second_analyst=False, min_pdq_quality=50)
TWO = DecisionPolicy(require_second_analyst=True, min_pdq_quality=50)


def active(session: Session) -> set[str]:
    return {
        value for value, entry in confirmed_entries(session).items() if entry.withdrawn_at is None
    }


def item_with(session: Session, *signals: Signal) -> Item:
    case = make_case(session, files=1)
    attach(session, case.items[0], *signals)
    return case.items[0]


def test_a_confirming_decision_banks_the_signals_with_provenance(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("a"), pdq())
    decision = decisions.decide(
        session, item, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    assert decision.status is DecisionStatus.RECORDED
    assert item.classification is Classification.CSAM
    entries = confirmed_entries(session)
    assert set(entries) == {md5("a").value, pdq().value}
    for entry in entries.values():
        assert entry.source is EntrySource.DECISION
        assert entry.verified
        assert entry.source_ref == f"case {item.case.number}/item {item.id}/decision {decision.id}"
    assert entries[pdq().value].quality == 90
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value)
    )
    assert (event.target_type, event.target_id, event.actor_id) == ("item", item.id, analyst.id)
    assert event.details["banked"] == 2
    assert event.details["classification"] == "csam"


def test_low_quality_pdq_is_not_banked_and_the_reason_is_kept(session: Session) -> None:
    analyst = make_user(session)
    case = make_case(session, files=1)
    attach(session, case.items[0], pdq(), quality=10)
    attach(session, case.items[0], md5("b"))
    decisions.decide(
        session,
        case.items[0],
        Classification.ADULT_NCII,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
    )
    assert active(session) == {md5("b").value}
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value))
    assert event is not None and "quality" in event.details["rejected"][0]


def test_not_actionable_needs_a_reason(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("c"))
    with pytest.raises(DecisionError) as refused:
        decisions.decide(
            session,
            item,
            Classification.NOT_ACTIONABLE,
            analyst_id=analyst.id,
            reason="   ",
            policy=ONE,
        )
    assert refused.value.code == "reason_required"
    decision = decisions.decide(
        session,
        item,
        Classification.NOT_ACTIONABLE,
        analyst_id=analyst.id,
        reason="a clothed beach photo",
        policy=ONE,
    )
    assert decision.reason == "a clothed beach photo"
    assert active(session) == set()


def test_with_two_analysts_a_confirmation_waits_for_a_different_one(session: Session) -> None:
    first = make_user(session, Role.ANALYST)
    second = make_user(session, Role.SUPERVISOR)
    item = item_with(session, md5("d"))
    decision = decisions.decide(
        session, item, Classification.CSAM, analyst_id=first.id, reason=None, policy=TWO
    )
    assert decision.status is DecisionStatus.AWAITING_SECOND
    assert item.classification is None
    assert active(session) == set()
    with pytest.raises(DecisionError) as refused:
        decisions.agree(session, decision, reviewer_id=first.id, policy=TWO)
    assert refused.value.code == "same_analyst"
    assert active(session) == set()

    decisions.agree(session, decision, reviewer_id=second.id, policy=TWO)
    assert decision.status is DecisionStatus.RECORDED
    assert decision.second_analyst_id == second.id
    assert decision.agreed_at is not None
    assert item.classification is Classification.CSAM
    assert active(session) == {md5("d").value}
    agreed = session.scalar(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.DECISION_AGREED.value)
    )
    assert agreed is not None and agreed.actor_id == second.id and agreed.details["banked"] == 1
    with pytest.raises(DecisionError):
        decisions.agree(session, decision, reviewer_id=second.id, policy=TWO)


def test_with_two_analysts_refusing_to_act_takes_effect_at_once(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("e"))
    decision = decisions.decide(
        session,
        item,
        Classification.NEEDS_INFORMATION,
        analyst_id=analyst.id,
        reason=None,
        policy=TWO,
    )
    assert decision.status is DecisionStatus.RECORDED
    assert item.classification is Classification.NEEDS_INFORMATION


def test_a_waiting_decision_leaves_the_one_in_force_until_agreed(session: Session) -> None:
    first, second = make_user(session), make_user(session)
    item = item_with(session, md5("f"))
    needs = decisions.decide(
        session,
        item,
        Classification.NEEDS_INFORMATION,
        analyst_id=first.id,
        reason=None,
        policy=TWO,
    )
    waiting = decisions.decide(
        session, item, Classification.CSAM, analyst_id=first.id, reason=None, policy=TWO
    )
    assert needs.status is DecisionStatus.RECORDED
    assert item.classification is Classification.NEEDS_INFORMATION
    # A newer opinion replaces the one still waiting.
    newer = decisions.decide(
        session,
        item,
        Classification.SELF_GENERATED_MINOR,
        analyst_id=second.id,
        reason=None,
        policy=TWO,
    )
    assert waiting.status is DecisionStatus.SUPERSEDED
    decisions.agree(session, newer, reviewer_id=first.id, policy=TWO)
    assert needs.status is DecisionStatus.SUPERSEDED
    assert item.classification is Classification.SELF_GENERATED_MINOR
    statuses = [d.status for d in decisions.history(session, [item.id])[item.id]]
    assert statuses == [
        DecisionStatus.SUPERSEDED,
        DecisionStatus.SUPERSEDED,
        DecisionStatus.RECORDED,
    ]


def test_unconfirming_withdraws_what_only_this_item_held(session: Session) -> None:
    analyst = make_user(session)
    mine_only, shared, imported = md5("mine only"), md5("shared"), md5("imported")
    bank_confirmed(session, imported)  # already in the bank from an imported list
    item = item_with(session, mine_only, shared, imported)
    other = item_with(session, shared)
    decisions.decide(
        session, other, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    first = decisions.decide(
        session, item, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    assert active(session) == {mine_only.value, shared.value, imported.value}

    replaced = decisions.decide(
        session,
        item,
        Classification.NOT_ACTIONABLE,
        analyst_id=analyst.id,
        reason="an adult, consenting, public post",
        policy=ONE,
    )
    assert first.status is DecisionStatus.SUPERSEDED
    assert replaced.status is DecisionStatus.RECORDED
    assert item.classification is Classification.NOT_ACTIONABLE
    entries = confirmed_entries(session)
    assert entries[mine_only.value].withdrawn_at is not None  # a tombstone, still listed
    assert entries[shared.value].withdrawn_at is None  # the other item still holds it
    assert entries[imported.value].withdrawn_at is None  # not this decision's to take back
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.details["withdrawn"] == 1


def test_moving_between_confirming_classifications_keeps_the_signals(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("g"))
    decisions.decide(
        session, item, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    decisions.decide(
        session,
        item,
        Classification.SELF_GENERATED_MINOR,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
    )
    assert active(session) == {md5("g").value}


def test_reconfirming_reactivates_a_withdrawn_entry(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("h"))
    for classification, reason in (
        (Classification.CSAM, None),
        (Classification.NOT_ACTIONABLE, "mistake"),
        (Classification.CSAM, None),
    ):
        decisions.decide(
            session, item, classification, analyst_id=analyst.id, reason=reason, policy=ONE
        )
    assert active(session) == {md5("h").value}
