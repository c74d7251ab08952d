"""Console routes for notices: a case's notices, drafting, one notice, sending, the
platform's answers (recorded from an email reply) and "check now"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from reclaim import audit
from reclaim.cases import items
from reclaim.cases.models import Item
from reclaim.cases.review import fetch_policy
from reclaim.domain.states import IllegalTransitionError
from reclaim.fetching import SafeFetcher
from reclaim.platforms.models import Platform
from reclaim.takedown import answers, notices, pending, verification
from reclaim.takedown.account_notices import cited_cases
from reclaim.takedown.case_progress import cases_of_pages
from reclaim.takedown.domain import ResolveOutcome
from reclaim.takedown.models import Delivery, Notice, NoticePage, Verification
from reclaim.takedown.notices import NoticeError, NoticePolicy
from reclaim.takedown.rendering import render_notice
from reclaim.web.common import current_time, state_of
from reclaim.web.common import render as page
from reclaim.web.console.auth import Staff
from reclaim.web.console.cases import case_or_404
from reclaim.web.console.permissions import may, permitted
from reclaim.web.console.responses import redirect as redirect_to
from reclaim.web.console.responses import settings_of

router = APIRouter()

#: What a supervisor can record from a platform's email reply.
ANSWERS = ("acknowledged", "removed", "refused")


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
    waiting = pending.pending_pages(staff.db, case)
    context: dict[str, Any] = {
        "active": "queue",
        "case": case,
        "notices": notices.notices_of_case(staff.db, case),
        "ready": [p for p in waiting if p.page.platform_id is not None and not p.conflicts],
        "held": [p for p in waiting if p.conflicts],
        "unassigned": pending.items_without_platform(case),
        "accounts": pending.account_items(staff.db, case),
        "url_items": [item for item in case.items if item.page is not None],
        "platforms": staff.db.scalars(select(Platform).order_by(Platform.name)).all(),
        "can_send": may(staff, "console.notice.send"),
        "message": request.query_params.get("done"),
        "error": request.query_params.get("error"),
    }
    return page(request, "console/case_notices.html", context)


@router.post("/cases/{number}/notices", name="console.case.notices.draft")
def draft(
    request: Request, number: str, staff: Annotated[Staff, permitted("console.case.notices.draft")]
) -> Response:
    case = case_or_404(staff, number)
    drafts = notices.draft_notices(
        staff.db, case, _policy(request), actor=_actor(staff), clock=state_of(request).clock
    )
    staff.db.commit()
    return redirect_to(f"/console/cases/{case.number}/notices?done=drafted-{len(drafts)}")


@router.post("/items/{item_id}/account-notice", name="console.case.notices.account")
def draft_account_notice(
    request: Request,
    item_id: int,
    staff: Annotated[Staff, permitted("console.case.notices.account")],
) -> Response:
    """An account notice for an offender's profile page (sextortion or grooming)."""
    item = _item_or_404(staff, item_id)
    try:
        notice = notices.draft_account_notice(
            staff.db, item, actor=_actor(staff), clock=state_of(request).clock
        )
    except NoticeError:
        staff.db.rollback()
        return redirect_to(f"/console/cases/{item.case.number}/notices?error=account")
    staff.db.commit()
    return redirect_to(f"/console/notices/{notice.id}")


def _item_or_404(staff: Staff, item_id: int) -> Item:
    item = staff.db.get(Item, item_id)
    if item is None:
        raise HTTPException(404, "no such item")
    return item


@router.post("/items/{item_id}/platform", name="console.item.platform")
def assign_platform(
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.platform")],
    platform_id: Annotated[int, Form()],
) -> Response:
    item = _item_or_404(staff, item_id)
    platform = staff.db.get(Platform, platform_id)
    if platform is None or item.page is None:
        raise HTTPException(404, "no such platform, or the item is not a URL")
    items.assign_platform(staff.db, item, platform, actor=_actor(staff))
    return _item_changed(staff, item)


