"""Console routes for takedown: the platform directory, a case's notices, sending, the
supervisor's dashboard and the escalation report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reclaim import audit
from reclaim.cases import items
from reclaim.cases.models import Item
from reclaim.partners import feedback
from reclaim.platforms.directory import LANGUAGES
from reclaim.platforms.editing import PlatformChange, PlatformEditError, update_platform
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import field_cipher
from reclaim.takedown import escalation, notices, progress
from reclaim.takedown.domain import OPEN_NOTICE_STATUSES, DeliveryStatus
from reclaim.takedown.models import Delivery, Notice, NoticeItem, Verification
from reclaim.takedown.notices import NoticeError, NoticePolicy
from reclaim.takedown.rendering import render_notice
from reclaim.web.common import current_time, state_of
from reclaim.web.common import render as page
from reclaim.web.console.auth import Staff
from reclaim.web.console.cases import case_or_404, may
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect as redirect_to
from reclaim.web.console.responses import settings_of

router = APIRouter()


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor.user(staff.user.id)


def _policy(request: Request) -> NoticePolicy:
    return NoticePolicy.from_settings(settings_of(request))


# --- a case's notices ------------------------------------------------------------------


@router.get("/cases/{number}/notices", name="console.case.notices")
def case_notices(
    request: Request, number: str, staff: Annotated[Staff, permitted("console.case.notices")]
) -> Response:
    case = case_or_404(staff, number)
    existing = staff.db.scalars(
        select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)
    ).all()
    noticeable = notices.noticeable_items(staff.db, case, _policy(request))
    context: dict[str, Any] = {
        "active": "queue",
        "case": case,
        "notices": existing,
        "ready": [i for i in noticeable if i.platform_id is not None],
        "unassigned": [i for i in noticeable if i.platform_id is None],
        "platforms": staff.db.scalars(select(Platform).order_by(Platform.name)).all(),
        "can_send": may(staff, "console.notice.send"),
        "message": request.query_params.get("done"),
    }
    return page(request, "console/case_notices.html", context)


@router.post("/cases/{number}/notices", name="console.case.notices.draft")
def draft(
    request: Request, number: str, staff: Annotated[Staff, permitted("console.case.notices.draft")]
) -> Response:
    case = case_or_404(staff, number)
    drafts = notices.draft_notices(staff.db, case, _policy(request), actor=_actor(staff))
    staff.db.commit()
    return redirect_to(f"/console/cases/{case.number}/notices?done=drafted-{len(drafts)}")


@router.post("/items/{item_id}/platform", name="console.item.platform")
def assign_platform(
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.platform")],
    platform_id: Annotated[int, Form()],
) -> Response:
    item = staff.db.get(Item, item_id)
    platform = staff.db.get(Platform, platform_id)
    if item is None or platform is None:
        raise HTTPException(404, "no such item or platform")
    items.assign_platform(staff.db, item, platform, actor=_actor(staff))
    return _item_changed(staff, item)


@router.post("/items/{item_id}/posted-by", name="console.item.posted_by")
def set_posted_by(
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.posted_by")],
    posted_by: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """The account that posted an item, when known: notices quote it."""
    item = staff.db.get(Item, item_id)
    if item is None:
        raise HTTPException(404, "no such item")
    items.set_posted_by(staff.db, item, posted_by, actor=_actor(staff))
    return _item_changed(staff, item)


def _item_changed(staff: Staff, item: Item) -> Response:
    """Commit a change to an item, then back to its case's notices."""
    staff.db.commit()
    return redirect_to(f"/console/cases/{item.case.number}/notices")


# --- one notice ------------------------------------------------------------------------


def _notice_or_404(staff: Staff, notice_id: int) -> Notice:
    notice = staff.db.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, "no such notice")
    return notice


