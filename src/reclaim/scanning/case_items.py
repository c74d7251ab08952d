"""``reclaim scan --case``: a scan's matches become items of a case (for a referral).

Only matched files are attached, each once however often the scan is resumed: a file
whose SHA-256 is already a media object of the case is skipped.  Files become file
items (hashes only, as from a reporter's device: the bytes stay where they were);
URLs become URL items on their page, as a reporter's URL would.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.recording import Actor, record
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.casework import find_case
from reclaim.cases.domain import ItemKind, MediaKind
from reclaim.cases.models import Item, Media, MediaSignal
from reclaim.cases.pages import attach_signals, device_media, fetched_media, page_for
from reclaim.domain.clock import Clock
from reclaim.domain.signals import Signal, SignalType
from reclaim.scanning.parts import Record


class UnknownCaseError(ValueError):
    """No case has the number given to ``--case``."""


def attach_matches(
    session: Session,
    case_number: str,
    records: Iterable[Record],
    *,
    source: str,
    clock: Clock,
) -> int:
    """Add an item for each matched record not yet in the case; return how many."""
    case = find_case(session, case_number)
    if case is None:
        raise UnknownCaseError(f"no case is numbered {case_number}")
    now = clock()
    known = _case_sha256(session, case.id)
    added = []
    for result in records:
        if result.get("error") or not result.get("matches") or result["sha256"] in known:
            continue
        kind = MediaKind(result["kind"])
        if result.get("origin") == "url":
            page = page_for(session, result["source"], now=now)
            item = Item(case_id=case.id, kind=ItemKind.URL, url=result["source"], page_id=page.id)
            session.add(item)
            media = fetched_media(
                session, page, url=result["source"], sha256=result["sha256"], kind=kind, now=now
            )
        else:
            item = Item(case_id=case.id, kind=ItemKind.FILE, media_kind=kind)
            session.add(item)
            media = device_media(item, kind, now=now)
        session.flush()
        attach_signals(session, media, _signals(result), now=now)
        known.add(result["sha256"])
        added.append(item.id)
    if added:
        record(
            session,
            AuditTag.SCAN_ITEMS_ADDED,
            actor=Actor(ActorKind.OPERATOR),
            target=(TargetKind.CASE, case.id),
            details={"items": added, "scan": source},
            clock=clock,
        )
    return len(added)


def _signals(result: Record) -> list[tuple[Signal, int | None]]:
    found: list[tuple[Signal, int | None]] = [
        (Signal(SignalType.MD5, result["md5"]), None),
        (Signal(SignalType.SHA256, result["sha256"]), None),
    ]
    if result.get("pdq"):
        found.append((Signal(SignalType.PDQ, result["pdq"]), result.get("quality")))
    return found


def _case_sha256(session: Session, case_id: int) -> set[str]:
    device = select(Media.id).join(Item, Item.id == Media.item_id).where(Item.case_id == case_id)
    linked = set(session.scalars(device))
    pages = (
        select(Media.id).join(Item, Item.page_id == Media.page_id).where(Item.case_id == case_id)
    )
    linked.update(session.scalars(pages))
    if not linked:
        return set()
    rows = session.scalars(
        select(SignalRow.value)
        .join(MediaSignal, MediaSignal.signal_id == SignalRow.id)
        .where(MediaSignal.media_id.in_(linked), SignalRow.type == SignalType.SHA256)
    )
    return set(rows)


__all__ = ["UnknownCaseError", "attach_matches"]
