"""Stale marks: every change to a row the figures count marks the moment its figures
are attributed to, so a monthly rollup computed before it is no longer used.

A rollup is a month of figures computed once; the rows behind it keep changing after
the month closes (a page removed weeks after its notice was sent, a case looked at or
decided later, a picture uploaded again, a decision that changes an item's type).  An
ORM listener on every session's flush writes, for each changed row, the moment it is
counted under — a case's or report's creation, a notice's sending, a bank entry's
addition or withdrawal — into
``statistics_stale_marks`` in the same transaction; ``rollups.valid`` ignores a rollup
with a mark inside its month made after (or shortly before) it was computed, and the
periodic job computes it again.

Bulk writes that bypass the ORM (the synthetic history's INSERTs) call
``mark_everything_rolled_up``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, event, exists, insert, inspect, select
from sqlalchemy.orm import Session

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.models import Case, Decision, Item, MediaSignal, Report
from reclaim.platforms.models import Platform
from reclaim.statistics.models import Rollup, StaleMark
from reclaim.takedown.models import Notice, NoticeMedia, NoticePage

EVERYTHING = None  # an anchor for a change every month depends on (a name changed)


def _value(instance: Any, name: str) -> Any:
    """An attribute's value without loading it (None when not loaded)."""
    return inspect(instance).dict.get(name)


def _previous(instance: Any, name: str) -> list[Any]:
    history = inspect(instance).attrs[name].history
    return [value for value in (history.deleted or ()) if value is not None]


def _anchors(session: Session, changed: Iterable[Any]) -> set[datetime | None]:  # noqa: C901, PLR0912 - a branch per table
    found: set[datetime | None] = set()
    case_ids: set[int] = set()
    item_ids: set[int] = set()
    notice_ids: set[int] = set()
    page_ids: set[int] = set()
    signal_ids: set[int] = set()
    for row in changed:
        if isinstance(row, Case):
            found.add(_value(row, "created_at"))
            if row.id is not None:
                case_ids.add(row.id)  # its reports (the urgent filter reads the case)
        elif isinstance(row, Report):
            found.add(_value(row, "created_at"))
        elif isinstance(row, Item):
            found.update(
                session.execute(
                    select(Case.created_at).where(Case.id == _value(row, "case_id"))
                ).scalars()
            )
            found.update(
                session.execute(
                    select(Report.created_at).where(Report.id == _value(row, "report_id"))
                ).scalars()
            )
        elif isinstance(row, Decision):
            item_ids.add(_value(row, "item_id"))
        elif isinstance(row, AuditEvent):
            if _value(row, "tag") == AuditTag.CASE_VIEWED.value:
                found.update(
                    session.execute(
                        select(Case.created_at).where(Case.id == _value(row, "target_id"))
                    ).scalars()
                )
        elif isinstance(row, Notice):
            found.add(_value(row, "sent_at"))
            found.update(_previous(row, "sent_at"))
        elif isinstance(row, NoticePage):
            notice_ids.add(_value(row, "notice_id"))
        elif isinstance(row, NoticeMedia):
            page_ids.add(_value(row, "notice_page_id"))
        elif isinstance(row, MediaSignal):
            signal_ids.add(_value(row, "signal_id"))
        elif isinstance(row, BankEntry):
            for name in ("added_at", "withdrawn_at"):
                found.add(_value(row, name))
                found.update(_previous(row, name))
        elif isinstance(row, (Platform, Bank)):
            found.add(EVERYTHING)
    if case_ids:
        found.update(
            session.execute(select(Report.created_at).where(Report.case_id.in_(case_ids))).scalars()
        )
    if item_ids:
        found.update(
            session.execute(
                select(Case.created_at)
                .join(Item, Item.case_id == Case.id)
                .where(Item.id.in_(item_ids))
            ).scalars()
        )
    if page_ids:
        notice_ids.update(
            session.execute(
                select(NoticePage.notice_id).where(NoticePage.id.in_(page_ids))
            ).scalars()
        )
    if signal_ids:  # a picture seen again: the notices that had it removed
        found.update(
            session.execute(
                select(Notice.sent_at)
                .join(NoticePage, NoticePage.notice_id == Notice.id)
                .join(NoticeMedia, NoticeMedia.notice_page_id == NoticePage.id)
                .join(MediaSignal, MediaSignal.media_id == NoticeMedia.media_id)
                .where(MediaSignal.signal_id.in_(signal_ids))
            ).scalars()
        )
    notice_ids.discard(None)  # type: ignore[arg-type, unused-ignore]
    if notice_ids:
        found.update(
            session.execute(select(Notice.sent_at).where(Notice.id.in_(notice_ids))).scalars()
        )
    return found


COUNTED = (
    Case,
    Report,
    Item,
    Decision,
    AuditEvent,
    Notice,
    NoticePage,
    NoticeMedia,
    MediaSignal,
    BankEntry,
)
NAMED = (Platform, Bank)  # a new name changes every month's rows


def _after_flush(session: Session, _context: Any) -> None:
    changed = [
        row
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, COUNTED)
        or (isinstance(row, NAMED) and row in session.dirty and _renamed(row))
    ]
    if not changed:
        return
    anchors = _anchors(session, changed)
    if EVERYTHING not in anchors:
        anchors = {a for a in anchors if a is not None}
        if not anchors:
            return
    write(session, anchors)


def _renamed(named: Platform | Bank) -> bool:
    state: Any = inspect(named)
    return bool(state.attrs["name"].history.deleted)


def write(session: Session, anchors: Iterable[datetime | None]) -> None:
    now = datetime.now(UTC)
    session.execute(
        insert(cast(Table, StaleMark.__table__)),
        [{"anchor_at": anchor, "marked_at": now} for anchor in anchors],
    )


def mark_everything_rolled_up(session: Session) -> None:
    """Every rollup there is is stale (after writes that bypass the ORM)."""
    if session.scalar(select(exists().where(Rollup.id.is_not(None)))):
        write(session, [EVERYTHING])


event.listen(Session, "after_flush", _after_flush)