@router.post("/items/{item_id}/posted-by", name="console.item.posted_by")
def set_posted_by(
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.posted_by")],
    posted_by: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """The account that posted an item, when known: notices quote it."""
    item = _item_or_404(staff, item_id)
    items.set_posted_by(staff.db, item, posted_by, actor=_actor(staff))
    return _item_changed(staff, item)


def _item_changed(staff: Staff, item: Item) -> Response:
    """Commit a change to an item, then back to its case's notices."""
    staff.db.commit()
    return redirect_to(f"/console/cases/{item.case.number}/notices")


# --- one notice ------------------------------------------------------------------------


def _notice_or_404(staff: Staff, notice_id: int) -> Notice:
    notice = staff.db.scalar(
        select(Notice)
        .where(Notice.id == notice_id)
        .options(selectinload(Notice.pages).selectinload(NoticePage.media))
    )
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
        select(Verification, NoticePage)
        .join(NoticePage, Verification.notice_page_id == NoticePage.id)
        .where(NoticePage.notice_id == notice.id)
        .options(selectinload(Verification.media))
        .order_by(Verification.checked_at, Verification.id)
    ).all()
    cases = notices_cases(staff, notice)
    context: dict[str, Any] = {
        "active": "takedown",
        "notice": notice,
        "rendered": rendered,
        "deliveries": deliveries,
        "checks": checks,
        "cases": cases,
        "channels": notices.channels_of(notice.platform),
        "can_send": may(staff, "console.notice.send"),
        "can_answer": may(staff, "console.notice.answer") and notice.status.is_open,
        "can_check": verification.is_checked(notice),
        "answers": ANSWERS,
        "overdue": notices.is_overdue(notice, current_time(request)),
        "error": request.query_params.get("error"),
        "message": request.query_params.get("done"),
    }
    return page(request, "console/notice.html", context)


def notices_cases(staff: Staff, notice: Notice) -> list[str]:
    """The numbers of the cases whose pages the notice names, and those it cites (an
    account notice for a cluster's reports of one account)."""
    numbers = {case.number for case in cases_of_pages(staff.db, [p.page_id for p in notice.pages])}
    numbers |= {cited.number for cited in cited_cases(staff.db, notice.id)}
    return sorted(numbers)


@router.post("/notices/{notice_id}/send", name="console.notice.send")
def send_notice(
    request: Request, notice_id: int, staff: Annotated[Staff, permitted("console.notice.send")]
) -> Response:
    notice = _notice_or_404(staff, notice_id)
    try:
        notices.queue_notice(staff.db, notice, actor=_actor(staff), clock=state_of(request).clock)
    except (NoticeError, IllegalTransitionError) as exc:
        staff.db.rollback()
        error = "no-contact" if isinstance(exc, NoticeError) else "not-draft"
        return redirect_to(f"/console/notices/{notice_id}?error={error}")
    staff.db.commit()
    # Send now rather than at the next minute's run.
    state_of(request).huey.reclaim_tasks.takedown.deliver_notices()
    return redirect_to(f"/console/notices/{notice_id}")


@router.post("/notices/{notice_id}/answer", name="console.notice.answer")
def record_answer(
    request: Request,
    notice_id: int,
    staff: Annotated[Staff, permitted("console.notice.answer")],
    *,
    answer: Annotated[str, Form()] = "",
    page: Annotated[list[int] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """What the platform wrote back by email: an acknowledgement, a claim of removal
    (checked at once), or a refusal with its reason, for the chosen pages."""
    notice = _notice_or_404(staff, notice_id)
    policy = _policy(request)
    clock = state_of(request).clock
    if answer not in ANSWERS:
        return redirect_to(f"/console/notices/{notice_id}?error=answer")
    try:
        if answer == "acknowledged":
            answers.acknowledge(
                staff.db, notice, policy, actor=_actor(staff), via=answers.Via.EMAIL, clock=clock
            )
        else:
            outcome = ResolveOutcome.REMOVED if answer == "removed" else ResolveOutcome.REFUSED
            chosen = page or [p.id for p in notice.pages]
            claims = [answers.PageClaim(page_id, outcome, reason) for page_id in chosen]
            answers.resolve(
                staff.db,
                notice,
                claims,
                policy,
                actor=_actor(staff),
                via=answers.Via.EMAIL,
                clock=clock,
            )
    except (answers.AnswerError, IllegalTransitionError) as exc:
        staff.db.rollback()
        code = exc.code if isinstance(exc, answers.AnswerError) else "illegal"
        return redirect_to(f"/console/notices/{notice_id}?error={code}")
    staff.db.commit()
    return redirect_to(f"/console/notices/{notice_id}?done=answer")


@router.post("/notices/{notice_id}/check", name="console.notice.check")
def check_now(
    request: Request, notice_id: int, staff: Annotated[Staff, permitted("console.notice.check")]
) -> Response:
    """Check every page of the notice now (the fetches run outside any transaction)."""
    notice = _notice_or_404(staff, notice_id)
    if not verification.is_checked(notice):
        return redirect_to(f"/console/notices/{notice_id}?error=not-open")
    state = state_of(request)
    verification.check_now(
        staff.db,
        notice.id,
        SafeFetcher(fetch_policy(state.settings)),
        _policy(request),
        requested_by=staff.user.id,
        clock=state.clock,
    )
    staff.db.commit()
    return redirect_to(f"/console/notices/{notice_id}?done=checked")
