"""Overdue notices and the escalation report for the competent authority.

A notice is overdue when its deadline has passed and the platform has not removed
everything: still open, refused (with the platform's reasons) or expired.  The report
lists, per notice: the pages (with the decided pictures still up), every delivery
attempt (the notice history), every verification and what the platform answered, so an
authority can see what was asked, when, and what the platform did.

The report is built once as data (the dataclasses below: statuses as enum members,
sentences as :class:`~reclaim.documents.words.Text`, times as aware UTC) and rendered
in the reader's language, on the operator's clock, by ``reclaim.documents``: HTML and
PDF from one template (``templates/escalation.html``), and a CSV for spreadsheets.  A
field added to the dataclasses shows up in every format once the template and
``_csv_rows`` name it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.cases.domain import Classification
from reclaim.documents import templates
from reclaim.documents.pdf import html_to_pdf
from reclaim.documents.spreadsheet import Cell, csv_for_people
from reclaim.documents.words import Text, Wording, _
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import OPEN_NOTICE_STATUSES, MediaOutcome, NoticeStatus, PageOutcome
from reclaim.takedown.models import Delivery, DeliveryAttempt, Notice, NoticePage, Verification

_templates = templates.environment(Path(__file__).parent / "templates")


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    what: Text


@dataclass(frozen=True, slots=True)
class EscalatedItem:
    """One noticed page: what checks found, what the platform said (its reason is its
    own words, shown as they are), which decided pictures on it are still up."""

    url: str
    category: Classification
    outcome: PageOutcome
    removed_at: datetime | None
    verifications: list[HistoryLine]
    platform_outcome: PageOutcome | None = None
    platform_reason: str | None = None
    media_up: list[str] = field(default_factory=list)
    media_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EscalatedNotice:
    reference: str
    platform: str
    status: NoticeStatus
    sent_at: datetime | None
    deadline_at: datetime | None
    overdue_by: timedelta | None
    items: list[EscalatedItem]
    history: list[HistoryLine]


@dataclass(frozen=True, slots=True)
class EscalationReport:
    generated_at: datetime
    hotline: str
    notices: list[EscalatedNotice] = field(default_factory=list)

    @property
    def per_platform(self) -> list[tuple[str, int]]:
        return Counter(n.platform for n in self.notices).most_common()


def overdue_notices(
    session: Session, now: datetime, *, platform_id: int | None = None
) -> list[Notice]:
    statement = (
        select(Notice)
        .where(
            Notice.deadline_at <= now,
            Notice.status.in_([*OPEN_NOTICE_STATUSES, NoticeStatus.REFUSED, NoticeStatus.EXPIRED]),
        )
        .options(selectinload(Notice.pages).selectinload(NoticePage.media))
        .order_by(Notice.deadline_at)
    )
    if platform_id is not None:
        statement = statement.where(Notice.platform_id == platform_id)
    return list(session.scalars(statement))


def overdue_by_platform(session: Session, now: datetime) -> list[tuple[Platform, int]]:
    counts = Counter(n.platform_id for n in overdue_notices(session, now))
    platforms = {p.id: p for p in session.scalars(select(Platform).where(Platform.id.in_(counts)))}
    return sorted(((platforms[i], c) for i, c in counts.items()), key=lambda pc: -pc[1])


def build_report(
    session: Session, notices: list[Notice], *, now: datetime, hotline: str
) -> EscalationReport:
    report = EscalationReport(generated_at=now, hotline=hotline)
    for notice in notices:
        history = [HistoryLine(notice.created_at, Text(_("Notice drafted")))]
        if notice.sent_at:
            history.append(HistoryLine(notice.sent_at, Text(_("Notice delivered"))))
        attempts = session.execute(
            select(DeliveryAttempt, Delivery)
            .join(Delivery, DeliveryAttempt.delivery_id == Delivery.id)
            .where(Delivery.notice_id == notice.id)
            .order_by(DeliveryAttempt.started_at)
        )
        for attempt, delivery in attempts:
            what = Text(
                _("%(purpose)s by %(channel)s: %(outcome)s")
                if not attempt.detail
                else _("%(purpose)s by %(channel)s: %(outcome)s (%(detail)s)"),
                purpose=delivery.purpose,
                channel=delivery.channel,
                outcome=attempt.outcome,
                detail=attempt.detail or "",
            )
            history.append(HistoryLine(attempt.started_at, what))
        if notice.acknowledged_at:
            history.append(
                HistoryLine(notice.acknowledged_at, Text(_("Acknowledged by the platform")))
            )
        items = []
        for noticed in notice.pages:
            checks = session.scalars(
                select(Verification)
                .where(Verification.notice_page_id == noticed.id)
                .order_by(Verification.checked_at)
            )
            items.append(
                EscalatedItem(
                    url=noticed.page.url,
                    category=noticed.classification,
                    outcome=noticed.outcome,
                    removed_at=noticed.removed_at,
                    verifications=[HistoryLine(v.checked_at, _checked(v)) for v in checks],
                    platform_outcome=noticed.platform_outcome,
                    platform_reason=noticed.platform_reason,
                    media_up=[
                        m.media.url or "?"
                        for m in noticed.media
                        if m.outcome is not MediaOutcome.REMOVED
                    ],
                    media_removed=[
                        m.media.url or "?"
                        for m in noticed.media
                        if m.outcome is MediaOutcome.REMOVED
                    ],
                )
            )
        report.notices.append(
            EscalatedNotice(
                reference=notice.reference,
                platform=notice.platform.name,
                status=notice.status,
                sent_at=notice.sent_at,
                deadline_at=notice.deadline_at,
                overdue_by=now - notice.deadline_at if notice.deadline_at else None,
                items=items,
                history=sorted(history, key=lambda h: h.at),
            )
        )
    return report


def _checked(check: Verification) -> Text:
    if check.http_status:
        return Text(
            _("%(outcome)s (HTTP %(status)s)"), outcome=check.outcome, status=check.http_status
        )
    return Text(_("%(outcome)s"), outcome=check.outcome)


# --- rendering -------------------------------------------------------------------------


def to_html(report: EscalationReport, wording: Wording) -> str:
    """The report as a self-contained HTML document (also the source of the PDF)."""
    return templates.render(_templates, "escalation.html", wording, report=report)


def to_pdf(report: EscalationReport, wording: Wording) -> bytes:
    return html_to_pdf(to_html(report, wording))


def to_csv(report: EscalationReport, wording: Wording) -> bytes:
    """One row per noticed URL, for a spreadsheet (UTF-8 with BOM, no formulas)."""
    say, zone = wording.say, wording.zone.key
    header = [
        say(_("Notice")),
        say(_("Platform")),
        say(_("Notice status")),
        say(_("Sent (%(zone)s)"), zone=zone),
        say(_("Deadline (%(zone)s)"), zone=zone),
        say(_("Hours overdue")),
        say(_("URL")),
        say(_("Category")),
        say(_("Removal")),
        say(_("Removed (%(zone)s)"), zone=zone),
        say(_("Checks")),
        say(_("Last check (%(zone)s)"), zone=zone),
        say(_("Last check result")),
        say(_("The platform's answer")),
        say(_("The platform's reason")),
        say(_("Pictures still up")),
    ]
    return csv_for_people(header, _csv_rows(report, wording))


def _csv_rows(report: EscalationReport, wording: Wording) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    time = wording.spreadsheet_time
    for notice in report.notices:
        overdue = round(notice.overdue_by.total_seconds() / 3600, 1) if notice.overdue_by else None
        for item in notice.items:
            last = item.verifications[-1] if item.verifications else None
            rows.append(
                [
                    notice.reference,
                    notice.platform,
                    wording.label(notice.status),
                    time(notice.sent_at),
                    time(notice.deadline_at),
                    overdue,
                    item.url,
                    wording.label(item.category),
                    wording.label(item.outcome),
                    time(item.removed_at),
                    len(item.verifications),
                    time(last.at) if last else "",
                    wording.text(last.what) if last else "",
                    wording.label(item.platform_outcome) if item.platform_outcome else "",
                    item.platform_reason or "",
                    " ".join(item.media_up),
                ]
            )
    return rows


def export(
    session: Session,
    fmt: str,
    *,
    hotline: str,
    wording: Wording,
    actor: audit.Actor,
    now: datetime,
) -> str | bytes:
    """The report on what is overdue now, as ``html``, ``csv`` or ``pdf``, in the
    wording's language; audited."""
    report = build_report(session, overdue_notices(session, now), now=now, hotline=hotline)
    body: str | bytes
    if fmt == "html":
        body = to_html(report, wording)
    elif fmt == "csv":
        body = to_csv(report, wording)
    else:
        body = to_pdf(report, wording)
    audit.record(
        session,
        AuditTag.ESCALATION_EXPORTED,
        actor=actor,
        details={
            "format": fmt,
            "language": wording.language.value,
            "notices": [n.reference for n in report.notices],
        },
        clock=lambda: now,
    )
    return body
