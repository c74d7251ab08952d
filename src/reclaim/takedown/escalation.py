"""Overdue notices and the escalation report for the competent authority.

A notice is overdue when its deadline has passed and the platform has not removed
everything: still open, refused (with the platform's reasons) or expired.  The report
lists, per notice: the items, every delivery attempt (the notice history) and every
verification, so an authority can see what was asked, when, and what the platform did.
It is produced as HTML, CSV and PDF (reportlab, with the built-in Traditional Chinese
CID font, so no font file is needed).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import OPEN_NOTICE_STATUSES, MediaOutcome, NoticeStatus
from reclaim.takedown.models import Delivery, DeliveryAttempt, Notice, NoticePage, Verification

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    what: str


@dataclass(frozen=True, slots=True)
class EscalatedItem:
    """One noticed page: what checks found, what the platform said, which decided
    pictures on it are still up."""

    url: str
    category: str
    outcome: str
    removed_at: datetime | None
    verifications: list[HistoryLine]
    platform_outcome: str | None = None
    platform_reason: str | None = None
    media_up: list[str] = field(default_factory=list)
    media_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EscalatedNotice:
    reference: str
    platform: str
    status: str
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
        history = [HistoryLine(notice.created_at, "notice drafted")]
        if notice.sent_at:
            history.append(HistoryLine(notice.sent_at, "notice delivered"))
        attempts = session.execute(
            select(DeliveryAttempt, Delivery)
            .join(Delivery, DeliveryAttempt.delivery_id == Delivery.id)
            .where(Delivery.notice_id == notice.id)
            .order_by(DeliveryAttempt.started_at)
        )
        for attempt, delivery in attempts:
            history.append(
                HistoryLine(
                    attempt.started_at,
                    f"{delivery.purpose.value} by {delivery.channel.value}: {attempt.outcome.value}"
                    + (f" ({attempt.detail})" if attempt.detail else ""),
                )
            )
        if notice.acknowledged_at:
            history.append(HistoryLine(notice.acknowledged_at, "acknowledged by the platform"))
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
                    category=noticed.classification.value,
                    outcome=noticed.outcome.value,
                    removed_at=noticed.removed_at,
                    verifications=[
                        HistoryLine(
                            v.checked_at,
                            v.outcome.value + (f" (HTTP {v.http_status})" if v.http_status else ""),
                        )
                        for v in checks
                    ],
                    platform_outcome=(
                        noticed.platform_outcome.value if noticed.platform_outcome else None
                    ),
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
                status=notice.status.value,
                sent_at=notice.sent_at,
                deadline_at=notice.deadline_at,
                overdue_by=now - notice.deadline_at if notice.deadline_at else None,
                items=items,
                history=sorted(history, key=lambda h: h.at),
            )
        )
    return report


def to_html(report: EscalationReport) -> str:
    return _templates.get_template("escalation.html").render(report=report)


CSV_COLUMNS = (
    "notice",
    "platform",
    "status",
    "sent_at",
    "deadline",
    "overdue_hours",
    "url",
    "category",
    "item_outcome",
    "removed_at",
    "checks",
    "last_check",
    "platform_answer",
    "platform_reason",
    "pictures_still_up",
)


def to_csv(report: EscalationReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for notice in report.notices:
        for item in notice.items:
            last = item.verifications[-1] if item.verifications else None
            writer.writerow(
                [
                    notice.reference,
                    _safe(notice.platform),
                    notice.status,
                    _iso(notice.sent_at),
                    _iso(notice.deadline_at),
                    round(notice.overdue_by.total_seconds() / 3600, 1) if notice.overdue_by else "",
                    _safe(item.url),
                    item.category,
                    item.outcome,
                    _iso(item.removed_at),
                    len(item.verifications),
                    f"{_iso(last.at)} {last.what}" if last else "",
                    item.platform_outcome or "",
                    _safe(item.platform_reason or ""),
                    _safe(" ".join(item.media_up)),
                ]
            )
    return out.getvalue()


def to_pdf(report: EscalationReport) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = "MSung-Light"  # Traditional Chinese, supplied by the PDF viewer
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "BodyText"):
        styles[name].fontName = font
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Escalation report {report.generated_at:%Y-%m-%d}",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    flow = [
        Paragraph(escape(f"{report.hotline}: overdue removal notices"), styles["Title"]),
        Paragraph(escape(f"Generated {_iso(report.generated_at)}"), styles["BodyText"]),
        Spacer(1, 6 * mm),
    ]
    for notice in report.notices:
        overdue = (
            f", overdue by {notice.overdue_by.total_seconds() / 3600:.1f} h"
            if notice.overdue_by
            else ""
        )
        flow.append(
            Paragraph(escape(f"{notice.reference} — {notice.platform}"), styles["Heading2"])
        )
        flow.append(
            Paragraph(
                escape(
                    f"Status {notice.status}; sent {_iso(notice.sent_at)}; deadline "
                    f"{_iso(notice.deadline_at)}{overdue}"
                ),
                styles["BodyText"],
            )
        )
        for item in notice.items:
            flow.append(
                Paragraph(
                    escape(
                        f"• {item.url} ({item.category}): {item.outcome}; "
                        f"{len(item.verifications)} checks" + _last_check(item)
                    ),
                    styles["BodyText"],
                )
            )
        for line in notice.history:
            flow.append(Paragraph(escape(f"{_iso(line.at)}  {line.what}"), styles["BodyText"]))
        flow.append(Spacer(1, 4 * mm))
    document.build(flow)
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _last_check(item: EscalatedItem) -> str:
    if not item.verifications:
        return ""
    last = item.verifications[-1]
    return f", last {_iso(last.at)} {last.what}"


def export(
    session: Session, fmt: str, *, hotline: str, actor: audit.Actor, now: datetime
) -> str | bytes:
    """The report on what is overdue now, as ``html``, ``csv`` or ``pdf``; audited."""
    report = build_report(session, overdue_notices(session, now), now=now, hotline=hotline)
    body: str | bytes
    if fmt == "html":
        body = to_html(report)
    elif fmt == "csv":
        body = to_csv(report)
    else:
        body = to_pdf(report)
    audit.record(
        session,
        AuditTag.ESCALATION_EXPORTED,
        actor=actor,
        details={"format": fmt, "notices": [n.reference for n in report.notices]},
        clock=lambda: now,
    )
    return body
