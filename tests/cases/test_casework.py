"""The case service: the state machine, assignment, notes, and what the page shows."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.engine import MatchEngine
from reclaim.cases import case_view, casework
from reclaim.cases.domain import CaseStatus
from reclaim.cases.models import CaseNote
from reclaim.config import Settings
from reclaim.domain.states import IllegalTransitionError
from reclaim.security.field_crypto import Purpose, field_cipher
from tests.support.cases import (
    PDQ_A,
    attach,
    bank_unverified,
    bank_verified,
    flip_bits,
    make_case,
    make_user,
    md5,
    pdq,
)


def events(session: Session, tag: AuditTag) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def test_legal_status_changes_are_made_and_audited(session: Session) -> None:
    analyst = make_user(session)
    case = make_case(session)
    casework.change_status(session, case, CaseStatus.IN_REVIEW, actor_id=analyst.id)
    casework.change_status(session, case, CaseStatus.ACTIONED, actor_id=analyst.id)
    assert case.status is CaseStatus.ACTIONED
    changes = events(session, AuditTag.CASE_STATUS_CHANGED)
    assert [e.details for e in changes] == [
        {"from": "new", "to": "in_review"},
        {"from": "in_review", "to": "actioned"},
    ]
    assert {(e.actor_id, e.target_type, e.target_id) for e in changes} == {
        (analyst.id, "case", case.id)
    }


@pytest.mark.parametrize(
    ("start", "requested"),
    [
        (CaseStatus.NEW, CaseStatus.RESOLVED),
        (CaseStatus.NEW, CaseStatus.AWAITING_REMOVAL),
        (CaseStatus.RESOLVED, CaseStatus.ACTIONED),
        (CaseStatus.WITHDRAWN, CaseStatus.NEW),
    ],
)
def test_illegal_status_changes_are_refused_and_change_nothing(
    session: Session, start: CaseStatus, requested: CaseStatus
) -> None:
    analyst = make_user(session)
    case = make_case(session, status=start)
    with pytest.raises(IllegalTransitionError):
        casework.change_status(session, case, requested, actor_id=analyst.id)
    assert case.status is start
    assert events(session, AuditTag.CASE_STATUS_CHANGED) == []


def test_assignment_is_audited_and_only_to_case_workers(session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    analyst = make_user(session, Role.ANALYST, "Ana")
    social = make_user(session, Role.SOCIAL_WORKER)
    case = make_case(session)
    casework.assign(session, case, analyst, actor_id=supervisor.id)
    assert case.assignee_id == analyst.id
    (event,) = events(session, AuditTag.CASE_ASSIGNED)
    assert event.details == {"from": None, "to": analyst.id, "to_name": "Ana"}
    assert event.actor_id == supervisor.id
    with pytest.raises(casework.CaseError) as refused:
        casework.assign(session, case, social, actor_id=supervisor.id)
    assert refused.value.code == "not_assignable"
    assert case.assignee_id == analyst.id
    # By name: "Ana" before "Test supervisor"; social workers are not offered.
    assert [u.id for u in casework.assignable_staff(session)] == [analyst.id, supervisor.id]


def test_notes_are_encrypted_at_rest_and_audited(session: Session, settings: Settings) -> None:
    cipher = field_cipher(settings)
    analyst = make_user(session)
    case = make_case(session)
    note = casework.add_note(
        session,
        case,
        "  Reporter sounded scared; call back.  ",
        author_id=analyst.id,
        cipher=cipher,
    )
    stored = session.scalar(select(CaseNote.body).where(CaseNote.id == note.id))
    assert stored is not None
    assert "scared" not in stored
    assert (
        cipher.decrypt(stored, purpose=Purpose.CASE_NOTE) == "Reporter sounded scared; call back."
    )
    (event,) = events(session, AuditTag.CASE_NOTE_ADDED)
    assert event.details == {"note": note.id}  # that a note was added, not what it says
    for bad in ("", "   ", "x" * (casework.MAX_NOTE_CHARS + 1)):
        with pytest.raises(casework.CaseError):
            casework.add_note(session, case, bad, author_id=analyst.id, cipher=cipher)


def view(session: Session, settings: Settings, case, *, show_contact: bool = True):  # type: ignore[no-untyped-def]
    return case_view.load_case_view(
        session,
        case,
        cipher=field_cipher(settings),
        matcher=MatchEngine(),
        max_distance=31,
        show_contact=show_contact,
    )


def test_contacts_are_decrypted_only_for_roles_that_see_them(
    session: Session, settings: Settings
) -> None:
    case = make_case(session, contact="line: sunny_day", cipher=field_cipher(settings))
    (shown,) = view(session, settings, case).reports
    assert (shown.contact, shown.contact_hidden) == ("line: sunny_day", False)
    (hidden,) = view(session, settings, case, show_contact=False).reports
    assert (hidden.contact, hidden.contact_hidden) == (None, True)


def test_media_show_their_bank_matches_with_distances(session: Session, settings: Settings) -> None:
    case = make_case(session, urls=["https://img.example/a.jpg"], files=1)
    url_item, file_item = case.items
    bank_verified(session, pdq(), md5("known file"))
    attach(session, url_item, pdq(flip_bits(PDQ_A, 4)))
    attach(session, file_item, md5("known file"), md5("unknown file"))
    items = {v.item.id: v for v in view(session, settings, case).items}
    (picture,) = items[url_item.id].media
    (device_file,) = items[file_item.id].media
    near, exact = picture.verified_match, device_file.verified_match
    assert near is not None and (near.distance, near.bank, near.category) == (4, "csam", "csam")
    assert exact is not None and exact.distance == 0
    assert exact.signal == md5("known file")
    assert len(device_file.signals) == 2
    assert items[url_item.id].platform == "img.example"


def test_an_unverified_match_is_not_a_reason_to_skip_looking(
    session: Session, settings: Settings
) -> None:
    case = make_case(session, files=1)
    (item,) = case.items
    attach(session, item, md5("reported elsewhere"))
    assert bank_unverified(session, md5("reported elsewhere")) == 1
    (media,) = {v.item.id: v for v in view(session, settings, case).items}[item.id].media
    assert [m.bank for m in media.matches] == ["self-reported"]
    assert media.verified_match is None


def test_the_timeline_tells_what_happened_but_not_who_looked(
    session: Session, settings: Settings
) -> None:
    analyst = make_user(session, name="Ana")
    case = make_case(session, urls=["https://img.example/a.jpg"])
    case_view.record_view(session, case, viewer_id=analyst.id)
    casework.change_status(session, case, CaseStatus.IN_REVIEW, actor_id=analyst.id)
    casework.add_note(session, case, "note", author_id=analyst.id, cipher=field_cipher(settings))
    timeline = view(session, settings, case).timeline
    assert [e.tag for e in timeline] == [
        AuditTag.CASE_NOTE_ADDED.value,
        AuditTag.CASE_STATUS_CHANGED.value,
    ]
    assert {e.actor_name for e in timeline} == {"Ana"}
    assert len(events(session, AuditTag.CASE_VIEWED)) == 1  # the trail keeps the view


def test_case_numbers_are_found_however_they_are_typed(session: Session) -> None:
    case = make_case(session)
    assert casework.find_case(session, case.number.lower().replace("-", " ")) is case
    assert casework.find_case(session, "not a number") is None
