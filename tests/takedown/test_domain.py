"""The notice and delivery state machines, deadlines, the verification schedule, how
pictures' outcomes settle their page, and how pages' outcomes settle a notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reclaim.cases.domain import Classification
from reclaim.takedown.domain import (
    CLAIMABLE,
    DELIVERY_MACHINE,
    NOTICE_MACHINE,
    OPEN_NOTICE_STATUSES,
    VERIFICATION_OFFSETS,
    DeliveryStatus,
    MediaOutcome,
    NoticeStatus,
    PageOutcome,
    next_verification,
    notice_deadline,
    page_outcome,
    summarise,
)

SENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_removed_is_the_only_end_of_a_notice() -> None:
    assert NOTICE_MACHINE.terminal == {NoticeStatus.REMOVED}
    # Every notice can still end up removed, however it went before.
    for status in NoticeStatus:
        assert NoticeStatus.REMOVED in NOTICE_MACHINE.reachable_from(status)


def test_refused_and_expired_notices_recover_only_towards_removal() -> None:
    for status in (NoticeStatus.REFUSED, NoticeStatus.EXPIRED):
        assert NOTICE_MACHINE.transitions[status] == {
            NoticeStatus.REMOVED,
            NoticeStatus.PARTIALLY_REMOVED,
        }


def test_a_notice_never_goes_back_to_draft_or_queued() -> None:
    for status in NoticeStatus:
        targets = NOTICE_MACHINE.transitions[status]
        assert NoticeStatus.DRAFT not in targets
        if status is not NoticeStatus.DRAFT:
            assert NoticeStatus.QUEUED not in targets


def test_open_notices_are_those_still_waiting_for_the_platform() -> None:
    assert set(OPEN_NOTICE_STATUSES) == {
        NoticeStatus.QUEUED,
        NoticeStatus.SENT,
        NoticeStatus.ACKNOWLEDGED,
        NoticeStatus.PARTIALLY_REMOVED,
    }
    assert not any(s.is_open for s in NOTICE_MACHINE.terminal)


def test_deliveries_end_sent_unconfirmed_or_failed() -> None:
    assert DELIVERY_MACHINE.terminal == {
        DeliveryStatus.SENT,
        DeliveryStatus.UNCONFIRMED,
        DeliveryStatus.FAILED,
    }
    assert {s for s in DeliveryStatus if s.needs_a_person} == {
        DeliveryStatus.FAILED,
        DeliveryStatus.UNCONFIRMED,
    }
    assert CLAIMABLE.isdisjoint(DELIVERY_MACHINE.terminal)


def test_an_email_past_the_point_of_no_return_is_never_claimed_as_new() -> None:
    # From "committing" a delivery may be retried (pending) but never sent without a
    # new claim, and nothing returns to "committing" except through "sending".
    assert DeliveryStatus.SENDING not in DELIVERY_MACHINE.transitions[DeliveryStatus.COMMITTING]
    into_committing = {
        s for s in DeliveryStatus if DeliveryStatus.COMMITTING in DELIVERY_MACHINE.transitions[s]
    }
    assert into_committing == {DeliveryStatus.SENDING}


@given(st.lists(st.sampled_from(Classification), min_size=1, max_size=6))
def test_the_deadline_is_the_strictest_that_applies(classes: list[Classification]) -> None:
    deadline = notice_deadline(SENT, classes)
    hours = {
        Classification.CSAM: 24,
        Classification.SELF_GENERATED_MINOR: 24,
        Classification.SYNTHETIC_MINOR: 24,
    }
    hours[Classification.ADULT_NCII] = 72
    applicable = [hours[c] for c in classes if c in hours]
    if applicable:
        assert deadline == SENT + timedelta(hours=min(applicable))
    else:
        assert deadline is None


@given(st.integers(min_value=0, max_value=200))
def test_checks_come_later_each_time_then_daily(done: int) -> None:
    first = next_verification(SENT, done)
    second = next_verification(SENT, done + 1)
    assert second > first
    if done >= len(VERIFICATION_OFFSETS):
        assert second - first == timedelta(days=1)
    if done == 0:
        assert first == SENT + timedelta(hours=1)


@given(st.lists(st.sampled_from(MediaOutcome), max_size=6), st.booleans())
def test_a_page_is_removed_only_when_it_or_every_decided_picture_is_gone(
    media: list[MediaOutcome], page_gone: bool
) -> None:
    outcome = page_outcome(media, page_gone=page_gone)
    removed = [m for m in media if m is MediaOutcome.REMOVED]
    if page_gone or (media and len(removed) == len(media)):
        assert outcome is PageOutcome.REMOVED
    elif removed:
        # Some pictures are gone, the others still up: never "removed".
        assert outcome is PageOutcome.PARTIALLY_REMOVED
    else:
        assert outcome is PageOutcome.PENDING


def test_the_issue_case_one_picture_of_two_gone_is_a_partial_removal() -> None:
    # The matched picture stays up while the other one came down.
    assert (
        page_outcome([MediaOutcome.PENDING, MediaOutcome.REMOVED], page_gone=False)
        is PageOutcome.PARTIALLY_REMOVED
    )
    # A page noticed without pictures (an account) is removed only when it is gone.
    assert page_outcome([], page_gone=False) is PageOutcome.PENDING
    assert page_outcome([], page_gone=True) is PageOutcome.REMOVED


@given(st.lists(st.sampled_from(PageOutcome), max_size=8))
def test_pages_settle_a_notice_as_their_outcomes_say(outcomes: list[PageOutcome]) -> None:
    settled = summarise(outcomes)
    gone = [o for o in outcomes if o in (PageOutcome.REMOVED, PageOutcome.NOT_FOUND)]
    if outcomes and len(gone) == len(outcomes):
        assert settled is NoticeStatus.REMOVED
    elif gone or PageOutcome.PARTIALLY_REMOVED in outcomes:
        assert settled is NoticeStatus.PARTIALLY_REMOVED
    elif outcomes and all(o is PageOutcome.REFUSED for o in outcomes):
        assert settled is NoticeStatus.REFUSED
    else:
        assert settled is None
