"""Console routes for takedown as a whole: the supervisor's dashboard, the escalation
report and the platform directory (one notice and a case's notices: ``notices``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.documents.pdf import PdfUnavailableError
from reclaim.domain.times import local
from reclaim.partners import feedback
from reclaim.platforms.directory import LANGUAGES
from reclaim.platforms.editing import (
    PlatformChange,
    PlatformEditError,
    create_platform,
    update_platform,
)
from reclaim.platforms.models import Platform
from reclaim.referrals import referring
from reclaim.security.field_crypto import field_cipher
from reclaim.statistics import figures as statistics_figures
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.removal import RemovalFigures
from reclaim.takedown import escalation, notices, progress
from reclaim.takedown.domain import (
    OPEN_NOTICE_STATUSES,
    DeliveryStatus,
    NoticeStatus,
    PageOutcome,
)
from reclaim.takedown.models import Delivery, Notice, NoticePage
from reclaim.takedown.notices import NoticePolicy
from reclaim.web.common import current_time, wording_of
from reclaim.web.common import render as page
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import download, settings_of
from reclaim.web.console.responses import redirect as redirect_to

router = APIRouter()


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor.user(staff.user.id)


def _policy(request: Request) -> NoticePolicy:
    return NoticePolicy.from_settings(settings_of(request))


# --- the supervisor's dashboard and the escalation report ------------------------------


@router.get("/takedown", name="console.takedown")
def dashboard(request: Request, staff: Annotated[Staff, permitted("console.takedown")]) -> Response:
    now = current_time(request)
    open_notices = staff.db.scalars(
        select(Notice)
        .where(Notice.status.in_(OPEN_NOTICE_STATUSES))
        .options(selectinload(Notice.pages).selectinload(NoticePage.media))
        .order_by(Notice.deadline_at.is_(None), Notice.deadline_at)
    ).all()
    troubled = staff.db.scalars(
        select(Delivery)
        .where(Delivery.status.in_([s for s in DeliveryStatus if s.needs_a_person]))
        .order_by(Delivery.id)
    ).all()
    context: dict[str, Any] = {
        "active": "takedown",
        "figures": _platform_figures(staff.db, now, settings_of(request).zone),
        "open_notices": open_notices,
        "overdue": [n for n in open_notices if notices.is_overdue(n, now)],
        "troubled": troubled,
        "feedback": feedback.feedback_by_platform(staff.db),
        "changed": progress.changed_content(staff.db),
        "refused": [
            (notice, page)
            for notice in [*open_notices, *_refused_notices(staff)]
            for page in notice.pages
            if page.platform_outcome is PageOutcome.REFUSED
        ],
        "now": now,
        # Mandatory referrals (a minor's case, CYSEPA art. 7) not yet sent, by deadline.
        "referrals_due": referring.mandatory_due(staff.db),
        "referral_troubles": referring.troubled_deliveries(staff.db),
    }
    return page(request, "console/takedown.html", context)


def _platform_figures(session: Session, now: datetime, zone: ZoneInfo) -> list[RemovalFigures]:
    """Every platform's takedown figures since the first notice, from the statistics
    module (the counts the statistics page and the reports show), most overdue first."""
    first = session.scalar(select(func.min(Notice.sent_at)))
    if first is None:
        return []
    today = now.astimezone(zone).date()
    period = Period(min(first.astimezone(zone).date(), today), today, zone)
    rows = statistics_figures.removal(session, Filter(period), now)[:-1]  # no overall row
    return sorted(rows, key=lambda f: (-f.overdue, f.platform))


def _refused_notices(staff: Staff) -> list[Notice]:
    return list(
        staff.db.scalars(
            select(Notice)
            .where(Notice.status == NoticeStatus.REFUSED)
            .options(selectinload(Notice.pages))
            .order_by(Notice.id.desc())
            .limit(50)
        )
    )


REPORT_FORMATS = ("html", "csv", "pdf")


@router.get("/takedown/escalation.{fmt}", name="console.takedown.escalation")
def escalation_report(
    request: Request, fmt: str, staff: Annotated[Staff, permitted("console.takedown.escalation")]
) -> Response:
    if fmt not in REPORT_FORMATS:
        raise HTTPException(404, "formats: html, csv, pdf")
    now = current_time(request)
    # The staff member's language, or the one a download link asks for (?lang=en).
    wording = wording_of(request)
    try:
        body = escalation.export(
            staff.db,
            fmt,
            hotline=settings_of(request).hotline_name,
            wording=wording,
            actor=_actor(staff),
            now=now,
        )
    except PdfUnavailableError as exc:
        staff.db.rollback()
        raise HTTPException(503, str(exc)) from exc
    staff.db.commit()
    stamp = local(now, wording.zone)
    filename = f"reclaim-escalation-{stamp:%Y%m%d-%H%M}-{wording.language.value}.{fmt}"
    return download(body, filename, language=wording.language)


# --- the platform directory ------------------------------------------------------------


@router.get("/platforms", name="console.platforms")
def platform_list(
    request: Request, staff: Annotated[Staff, permitted("console.platforms")]
) -> Response:
    platforms = staff.db.scalars(
        select(Platform).options(selectinload(Platform.domains)).order_by(Platform.name)
    ).all()
    context = {"active": "platforms", "platforms": platforms, "notice_languages": LANGUAGES}
    return page(request, "console/platforms.html", context)


@router.post("/platforms", name="console.platforms.create")
def platform_create(
    request: Request,
    staff: Annotated[Staff, permitted("console.platforms.create")],
    *,
    name: Annotated[str, Form(max_length=200)] = "",
    domain: Annotated[str, Form(max_length=253)] = "",
    language: Annotated[str, Form()] = "en",
) -> Response:
    try:
        platform = create_platform(staff.db, name, domain, language=language, actor=_actor(staff))
    except PlatformEditError as exc:
        staff.db.rollback()
        platforms = staff.db.scalars(
            select(Platform).options(selectinload(Platform.domains)).order_by(Platform.name)
        ).all()
        context = {
            "active": "platforms",
            "platforms": platforms,
            "error": exc.field,
            "form": {"name": name, "domain": domain},
            "notice_languages": LANGUAGES,
        }
        return page(request, "console/platforms.html", context, 400)
    staff.db.commit()
    return redirect_to(f"/console/platforms/{platform.id}?saved=1")


@router.get("/platforms/{platform_id}", name="console.platform")
def platform_page(
    request: Request, platform_id: int, staff: Annotated[Staff, permitted("console.platform")]
) -> Response:
    return _platform_form(request, _platform_or_404(staff, platform_id))


def _platform_or_404(staff: Staff, platform_id: int) -> Platform:
    platform = staff.db.get(Platform, platform_id)
    if platform is None:
        raise HTTPException(404, "no such platform")
    return platform


def _platform_form(
    request: Request, platform: Platform, error: str | None = None, status: int = 200
) -> Response:
    context = {
        "active": "platforms",
        "platform": platform,
        "notice_languages": LANGUAGES,
        "error": error,
        "saved": request.query_params.get("saved") == "1",
    }
    return page(request, "console/platform.html", context, status)


@router.post("/platforms/{platform_id}", name="console.platform.update")
def platform_update(
    request: Request,
    platform_id: int,
    staff: Annotated[Staff, permitted("console.platform.update")],
    *,
    abuse_email: Annotated[str, Form(max_length=254)] = "",
    webhook_url: Annotated[str, Form(max_length=2048)] = "",
    webhook_secret: Annotated[str, Form(max_length=255)] = "",
    language: Annotated[str, Form()] = "en",
    jurisdiction: Annotated[str, Form(max_length=64)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    add_domain: Annotated[str, Form(max_length=253)] = "",
) -> Response:
    platform = _platform_or_404(staff, platform_id)
    change = PlatformChange(
        abuse_email=abuse_email,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        language=language,
        jurisdiction=jurisdiction,
        notes=notes,
        add_domain=add_domain,
    )
    try:
        update_platform(
            staff.db,
            platform,
            change,
            cipher=field_cipher(settings_of(request)),
            actor=_actor(staff),
        )
    except PlatformEditError as exc:
        staff.db.rollback()
        return _platform_form(request, _platform_or_404(staff, platform_id), exc.field, 400)
    staff.db.commit()
    return redirect_to(f"/console/platforms/{platform.id}?saved=1")
