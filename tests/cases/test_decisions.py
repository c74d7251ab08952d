"""Decisions: banking with provenance, the second-analyst rule, supersede and withdraw."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import UNVERIFIED_BANK, Category, EntrySource
from reclaim.banks.engine import MatchEngine
from reclaim.cases import decisions, trust
from reclaim.cases.decisions import DecisionError, DecisionPolicy
from reclaim.cases.domain import Classification, DecisionStatus, SeenHow
from reclaim.cases.models import Item
from reclaim.domain.signals import Signal
from tests.support.cases import (
    attach,
    bank_entries,
    bank_verified,
    make_case,
    make_user,
    md5,
    pdq,
    seen,
    verified_entries,
)

ONE = DecisionPolicy(require_second_analyst=False, min_pdq_quality=50)
TWO = DecisionPolicy(require_second_analyst=True, min_pdq_quality=50)


def active(session: Session, category: Category = Category.CSAM) -> set[str]:
    """The verified bank's active values."""
    return {
        value
        for value, entry in verified_entries(session, category).items()
        if entry.withdrawn_at is None
    }


def active_in(session: Session, bank: str) -> set[str]:
    return {v for v, e in bank_entries(session, bank).items() if e.withdrawn_at is None}


def item_with(session: Session, *signals: Signal, seen_by: int | None = None) -> Item:
    """A reported URL whose picture has ``signals``; seen by ``seen_by`` if given."""
    case = make_case(session, urls=[f"https://img.example/{signals[0].value[:12]}.jpg"])
    media = attach(session, case.items[0], *signals)
    if seen_by is not None:
        media.seen_by_id, media.seen_at, media.seen_how = (
            seen_by,
            media.first_seen_at,
            SeenHow.ORIGINAL,
        )
        session.flush()
    return case.items[0]


def test_a_confirming_decision_banks_the_signals_with_provenance(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("a"), pdq(), seen_by=analyst.id)
    decision = decisions.decide(
        session, item, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    assert decision.status is DecisionStatus.RECORDED
    assert item.classification is Classification.CSAM
    assert [m.id for m in decision.media] == [m.id for m in item.media]
    entries = verified_entries(session)
    assert set(entries) == {md5("a").value, pdq().value}
    for entry in entries.values():
        assert entry.source is EntrySource.DECISION
        assert entry.verified and entry.category is Category.CSAM
        assert entry.verified_via is not None and "seen" in entry.verified_via
        assert entry.source_ref == f"case {item.case.number}/item {item.id}/decision {decision.id}"
    assert entries[pdq().value].quality == 90
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value)
    )
    assert (event.target_type, event.target_id, event.actor_id) == ("item", item.id, analyst.id)
    assert event.details["banked"] == 2
    assert event.details["classification"] == "csam"


def test_an_ai_image_of_a_child_is_banked_as_csam_and_grooming_banks_nothing(
    session: Session,
) -> None:
    """Partners remove a synthetic image of a child as any other: CSAM in the feed; the
    decision keeps the subtype.  Grooming is conduct, not content: nothing is banked."""
    analyst = make_user(session)
    item = item_with(session, md5("ai"), seen_by=analyst.id)
    decisions.decide(
        session,
        item,
        Classification.SYNTHETIC_MINOR,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
    )
    assert item.classification is Classification.SYNTHETIC_MINOR
    assert active(session, Category.CSAM) == {md5("ai").value}
    groomed = item_with(session, md5("chat"), seen_by=analyst.id)
    decision = decisions.decide(
        session,
        groomed,
        Classification.GROOMING,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
    )
    assert decision.status is DecisionStatus.RECORDED
    assert decision.media == []  # its screenshots are chosen one by one
    assert active(session, Category.CSAM) == {md5("ai").value}


def test_low_quality_pdq_is_not_banked_and_the_reason_is_kept(session: Session) -> None:
    analyst = make_user(session)
    case = make_case(session, urls=["https://img.example/b.jpg"])
    attach(session, case.items[0], pdq(), quality=10)
    media = attach(session, case.items[0], md5("b"))
    seen(session, media, analyst)
    decisions.decide(
        session,
        case.items[0],
        Classification.ADULT_NCII,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
    )
    assert active(session, Category.ADULT_NCII) == {md5("b").value}
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
    item = item_with(session, md5("d"), seen_by=first.id)
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
    bank_verified(session, imported)  # already in the bank from an imported list
    item = item_with(session, mine_only, shared, imported, seen_by=analyst.id)
    other = item_with(session, shared, seen_by=analyst.id)
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
    entries = verified_entries(session)
    assert entries[mine_only.value].withdrawn_at is not None  # a tombstone, still listed
    assert entries[mine_only.value].withdrawn_reason == f"decision {replaced.id} replaced it"
    assert entries[shared.value].withdrawn_at is None  # the other item still holds it
    assert entries[imported.value].withdrawn_at is None  # not this decision's to take back
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.details["withdrawn"] == 1