@router.get("/notices/{notice_id}", name="console.notice")
def notice_page(
    request: Request, notice_id: int, staff: Annotated[Staff, permitted("console.notice")]
) -> Response:
    notice = _notice_or_404(staff, notice_id)
    rendered = render_notice(staff.db, notice, settings_of(request))
    deliveries = staff.db.scalars(
        select(Delivery).where(Delivery.notice_id == notice.id).order_by(Delivery.id)
    ).all()
    checks = staff.db.execute(
        select(Verification, NoticeItem)
        .join(NoticeItem, Verification.notice_item_id == NoticeItem.id)
        .where(NoticeItem.notice_id == notice.id)
        .order_by(Verification.checked_at)
    ).all()
    context: dict[str, Any] = {
        "active": "takedown",
        "notice": notice,
        "rendered": rendered,
        "deliveries": deliveries,
        "checks": checks,
        "channels": notices.channels_of(notice.platform),
        "can_send": may(staff, "console.notice.send"),
        "overdue": notices.is_overdue(notice, current_time(request)),
        "error": request.query_params.get("error"),
    }
    return page(request, "console/notice.html", context)


@router.post("/notices/{notice_id}/send", name="console.notice.send")
def send_notice(
    request: Request, notice_id: int, staff: Annotated[Staff, permitted("console.notice.send")]
) -> Response:
    notice = _notice_or_404(staff, notice_id)
    try:
        notices.queue_notice(staff.db, notice, actor=_actor(staff))
    except (NoticeError, ValueError) as exc:
        staff.db.rollback()
        error = "no-contact" if isinstance(exc, NoticeError) else "not-draft"
        return redirect_to(f"/console/notices/{notice_id}?error={error}")
    staff.db.commit()
    # Send now rather than at the next minute's run.
    state_of(request).huey.reclaim_tasks.takedown.deliver_notices()
    return redirect_to(f"/console/notices/{notice_id}")


# --- the supervisor's dashboard and the escalation report ------------------------------


@router.get("/takedown", name="console.takedown")
def dashboard(request: Request, staff: Annotated[Staff, permitted("console.takedown")]) -> Response:
    now = current_time(request)
    open_notices = staff.db.scalars(
        select(Notice)
        .where(Notice.status.in_(OPEN_NOTICE_STATUSES))
        .options(selectinload(Notice.items))
        .order_by(Notice.deadline_at.is_(None), Notice.deadline_at)
    ).all()
    troubled = staff.db.scalars(
        select(Delivery)
        .where(Delivery.status.in_([s for s in DeliveryStatus if s.needs_a_person]))
        .order_by(Delivery.id)
    ).all()
    context: dict[str, Any] = {
        "active": "takedown",
        "figures": progress.platform_figures(staff.db, now),
        "open_notices": open_notices,
        "overdue": [n for n in open_notices if notices.is_overdue(n, now)],
        "troubled": troubled,
        "feedback": feedback.feedback_by_platform(staff.db),
        "changed": progress.changed_content(staff.db),
        "now": now,
    }
    return page(request, "console/takedown.html", context)


REPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get("/takedown/escalation.{fmt}", name="console.takedown.escalation")
def escalation_report(
    request: Request, fmt: str, staff: Annotated[Staff, permitted("console.takedown.escalation")]
) -> Response:
    if fmt not in REPORT_TYPES:
        raise HTTPException(404, "formats: html, csv, pdf")
    now = current_time(request)
    body = escalation.export(
        staff.db, fmt, hotline=settings_of(request).hotline_name, actor=_actor(staff), now=now
    )
    staff.db.commit()
    filename = f"reclaim-escalation-{now:%Y%m%d-%H%M}.{fmt}"
    return Response(
        body,
        media_type=REPORT_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )


# --- the platform directory ------------------------------------------------------------


@router.get("/platforms", name="console.platforms")
def platform_list(
    request: Request, staff: Annotated[Staff, permitted("console.platforms")]
) -> Response:
    platforms = staff.db.scalars(
        select(Platform).options(selectinload(Platform.domains)).order_by(Platform.name)
    ).all()
    return page(request, "console/platforms.html", {"active": "platforms", "platforms": platforms})


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
