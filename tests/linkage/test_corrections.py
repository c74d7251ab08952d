"""A supervisor undoes a wrong link: it leaves both cases and the cluster (which may
split), is kept in the audit trail, and linking never makes it again."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.linkage import case_links, clusters, corrections, identifiers, linking
from reclaim.linkage.domain import IdentifierKind, InvalidIdentifierError
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseIdentifier, LinkRejection
from tests.support.cases import make_case, make_user
from tests.support.clock import FakeClock
from tests.support.linkage import linkage_keys


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return linkage_keys(settings)


def _link(session: Session, case: Case, keys: Keys, clock: FakeClock) -> linking.LinkOutcome:
    return linking.link_case(
        session, case, keys=keys, media_index=MediaPdqIndex(), max_distance=31, clock=clock
    )


def _named(session: Session, keys: Keys, *handles: str, urls: tuple[str, ...] = ()) -> Case:
    case = make_case(session, urls=urls)
    for handle in handles:
        identifiers.add_by_analyst(
            session, case, IdentifierKind.HANDLE, handle, actor_id=make_user(session).id, keys=keys
        )
    return case


def _linked_numbers(session: Session, case: Case, keys: Keys) -> set[str]:
    return {linked.number for linked in case_links.linked_cases(session, case.id, keys)}


def test_an_unlinked_pair_leaves_both_pages_and_the_cluster_and_stays_unlinked(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    supervisor = make_user(session)
    first = _named(session, keys, "user_alpha", urls=("https://leak.example/a",))
    second = _named(session, keys, "user_alpha", urls=("https://leak.example/a",))
    third = _named(session, keys, "someone_else")
    fourth = _named(session, keys, "someone_else", "user_alpha")
    for case in (first, second, third, fourth):
        _link(session, case, keys, clock)
    assert {c.id for c in clusters.cluster_cases(session, first)} == {
        first.id,
        second.id,
        third.id,
        fourth.id,
    }
    with pytest.raises(corrections.CorrectionError) as refused:
        corrections.reject_link(session, first, second, "  ", actor_id=supervisor.id, clock=clock)
    assert refused.value.code == "no_reason"
    with pytest.raises(corrections.CorrectionError) as refused:
        corrections.reject_link(session, first, third, "why", actor_id=supervisor.id, clock=clock)
    assert refused.value.code == "not_linked"

    why = "Two different people use that name"
    gone = corrections.reject_link(session, second, first, why, actor_id=supervisor.id, clock=clock)
    assert gone == 3  # the same handle, the same page, the same site
    assert second.number not in _linked_numbers(session, first, keys)
    assert first.number not in _linked_numbers(session, second, keys)
    # Still one cluster: both are linked to the fourth case by the handle.
    assert clusters.cluster_id_of(session, second.id) == clusters.cluster_id_of(session, first.id)
    view = case_links.cluster_view(session, first, keys)
    assert (min(first.id, second.id), max(first.id, second.id)) not in {
        (e.first, e.second) for e in view.edges
    }

    # Opening either case again links it again: never to the other.
    for case in (first, second):
        _link(session, case, keys, clock)
    assert second.number not in _linked_numbers(session, first, keys)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.LINK_REJECTED.value)
    ).all()
    assert {e.target_id for e in events} == {first.id, second.id}
    assert all(e.details["reason"] == "Two different people use that name" for e in events)


def test_a_wrong_identifier_leaves_the_case_and_the_cluster_splits(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    supervisor = make_user(session)
    first = _named(session, keys, "user_alpha")
    second = _named(session, keys, "admin")
    # The reporter's description named @admin only in passing: gathered, then wrong.
    identifiers.add_by_analyst(
        session, second, IdentifierKind.HANDLE, "@user_alpha", actor_id=supervisor.id, keys=keys
    )
    _link(session, second, keys, clock)
    assert clusters.cluster_id_of(session, first.id) is not None
    row = identifiers.find(
        session, identifiers.normalise(IdentifierKind.HANDLE, "user_alpha"), keys
    )
    assert row is not None
    why = "Misread from the description"
    gone = corrections.reject_identifier(
        session, second, row.id, why, actor_id=supervisor.id, clock=clock
    )
    assert gone == 1
    assert _linked_numbers(session, first, keys) == set()
    assert clusters.cluster_id_of(session, first.id) is None  # nothing left to join
    assert clusters.cluster_id_of(session, second.id) is None
    assert not session.scalars(
        select(CaseIdentifier).where(
            CaseIdentifier.case_id == second.id, CaseIdentifier.identifier_id == row.id
        )
    ).all()
    _link(session, second, keys, clock)
    _link(session, first, keys, clock)
    assert _linked_numbers(session, second, keys) == set()
    with pytest.raises(InvalidIdentifierError) as again:
        identifiers.add_by_analyst(
            session, second, IdentifierKind.HANDLE, "USER_ALPHA", actor_id=supervisor.id, keys=keys
        )
    assert again.value.code == "rejected"
    (rejection,) = session.scalars(select(LinkRejection)).all()
    assert (rejection.case_id, rejection.identifier_id) == (second.id, row.id)
