"""``reclaim scan --case``: matched results become items of the case, once each."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Item
from reclaim.scanning.case_items import UnknownCaseError, attach_matches
from tests.support.cases import make_case
from tests.support.clock import FakeClock

MATCH = [{"entry": 1, "bank": "csam-verified", "category": "csam", "verified": True}]


def result(number: int, *, matched: bool = True, origin: str = "file") -> dict[str, Any]:
    return {
        "key": f"{origin}:/device/{number}.jpg",
        "source": f"/device/{number}.jpg"
        if origin == "file"
        else f"https://x.example/{number}.jpg",
        "origin": origin,
        "kind": "image",
        "md5": f"{number:032x}",
        "sha256": f"{number:064x}",
        "pdq": f"{number + 1:064x}",
        "quality": 90,
        "matches": MATCH if matched else [],
    }


def test_matched_files_become_items_once_however_often_attached(session: Session) -> None:
    case = make_case(session)
    clock = FakeClock()
    records = [result(1), result(2, matched=False), result(3, origin="url")]

    first = attach_matches(session, case.number, records, source="/scan", clock=clock)
    again = attach_matches(session, case.number, records, source="/scan", clock=clock)

    assert (first, again) == (2, 0)
    items = session.scalars(select(Item).where(Item.case_id == case.id)).all()
    kinds = sorted(i.kind for i in items)
    assert kinds == [ItemKind.FILE, ItemKind.URL]
    events = session.scalars(select(AuditEvent).where(AuditEvent.tag == "scan:items:added")).all()
    assert len(events) == 1


def test_an_unknown_case_is_refused(session: Session) -> None:
    with pytest.raises(UnknownCaseError):
        attach_matches(session, "RC-0000-0000", [result(1)], source="/scan", clock=FakeClock())