def test_moving_to_another_category_moves_the_signals_between_banks(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("g"), seen_by=analyst.id)
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
    # Never listed as two things at once: out of csam (a tombstone), into the minor bank.
    assert active(session, Category.SELF_GENERATED_MINOR) == {md5("g").value}
    assert active(session, Category.CSAM) == set()
    assert verified_entries(session, Category.CSAM)[md5("g").value].withdrawn_at is not None


def test_a_picture_nobody_saw_is_banked_unverified_until_someone_looks(
    session: Session,
) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("unseen"), pdq())
    decision = decisions.decide(
        session, item, Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    assert active(session) == set()
    assert active_in(session, UNVERIFIED_BANK) == {md5("unseen").value, pdq().value}
    (entry,) = [e for v, e in bank_entries(session, UNVERIFIED_BANK).items() if v == pdq().value]
    assert (entry.verified, entry.category) == (False, Category.CSAM)
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value))
    assert event is not None and (event.details["banked"], event.details["unverified"]) == (0, 2)

    # Looking at it later moves its hashes to the verified bank, saying who saw it.
    (media,) = decision.media
    moved = trust.mark_seen(
        session, media, user_id=analyst.id, how=SeenHow.PREVIEW, min_pdq_quality=50
    )
    assert moved == 2
    assert active(session) == {md5("unseen").value, pdq().value}
    assert active_in(session, UNVERIFIED_BANK) == set()
    assert all(e.verified_via for e in verified_entries(session).values())


def test_a_picture_matching_a_verified_entry_is_verified_without_a_look(
    session: Session,
) -> None:
    analyst = make_user(session)
    bank_verified(session, md5("known"))
    item = item_with(session, md5("known"), md5("new copy"))
    decisions.decide(
        session,
        item,
        Classification.CSAM,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
        matcher=MatchEngine(),
    )
    via = verified_entries(session)[md5("new copy").value].verified_via
    assert via is not None and via.startswith("matches verified entry")
    assert via.endswith("in the csam bank (exactly)")


def test_files_from_a_reporters_device_stay_self_reported(session: Session) -> None:
    analyst = make_user(session)
    case = make_case(session, files=1)
    attach(session, case.items[0], md5("device"))
    decisions.decide(
        session, case.items[0], Classification.CSAM, analyst_id=analyst.id, reason=None, policy=ONE
    )
    # Banked at intake in self-reported; nobody here saw them, whatever is decided.
    assert active(session) == set()
    assert active_in(session, UNVERIFIED_BANK) == set()
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_DECIDED.value))
    assert event is not None and (event.details["banked"], event.details["unverified"]) == (0, 0)


def test_a_decision_covers_only_the_pictures_chosen(session: Session) -> None:
    analyst = make_user(session)
    case = make_case(session, urls=["https://forum.example/t/1"])
    (item,) = case.items
    first = attach(session, item, md5("one"), media_url="https://cdn.example/1.jpg")
    second = attach(session, item, md5("two"), media_url="https://cdn.example/2.jpg")
    for media in (first, second):
        seen(session, media, analyst)
    decision = decisions.decide(
        session,
        item,
        Classification.CSAM,
        analyst_id=analyst.id,
        reason=None,
        policy=ONE,
        media_ids=[second.id],
    )
    assert [m.id for m in decision.media] == [second.id]
    assert active(session) == {md5("two").value}
    with pytest.raises(DecisionError) as refused:
        decisions.decide(
            session,
            item,
            Classification.CSAM,
            analyst_id=analyst.id,
            reason=None,
            policy=ONE,
            media_ids=[second.id, 10_000],
        )
    assert refused.value.code == "unknown_media"


def test_reconfirming_reactivates_a_withdrawn_entry(session: Session) -> None:
    analyst = make_user(session)
    item = item_with(session, md5("h"), seen_by=analyst.id)
    for classification, reason in (
        (Classification.CSAM, None),
        (Classification.NOT_ACTIONABLE, "mistake"),
        (Classification.CSAM, None),
    ):
        decisions.decide(
            session, item, classification, analyst_id=analyst.id, reason=reason, policy=ONE
        )
    assert active(session) == {md5("h").value}
